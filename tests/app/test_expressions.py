"""Expressions (both databases): the favourites, boosts and replies social voices
earned, summed per stage in the read model and shown by the story, its stage
page and the stage-daily feed as the same whole numbers."""

from __future__ import annotations

import csv
import importlib.util
import io
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from app.ingest.service import run_sync
from app.main import create_app
from app.models import Item, Segment
from app.readmodel.expressions import count_of, expressions_of
from app.readmodel.maintain import rebuild
from app.runtime import build_runtime
from app.settings import Settings
from connectors.base import RawItem
from nlp.enrichment import Enricher
from nlp.journey import Journey
from tests.app.helpers import ListConnector, add_source
from tests.conftest import FIXTURES

ROOT = FIXTURES.parent.parent
START = datetime(2026, 9, 1, 10, tzinfo=UTC)
TEXTS = [
    "I was charged twice this month and nobody answers about the refund.",
    "The engineer never came for the installation.",
    "Setup was easy but my invoice was wrong.",  # onboarding and billing
    "Lovely people, thank you.",
]


def posts() -> list[RawItem]:
    out = []
    for n in range(24):
        attributes: dict[str, Any] = {
            "favourites_count": 3 * n,
            "reblogs_count": n % 5,
            "replies_count": n % 3,
        }
        if n % 6 == 5:  # an export that writes the counts as text, under other names
            attributes = {"like_count": f"{1000 + n:,}", "retweet_count": "2", "reply_count": "x"}
        out.append(
            RawItem(
                external_id=f"p-{n}",
                text=TEXTS[n % len(TEXTS)] + f" #{n}",
                occurred_at=START + timedelta(hours=9 * n),
                author_ref=f"u{n % 9}@example.social",
                channel="social",
                attributes=attributes,
            )
        )
    return out


@pytest.fixture
def client(engine: Engine, enricher: Enricher, journey: Journey) -> Iterator[TestClient]:
    runtime = build_runtime(
        Settings(
            database_url=str(engine.url),
            sources_file=FIXTURES / "app" / "sources.yaml",
            scheduler_enabled=False,
        ),
        engine=engine,
    )
    add_source(engine, channel="social")
    result = run_sync(
        engine,
        source_id="src",
        connector=ListConnector([(posts()[:10], []), (posts()[10:], [])]),
        enricher=enricher,
        journey=journey,
    )
    assert result.inserted == 24
    with TestClient(create_app(runtime=runtime, start_scheduler=False)) as test_client:
        yield test_client


def expected(engine: Engine, day_from: str, day_to: str) -> tuple[list[int], dict[str, list[int]]]:
    """The sums worked out from the stored items and their segments' stages."""
    top = [0, 0, 0]
    per_stage: dict[str, list[int]] = {}
    with Session(engine) as session:
        for item in session.exec(select(Item)).all():
            day = item.occurred_at.astimezone(UTC).date().isoformat()
            if not day_from <= day <= day_to:
                continue
            found = expressions_of(item.attributes or {})
            top = [a + b for a, b in zip(top, found, strict=True)]
            stages = {
                s.stage for s in session.exec(select(Segment).where(Segment.item_id == item.id))
            }
            stages.discard("unassigned")
            for stage in stages | ({item.stage} if item.stage != "unassigned" else set()):
                sums = per_stage.setdefault(stage, [0, 0, 0])
                sums[:] = [a + b for a, b in zip(sums, found, strict=True)]
    return top, per_stage


def as_list(expressions: dict[str, int]) -> list[int]:
    assert expressions["total"] == (
        expressions["favourites"] + expressions["boosts"] + expressions["replies"]
    )
    return [expressions["favourites"], expressions["boosts"], expressions["replies"]]


