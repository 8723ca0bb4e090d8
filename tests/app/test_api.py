from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from app.runtime import Runtime
from tests.conftest import DEFAULT_STAGE_KEYS

DEFAULT_STAGES = list(DEFAULT_STAGE_KEYS)


def test_health(client: TestClient) -> None:
    body = client.get("/health").json()
    assert body["status"] == "ok"
    assert body["nlp_version"]


def test_journey_lists_stages_in_order(client: TestClient) -> None:
    stages = client.get("/api/v1/journey").json()["stages"]
    assert [s["key"] for s in stages] == DEFAULT_STAGES
    assert [s["order"] for s in stages] == list(range(8))


def test_journey_says_how_many_stored_items_an_edit_left_stale(
    client: TestClient, runtime: Runtime
) -> None:
    fresh = client.get("/api/v1/journey").json()
    assert fresh["nlp_version"] == runtime.enricher.version
    assert fresh["stale_items"] == 0
    with runtime.engine.begin() as conn:  # as if read before a journey edit
        conn.execute(text("UPDATE items SET nlp_version = 'lp-before-edit' WHERE id % 2 = 0"))
        stale = conn.execute(text("SELECT count(*) FROM items WHERE id % 2 = 0")).scalar()
    assert stale
    assert client.get("/api/v1/journey").json()["stale_items"] == stale
    runtime.jobs.reenrich()
    assert client.get("/api/v1/journey").json()["stale_items"] == 0


def test_story_has_every_stage_with_whole_numbers(client: TestClient) -> None:
    story = client.get("/api/v1/story").json()
    assert [s["key"] for s in story["stages"]] == DEFAULT_STAGES
    for stage in story["stages"]:
        assert isinstance(stage["voices"], int)
        # customers: a whole number, or null (not 0) when no voice has a known customer
        assert stage["customers"] is None or 0 < stage["customers"] <= stage["voices"]
        mix = stage["sentiment"]
        assert mix["negative"] + mix["neutral"] + mix["positive"] == stage["voices"]
        assert sum(stage["channels"].values()) == stage["voices"]
    by_key = {s["key"]: s for s in story["stages"]}
    # the survey's onboarding answers carry a stage hint, and field notes speak of setup too
    assert by_key["onboard"]["voices"] >= 2
    assert by_key["billing"]["voices"] >= 2
    assert by_key["billing"]["sentiment"]["negative"] >= 1
    assert any(r["scale"] == "nps_0_10" for s in story["stages"] for r in s["ratings"])
    assert by_key["billing"]["quotes"]
    assert story["voices"] >= sum(1 for s in story["stages"] if s["voices"])


def test_story_date_range(client: TestClient) -> None:
    everything = client.get("/api/v1/story").json()["voices"]
    early = client.get("/api/v1/story", params={"from": "2026-09-01", "to": "2026-09-02"}).json()
    assert 0 < early["voices"] < everything
    wide = client.get("/api/v1/story", params={"from": "0001-01-01", "to": "9999-12-31"})
    assert wide.json()["voices"] == everything
    none = client.get("/api/v1/story", params={"from": "2030-01-01"}).json()
    assert none["voices"] == 0
    assert all(s["voices"] == 0 and s["sentiment"]["mean"] is None for s in none["stages"])


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"from": "yesterday"}, "'from' must be a date"),
        ({"from": "2026-10-01", "to": "2026-09-01"}, "must be before"),
        ({"from": "0001-01-01", "to": "0001-03-31", "compare": "previous"}, "one before it"),
        ({"from": "0001-02-01", "to": "0001-05-31", "compare": "year"}, "one before it"),
        ({"from": "2026-01-01", "to": "9999-12-31", "compare": "previous"}, "9999-12-31"),
    ],
)
def test_story_bad_parameters_are_400(
    client: TestClient, params: dict[str, str], fragment: str
) -> None:
    response = client.get("/api/v1/story", params=params)
    assert response.status_code == 400
    assert fragment in response.json()["detail"]


