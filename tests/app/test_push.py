"""The push endpoint (both databases): records posted by forms and webhooks get the
same dedupe, quarantine and transaction rules as a sync, an answer per record, and
posting again stores nothing twice."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.main import create_app
from app.models import Item, QuarantinedRecord
from app.runtime import build_runtime
from app.settings import Settings
from tests.app.helpers import admin_headers
from tests.conftest import FIXTURES

PUSH = """
  - id: web-form
    name: Feedback form on the website
    kind: push
    config:
      max_records: 5
      rating_scale: csat_1_5
"""


def _client(engine: Engine, tmp_path: Path, **settings: object) -> TestClient:
    fixtures = FIXTURES / "app"
    sources = tmp_path / "sources.yaml"
    text = (fixtures / "sources.yaml").read_text(encoding="utf-8")
    # relative paths of the fixture sources resolve against the fixture folder
    text = text.replace("path: survey/", f"path: {fixtures}/survey/").replace(
        "path: notes", f"path: {fixtures}/notes"
    )
    sources.write_text(text.replace("sources:\n", "sources:\n" + PUSH, 1), encoding="utf-8")
    runtime = build_runtime(
        Settings(
            database_url=str(engine.url),
            sources_file=sources,
            scheduler_enabled=False,
            **settings,  # type: ignore[arg-type]
        ),
        engine=engine,
    )
    test_client = TestClient(create_app(runtime=runtime, start_scheduler=False))
    test_client.headers.update(admin_headers(runtime.engine))
    return test_client


@pytest.fixture
def client(engine: Engine, tmp_path: Path) -> Iterator[TestClient]:
    with _client(engine, tmp_path) as test_client:
        yield test_client


def stored(engine: Engine) -> int:
    with Session(engine) as session:
        return int(session.execute(select(func.count()).select_from(Item)).scalar_one())


RECORDS = [
    {"id": "f-1", "text": "The checkout page kept failing at the payment step.", "rating": 2},
    {"id": 2, "text": "Delivery came a day early, great.", "occurred_at": "2026-09-01T10:00:00Z"},
    {"id": "f-3", "text": ""},  # no words: refused on its own
    {"text": "No id at all"},
    {"id": "f-5", "text": "Setup was easy.", "rating": 9},  # 9 is not on csat_1_5
]


def test_posted_records_are_stored_once_with_an_answer_each(
    client: TestClient, engine: Engine
) -> None:
    first = client.post("/api/v1/sources/web-form/items", json=RECORDS)
    assert first.status_code == 200, first.text
    body = first.json()
    statuses = [(r["index"], r["status"]) for r in body["records"]]
    assert statuses == [
        (0, "inserted"),
        (1, "inserted"),
        (2, "rejected"),
        (3, "rejected"),
        (4, "rejected"),
    ]
    assert all(r["reason"] for r in body["records"] if r["status"] == "rejected")
    assert "csat_1_5" in body["records"][4]["reason"]
    assert body["run"]["trigger"] == "push"
    assert (body["run"]["inserted"], body["run"]["rejected"]) == (2, 3)
    assert stored(engine) == 2
    with Session(engine) as session:
        kept = session.execute(
            select(func.count())
            .select_from(QuarantinedRecord)
            .where(QuarantinedRecord.source_id == "web-form")
        ).scalar_one()
    assert kept == 3  # nothing lost: every refused record is in quarantine with its reason
    again = client.post("/api/v1/sources/web-form/items", json={"items": RECORDS[:2]}).json()
    assert [r["status"] for r in again["records"]] == ["duplicate", "duplicate"]
    assert stored(engine) == 2
    edited = client.post(
        "/api/v1/sources/web-form/items",
        json=[{**RECORDS[0], "text": "The checkout page failed twice at payment."}],
    ).json()
    assert [r["status"] for r in edited["records"]] == ["updated"]
    assert stored(engine) == 2
    story = client.get("/api/v1/story", params={"source": "web-form"}).json()
    assert story["voices"] == 2


@pytest.mark.parametrize(
    ("source", "body", "status", "words"),
    [
        ("web-form", "not json", 400, "not JSON"),
        ("web-form", '{"records": 1}', 422, "array"),
        ("web-form", [{"id": n, "text": "x"} for n in range(6)], 413, "at most 5"),
        ("pulse-survey", [], 409, "push"),
        ("nowhere", [], 404, "nowhere"),
    ],
)
def test_bad_pushes_get_a_4xx_with_a_message(
    client: TestClient, engine: Engine, source: str, body: object, status: int, words: str
) -> None:
    if isinstance(body, str):
        response = client.post(
            f"/api/v1/sources/{source}/items",
            content=body,
            headers={"Content-Type": "application/json"},
        )
    else:
        response = client.post(f"/api/v1/sources/{source}/items", json=body)
    assert response.status_code == status
    assert words in response.json()["detail"]
    assert stored(engine) == 0


def test_posts_at_the_same_moment_are_stored_one_after_the_other(
    client: TestClient, engine: Engine
) -> None:
    """A webhook sender posting in parallel: each post waits for the one before it
    (the source's lock), none is refused as busy."""
    import threading

    barrier = threading.Barrier(4)
    answers: list[int] = []

    def post(n: int) -> None:
        body = [{"id": f"p{n}-{i}", "text": f"Order {n}-{i} arrived on time."} for i in range(5)]
        barrier.wait()
        answers.append(client.post("/api/v1/sources/web-form/items", json=body).status_code)

    threads = [threading.Thread(target=post, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert answers == [200, 200, 200, 200]
    assert stored(engine) == 20


def test_the_story_asked_again_after_each_push_has_the_push_in_it(client: TestClient) -> None:
    """The story's JSON is kept per state of the read model: every push is a new
    state, so a story asked after it counts it (and its CSAT answer), whatever was
    kept before; asking again without a write gives the same answer."""
    period = {"from": "2026-09-01", "to": "2026-09-30", "source": "web-form"}
    assert client.get("/api/v1/story", params=period).json()["voices"] == 0
    for n in range(1, 4):
        record = {
            "id": f"s-{n}",
            "text": "The invoice was wrong again." if n % 2 else "Support sorted it quickly.",
            "rating": n,
            "occurred_at": f"2026-09-0{n}T09:00:00Z",
        }
        assert client.post("/api/v1/sources/web-form/items", json=[record]).status_code == 200
        story = client.get("/api/v1/story", params=period).json()
        assert story["voices"] == n
        assert story["csat"]["answers"] == n
        assert client.get("/api/v1/story", params=period).json() == story


def test_the_pages_asked_again_after_each_push_have_the_push_in_it(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The leadership pages are kept per state like the story: made once while
    nothing is written, made again by the first request after a push."""
    import app.web.router as pages
    from tests.web.helpers import figures, number

    made: list[str] = []
    build = pages.build_stage_view

    def counted(*args: object, **kwargs: object) -> object:
        made.append(str(kwargs["key"]))
        return build(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(pages, "build_stage_view", counted)
    period = {"from": "2026-09-01", "to": "2026-09-30", "source": "web-form"}
    assert client.get("/stages/billing", params=period).status_code == 200
    for n in range(1, 3):
        record = {
            "id": f"p-{n}",
            "text": "The invoice was wrong again.",
            "rating": 1,
            "occurred_at": f"2026-09-0{n}T09:00:00Z",
        }
        assert client.post("/api/v1/sources/web-form/items", json=[record]).status_code == 200
        first = client.get("/stages/billing", params=period)
        again = client.get("/stages/billing", params=period)
        assert first.status_code == again.status_code == 200
        assert number(figures(first.text)["voices"]) == n
        assert again.text == first.text
    assert made == ["billing"] * 3  # once before the pushes, once after each


def test_with_a_bounded_staleness_a_push_shows_once_the_kept_answer_is_that_old(
    engine: Engine, tmp_path: Path
) -> None:
    """`LP_ANSWER_STALE_SECONDS`: under a stream of pushes the story is remade at most
    that often, and says its age; at the default every push shows at once (above)."""
    period = {"from": "2026-09-01", "to": "2026-09-30", "source": "web-form"}
    with _client(engine, tmp_path, answer_stale_seconds=1.0) as client:
        asked = time.monotonic()
        before = client.get("/api/v1/story", params=period)
        assert before.json()["voices"] == 0
        record = {
            "id": "late",
            "text": "Support sorted it quickly.",
            "rating": 5,
            "occurred_at": "2026-09-02T09:00:00Z",
        }
        assert client.post("/api/v1/sources/web-form/items", json=[record]).status_code == 200
        kept = client.get("/api/v1/story", params=period)
        if time.monotonic() - asked < 0.9:  # a slow machine may take longer than that
            assert kept.headers["x-made-at"] == before.headers["x-made-at"]
            assert kept.json()["voices"] == 0
        time.sleep(1.05)
        fresh = client.get("/api/v1/story", params=period)
        assert fresh.json()["voices"] == 1
        assert fresh.headers["age"] == "0"
        assert fresh.headers["x-made-at"] > before.headers["x-made-at"]


def test_a_bounded_stage_daily_feed_is_kept_per_state_and_shows_each_push(
    client: TestClient,
) -> None:
    """A BI tool's pull of a bounded period is kept like the story; an open period
    streams each time. Either way a push shows in the next pull."""
    bounded = {"from": "2026-09-01", "to": "2026-09-30", "source": "web-form"}
    for n in range(1, 3):
        record = {
            "id": f"feed-{n}",
            "text": "The invoice was wrong again.",
            "rating": 1,
            "occurred_at": f"2026-09-0{n}T09:00:00Z",
        }
        assert client.post("/api/v1/sources/web-form/items", json=[record]).status_code == 200
        first = client.get("/api/v1/feeds/stage-daily.csv", params=bounded)
        again = client.get("/api/v1/feeds/stage-daily.csv", params=bounded)
        assert first.status_code == again.status_code == 200
        assert "x-made-at" in first.headers
        assert again.headers["x-made-at"] == first.headers["x-made-at"]
        assert again.text == first.text
        rows = list(csv.DictReader(io.StringIO(first.text)))
        assert sum(int(r["voices"]) for r in rows) == n
        open_ended = client.get("/api/v1/feeds/stage-daily.csv", params={"source": "web-form"})
        assert "x-made-at" not in open_ended.headers
        assert open_ended.text == first.text
