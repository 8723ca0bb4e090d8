"""The read model: written with the items, exactly what a rebuild from the items gives."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from app.ingest.reenrich import reenrich, stale_count
from app.ingest.service import run_sync
from app.readmodel.maintain import READ_MODEL_TABLES, rebuild
from connectors.base import RawItem
from nlp.enrichment import Enricher
from nlp.journey import Journey, load_journey
from nlp.pipeline import build_enricher
from tests.app.helpers import ListConnector, add_source

DAY = datetime(2026, 9, 1, 9, tzinfo=UTC)
TEXTS = [
    "Setup was easy but the invoice was wrong.",
    "The engineer never came and nobody called back.",
    "I was charged twice this month and the refund has not arrived.",
    "Great service, I recommend you to everyone.",
    "Good service",
    "The app crashes every evening.",
    "Renewal price went up without warning so I am leaving.",
]


def record(n: int, **changes: Any) -> RawItem:
    base = RawItem(
        external_id=f"r-{n}",
        text=TEXTS[n % len(TEXTS)] + f" (#{n})",
        occurred_at=DAY + timedelta(hours=7 * n),
        rating=[float(n % 11), float(n % 11), float(1 + n % 5), float(1 + n % 7)][n % 4]
        if n % 5
        else None,
        rating_scale=["nps_0_10", "nps_0_10", "csat_1_5", "ces_1_7"][n % 4] if n % 5 else None,
        author_ref=f"c-{n % 5}" if n % 3 else None,
        channel=["survey", "call"][n % 2],
        attributes={"plan": ["fibre", "copper"][n % 2]},
    )
    return replace(base, **changes)


def snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    out: dict[str, list[tuple[Any, ...]]] = {}
    with engine.connect() as conn:
        for name in READ_MODEL_TABLES:
            table = SQLModel.metadata.tables[name]
            columns = [c for c in table.columns if c.name not in ("id", "updated_at")]
            rows = conn.execute(select(*columns)).all()
            out[name] = sorted((tuple(r) for r in rows), key=repr)
    return out


def test_incremental_read_model_equals_a_rebuild_after_edits(
    engine: Engine, enricher: Enricher, journey: Journey
) -> None:
    add_source(engine)
    first = [record(n) for n in range(40)]
    run_sync(
        engine,
        source_id="src",
        connector=ListConnector([(first[:20], []), (first[20:], [])]),
        enricher=enricher,
        journey=journey,
    )
    with engine.begin() as conn:
        conn.execute(text("UPDATE sources SET cursor = NULL"))
    edited = [
        record(
            n,
            text="Setup was easy and the engineer was lovely.",
            rating=10.0,
            rating_scale="nps_0_10",
        )
        if n % 4 == 0
        else record(n)
        for n in range(40)
    ]
    result = run_sync(
        engine,
        source_id="src",
        connector=ListConnector([(edited, [])]),
        enricher=enricher,
        journey=journey,
    )
    assert result.updated == 10
    incremental = snapshot(engine)
    assert incremental["voice_facts"]
    assert incremental["stage_daily"]
    assert incremental["daily_customers"]
    assert incremental["stage_daily_themes"]
    assert sum(1 for _ in incremental["item_daily"]) > 0
    rebuilt_items = rebuild(engine, chunk=7)
    assert rebuilt_items == 40
    assert snapshot(engine) == incremental


def test_rollups_count_each_item_once_per_stage_in_whole_numbers(
    engine: Engine, enricher: Enricher, journey: Journey
) -> None:
    add_source(engine)
    items = [record(n) for n in range(21)]
    run_sync(
        engine,
        source_id="src",
        connector=ListConnector([(items, [])]),
        enricher=enricher,
        journey=journey,
    )
    with engine.connect() as conn:
        item_voices = conn.execute(
            text(
                "SELECT SUM(voices), SUM(nps_answers), SUM(promoters) + SUM(passives) + SUM(detractors) FROM item_daily"
            )
        ).one()
        facts = conn.execute(text("SELECT COUNT(*) FROM voice_facts")).scalar_one()
        stage_voices = conn.execute(text("SELECT SUM(voices) FROM stage_daily")).scalar_one()
        labels = conn.execute(
            text("SELECT SUM(negative + neutral + positive) FROM stage_daily")
        ).scalar_one()
    assert item_voices[0] == 21
    nps_items = sum(1 for i in items if i.rating_scale == "nps_0_10")
    assert item_voices[1] == item_voices[2] == nps_items
    assert stage_voices == facts == labels
    assert facts >= 21


def test_reenrich_moves_stale_items_to_the_running_pipeline(
    engine: Engine, enricher: Enricher, journey: Journey, tmp_path: Path
) -> None:
    add_source(engine)
    items = [record(n) for n in range(12)]
    run_sync(
        engine,
        source_id="src",
        connector=ListConnector([(items, [])]),
        enricher=enricher,
        journey=journey,
    )
    edited = tmp_path / "journey.yaml"
    edited.write_text("extends: default\nnever_themes: [invoice, refund, router]\n")
    other = build_enricher(load_journey(edited))
    assert other.version != enricher.version
    assert stale_count(engine, version=other.version) == 12
    seen: list[int] = []
    done = reenrich(engine, enricher=other, batch_size=5, on_batch=lambda p: seen.append(p.done))
    assert done == 12
    assert seen == [5, 10, 12]
    assert stale_count(engine, version=other.version) == 0
    with engine.connect() as conn:
        themes = conn.execute(text("SELECT theme FROM stage_daily_themes")).scalars().all()
        versions = set(conn.execute(text("SELECT nlp_version FROM items")).scalars())
    assert "invoice" not in themes
    assert versions == {other.version[:64]}
    incremental = snapshot(engine)
    rebuild(engine)
    assert snapshot(engine) == incremental
    assert reenrich(engine, enricher=other) == 0  # nothing left: resumable, idempotent


def test_all_time_customers_match_the_daily_rows(
    engine: Engine, enricher: Enricher, journey: Journey
) -> None:
    from datetime import date

    from sqlmodel import Session

    from app.story import repository
    from app.story.repository import Slice

    add_source(engine)
    items = [record(n) for n in range(30)]
    run_sync(
        engine,
        source_id="src",
        connector=ListConnector([(items, [])]),
        enricher=enricher,
        journey=journey,
    )
    with engine.begin() as conn:
        conn.execute(text("UPDATE sources SET cursor = NULL"))
    edited = [record(n, author_ref="someone-new") if n < 5 else record(n) for n in range(30)]
    run_sync(
        engine,
        source_id="src",
        connector=ListConnector([(edited, [])]),
        enricher=enricher,
        journey=journey,
    )
    with Session(engine) as session:
        conn = session.connection()
        kept = repository.customers(conn, Slice())
        scanned = repository.customers(conn, Slice(date(1990, 1, 1), date(2100, 1, 1)))
    assert kept == scanned
    assert kept[""] == len({i.author_ref for i in edited if i.author_ref})


def test_customer_sets_count_exactly_the_daily_rows_for_random_periods(
    engine: Engine, enricher: Enricher, journey: Journey
) -> None:
    """The bitmaps answer what a distinct count over `daily_customers` answers, for
    any period and source, after edits that move voices between customers."""
    import random
    from datetime import date, timedelta

    from sqlalchemy import func

    from app.readmodel import customer_sets
    from app.story.repository import Slice

    add_source(engine)
    items = [record(n, author_ref=f"c-{n % 9}") for n in range(60)]
    run_sync(
        engine,
        source_id="src",
        connector=ListConnector([(items, [])]),
        enricher=enricher,
        journey=journey,
    )
    with engine.begin() as conn:
        conn.execute(text("UPDATE sources SET cursor = NULL"))
    edited = [record(n, author_ref=f"d-{n % 4}") if n % 3 == 0 else items[n] for n in range(60)]
    run_sync(
        engine,
        source_id="src",
        connector=ListConnector([(edited, [])]),
        enricher=enricher,
        journey=journey,
    )
    daily = SQLModel.metadata.tables["daily_customers"]
    sets = SQLModel.metadata.tables["customer_sets"]
    rng = random.Random(3)
    with engine.connect() as conn:
        days = sorted({r[0] for r in conn.execute(select(daily.c.day).distinct())})
        assert len(days) > 3
        for _ in range(20):
            start = rng.choice(days)
            where = Slice(start, start + timedelta(days=rng.randrange(1, 5)))
            truth = {
                stage: int(n)
                for stage, n in conn.execute(
                    select(daily.c.stage, func.count(func.distinct(daily.c.customer)))
                    .where(*where.where(daily))
                    .group_by(daily.c.stage)
                )
            }
            assert customer_sets.union_sizes(conn, where.where(sets)) == truth
        whole = Slice(date(1990, 1, 1), date(2100, 1, 1))
        assert customer_sets.union_sizes(conn, whole.where(sets))[""] == len(
            {i.author_ref for i in edited}
        )


def test_all_time_themes_equal_the_daily_theme_rows_after_edits(
    engine: Engine, enricher: Enricher, journey: Journey
) -> None:
    from datetime import date

    from app.story import repository
    from app.story.repository import Slice

    add_source(engine)
    items = [record(n) for n in range(30)]
    run_sync(
        engine,
        source_id="src",
        connector=ListConnector([(items, [])]),
        enricher=enricher,
        journey=journey,
    )
    with engine.begin() as conn:
        conn.execute(text("UPDATE sources SET cursor = NULL"))
    edited = [
        record(n, text="The app crashes every evening and support never answers.")
        if n % 4 == 0
        else items[n]
        for n in range(30)
    ]
    run_sync(
        engine,
        source_id="src",
        connector=ListConnector([(edited, [])]),
        enricher=enricher,
        journey=journey,
    )
    with engine.connect() as conn:
        kept = repository.themes(conn, Slice())
        summed = repository.themes(conn, Slice(date(1990, 1, 1), date(2100, 1, 1)))
    assert kept
    assert kept == summed