def test_counts_are_read_from_numbers_and_export_text() -> None:
    assert count_of(12) == 12
    assert count_of(3.0) == 3
    assert count_of("1,204") == 1204
    assert count_of(" 7 ") == 7
    for bad in (-1, 2.5, "x", "", None, True, "٣", [], "-3"):
        assert count_of(bad) is None, bad
    assert count_of(10**15) == 2_000_000_000  # a broken record cannot overflow the sums
    assert expressions_of({"favourites_count": 4, "likes": 99}) == [4, 0, 0]  # first name wins
    assert expressions_of({"favourites_count": "n/a", "likes": 99}) == [99, 0, 0]
    assert expressions_of({"plan": "fibre"}) == [0, 0, 0]


def test_story_shows_each_stages_expressions(client: TestClient, engine: Engine) -> None:
    story = client.get("/api/v1/story").json()
    top, per_stage = expected(engine, "0000", "9999")
    assert as_list(story["expressions"]) == top
    assert top[0] > 3 * 23  # the text counts ("1,005") were read
    shown = {s["key"]: as_list(s["expressions"]) for s in story["stages"]}
    assert {k: v for k, v in shown.items() if any(v)} == per_stage
    assert per_stage.get("billing")
    assert per_stage.get("onboard")


def test_a_period_stage_page_and_feed_agree(client: TestClient, engine: Engine) -> None:
    period = {"from": "2026-09-03", "to": "2026-09-06"}
    story = client.get("/api/v1/story", params=period).json()
    top, per_stage = expected(engine, "2026-09-03", "2026-09-06")
    assert as_list(story["expressions"]) == top
    billing = next(s for s in story["stages"] if s["key"] == "billing")
    assert as_list(billing["expressions"]) == per_stage["billing"]
    page = client.get("/api/v1/stages/billing", params=period).json()
    assert page["expressions"] == billing["expressions"]
    feed = client.get("/api/v1/feeds/stage-daily.csv", params={**period, "stage": "billing"})
    assert feed.status_code == 200
    rows = list(csv.DictReader(io.StringIO(feed.text)))
    summed = [sum(int(r[c]) for r in rows) for c in ("favourites", "boosts", "replies")]
    assert summed == per_stage["billing"]


def test_an_edit_moves_the_counts_and_a_rebuild_agrees(
    client: TestClient, engine: Engine, enricher: Enricher, journey: Journey
) -> None:
    with engine.begin() as conn:
        conn.execute(text("UPDATE sources SET cursor = NULL"))
    edited = posts()
    edited[0] = replace(edited[0], attributes={"favourites_count": 500})
    result = run_sync(
        engine,
        source_id="src",
        connector=ListConnector([(edited, [])]),
        enricher=enricher,
        journey=journey,
    )
    assert result.updated == 1
    top, _ = expected(engine, "0000", "9999")
    assert as_list(client.get("/api/v1/story").json()["expressions"]) == top
    before = client.get("/api/v1/story").json()
    rebuild(engine)
    assert client.get("/api/v1/story").json() == before


def test_the_upgrade_fills_the_sums_from_the_stored_voices(
    client: TestClient, engine: Engine
) -> None:
    before = client.get("/api/v1/story").json()
    assert before["expressions"]["total"] > 0
    with engine.begin() as conn:
        for table in ("stage_daily", "item_daily"):
            conn.execute(text(f"UPDATE {table} SET favourites = 0, boosts = 0, replies = 0"))
    restarted(engine)  # as after an upgrade: no answer kept from before the tables changed
    assert client.get("/api/v1/story").json()["expressions"]["total"] == 0
    path = next((ROOT / "migrations" / "versions").glob("*_expressions.py"))
    spec = importlib.util.spec_from_file_location("expressions_migration", path)
    assert spec is not None
    assert spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    with engine.begin() as conn:
        assert migration.backfill(conn) > 0
    restarted(engine)
    assert client.get("/api/v1/story").json() == before


def restarted(engine: Engine) -> None:
    """The API's kept answers forgotten, as a service started after a migration
    has none (a migration writes the tables behind the change counters' back; the
    answers kept for the replicas are keyed by the schema head it moves)."""
    from app.story.router import ANSWERS
    from app.web.router import PAGES

    ANSWERS.clear()
    PAGES.clear()
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM kept_answers"))