def test_items_pagination_walks_everything_once(client: TestClient) -> None:
    seen: list[int] = []
    cursor = None
    while True:
        params = {"limit": 3} | ({"cursor": cursor} if cursor else {})
        page = client.get("/api/v1/items", params=params).json()
        seen.extend(item["id"] for item in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    everything = client.get("/api/v1/items", params={"limit": 500}).json()
    assert len(seen) == len(set(seen)) == len(everything["items"])
    times = [i["occurred_at"] for i in everything["items"]]
    assert times == sorted(times, reverse=True)


def test_items_filters(client: TestClient) -> None:
    billing = client.get("/api/v1/items", params={"stage": "billing"}).json()["items"]
    assert billing
    assert all("billing" in item["stages"] for item in billing)
    notes = client.get("/api/v1/items", params={"channel": "ethnography"}).json()["items"]
    assert notes
    assert {i["source"] for i in notes} == {"field-notes"}
    negative = client.get("/api/v1/items", params={"sentiment": "negative"}).json()["items"]
    assert all(i["sentiment"]["label"] == "negative" for i in negative)
    found = client.get("/api/v1/items", params={"q": "CHARGED TWICE"}).json()["items"]
    assert [i["external_id"] for i in found] == ["r-002:why"]
    assert client.get("/api/v1/items", params={"q": "100%_"}).json()["items"] == []
    september = client.get(
        "/api/v1/items", params={"from": "2026-09-05", "to": "2026-09-05"}
    ).json()
    assert {i["external_id"] for i in september["items"]} == {"r-004:why"}


def test_items_no_personal_data(client: TestClient) -> None:
    found = client.get("/api/v1/items", params={"q": "cancel"}).json()["items"]
    assert found
    assert all("7946" not in item["text"] for item in found)


@pytest.mark.parametrize(
    ("params", "status", "fragment"),
    [
        ({"stage": "nowhere"}, 400, "the journey's stages are"),
        ({"cursor": "not-a-cursor"}, 400, "cursor"),
        ({"limit": 0}, 422, "limit"),
        ({"limit": 100000}, 400, "at most"),
        ({"sentiment": "angry"}, 422, "sentiment"),
        ({"from": "2026-13-45"}, 400, "'from'"),
        (
            {"cursor": "WyIyMDI2LTA5LTAxVDAwOjAwOjAwKzAwOjAwIiwgOTk5OTk5OTk5OTk5OTk5XQ"},
            400,
            "cursor",
        ),
        ({"q": "a\x00b"}, 400, "NUL"),
        ({"from": "2026-09-01T00:00:00+99:00"}, 400, "'from'"),
    ],
)
def test_items_bad_parameters(
    client: TestClient, params: dict[str, object], status: int, fragment: str
) -> None:
    response = client.get("/api/v1/items", params=params)
    assert response.status_code == status
    assert fragment in response.json()["detail"]


def test_item_detail_has_segments(client: TestClient) -> None:
    first = client.get("/api/v1/items", params={"q": "installer"}).json()["items"][0]
    detail = client.get(f"/api/v1/items/{first['id']}").json()
    assert detail["segments"]
    for seg in detail["segments"]:
        assert detail["text"][seg["start"] : seg["end"]] == seg["text"]
    assert detail["stage"]["stage"] == "onboard"  # the setup question's hint
    assert client.get("/api/v1/items/999999").status_code == 404
    assert client.get("/api/v1/items/abc").status_code == 422
    assert client.get("/api/v1/items/99999999999999999999").status_code == 422


def test_sources_runs_and_quarantine(client: TestClient) -> None:
    sources = {s["id"]: s for s in client.get("/api/v1/sources").json()}
    assert set(sources) == {"pulse-survey", "field-notes"}
    assert sources["pulse-survey"]["status"] == "ok"
    runs = client.get("/api/v1/sources/pulse-survey/runs").json()
    assert runs[0]["status"] == "succeeded"
    assert runs[0]["rejected"] == 2
    quarantine = client.get("/api/v1/quarantine", params={"source": "pulse-survey"}).json()
    assert len(quarantine) == 2
    assert all(q["reason"] for q in quarantine)
    assert client.get("/api/v1/sources/nope").status_code == 404
    assert client.get("/api/v1/sources/nope/runs").status_code == 404
    assert client.get("/api/v1/quarantine", params={"source": "nope"}).status_code == 404


def test_sync_now_inserts_nothing_new(client: TestClient) -> None:
    before = len(client.get("/api/v1/items", params={"limit": 500}).json()["items"])
    run = client.post("/api/v1/sources/pulse-survey/sync").json()
    assert run["status"] == "succeeded"
    assert run["inserted"] == 0
    after = len(client.get("/api/v1/items", params={"limit": 500}).json()["items"])
    assert before == after
    assert client.post("/api/v1/sources/nope/sync").status_code == 404


def test_openapi_docs(client: TestClient) -> None:
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/api/v1/story", "/api/v1/items", "/api/v1/items/{item_id}", "/api/v1/journey"} <= set(
        paths
    )
