"""Request guards (both databases): a mistake is a 400 that says what to fix."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_an_unknown_query_parameter_is_refused_with_the_known_ones(client: TestClient) -> None:
    answer = client.get("/api/v1/items", params={"rating": "0"})
    assert answer.status_code == 400
    detail = answer.json()["detail"]
    assert "'rating'" in detail
    assert "rating_min" in detail
    assert "attr.NAME" in detail
    assert client.get("/api/v1/items", params={"attr.plan": "fibre"}).status_code == 200
    journey = client.get("/api/v1/journey", params={"x": "1"})
    assert journey.status_code == 400
    assert "no query parameters" in journey.json()["detail"]


def test_no_parameter_takes_fifty_thousand_characters(client: TestClient) -> None:
    answer = client.get("/api/v1/items", params={"customer": "c" * 50_000})
    assert answer.status_code == 400
    assert "50000 characters" in answer.json()["detail"]


def test_a_wrong_method_says_what_is_allowed(client: TestClient) -> None:
    answer = client.delete("/api/v1/story")
    assert answer.status_code == 405
    assert answer.headers["allow"] == "GET"


def test_the_openapi_documents_the_errors_and_the_journeys_stages(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    story = spec["paths"]["/api/v1/story"]["get"]
    assert {"400", "401", "403", "404", "422"} <= set(story["responses"])
    stage = spec["paths"]["/api/v1/stages/{key}"]["get"]["parameters"]
    key = next(p for p in stage if p["name"] == "key")
    journey = client.get("/api/v1/journey").json()
    assert key["schema"]["enum"] == [s["key"] for s in journey["stages"]]
    feed = spec["paths"]["/api/v1/feeds/items"]["get"]["responses"]["200"]["content"]
    assert "text/csv" in feed


def test_a_database_errors_log_line_has_no_sql_nor_values() -> None:
    import io
    import logging

    from sqlalchemy.exc import IntegrityError

    from app.security.logs import SafeRecords

    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.addFilter(SafeRecords())
    logger = logging.getLogger("tests.safe_records")
    logger.addHandler(handler)
    try:
        raise IntegrityError(
            "INSERT INTO items (author_ref) VALUES (%(a)s)",
            {"a": "mary.jones@example.com"},
            Exception("duplicate key"),
        )
    except IntegrityError:
        logger.exception("sync of %s failed", "src")
    finally:
        logger.removeHandler(handler)
    line = out.getvalue()
    assert "sync of src failed" in line
    assert "IntegrityError" in line
    assert "INSERT" not in line
    assert "mary.jones" not in line
