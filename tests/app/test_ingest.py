from __future__ import annotations

import threading
from dataclasses import replace

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from app.ingest import service as ingest_service
from app.ingest.locks import SourceBusyError, source_lock
from app.ingest.service import run_sync
from app.models import Item, QuarantinedRecord, Segment, Source, SyncRun
from connectors.base import RejectedRecord
from nlp.enrichment import Enricher
from nlp.journey import Journey
from tests.app.helpers import FailingEnricher, ListConnector, add_source, raw


def count(engine: Engine, model: type) -> int:
    with Session(engine) as session:
        return int(session.exec(select(func.count()).select_from(model)).one())


def sync(engine: Engine, connector: ListConnector, enricher: Enricher, journey: Journey):  # type: ignore[no-untyped-def]
    return run_sync(
        engine, source_id="src", connector=connector, enricher=enricher, journey=journey
    )


def test_sync_stores_items_segments_and_cursor(
    engine: Engine, enricher: Enricher, journey: Journey
) -> None:
    add_source(engine)
    connector = ListConnector([([raw(1), raw(2)], []), ([raw(3)], [])])
    result = sync(engine, connector, enricher, journey)
    assert result.status == "succeeded"
    assert (result.fetched, result.inserted, result.duplicates, result.rejected) == (3, 3, 0, 0)
    assert count(engine, Item) == 3
    assert count(engine, Segment) >= 3
    with Session(engine) as session:
        source = session.get(Source, "src")
        assert source is not None
        assert source.cursor == {"batches": 2}
        assert source.status == "ok"
        item = session.exec(select(Item).where(Item.external_id == "x-1")).one()
        assert item.channel == "survey"
        assert item.occurred_at.tzinfo is not None
        assert item.nlp_version == enricher.version
        stages = {s.stage for s in session.exec(select(Segment).where(Segment.item_id == item.id))}
        # one item, two stages: "setup was easy" and "invoice was wrong"
        assert {"onboard", "billing"} <= stages


def test_resync_inserts_nothing(engine: Engine, enricher: Enricher, journey: Journey) -> None:
    add_source(engine)
    batches = [([raw(1), raw(2)], []), ([raw(3)], [])]
    sync(engine, ListConnector(batches), enricher, journey)
    again = sync(engine, ListConnector(batches), enricher, journey)
    assert again.inserted == 0
    # forget the cursor: every record comes again, and dedupe absorbs all of them
    with Session(engine) as session:
        source = session.get(Source, "src")
        assert source is not None
        source.cursor = None
        session.add(source)
        session.commit()
    replay = sync(engine, ListConnector(batches), enricher, journey)
    assert (replay.fetched, replay.inserted, replay.duplicates) == (3, 0, 3)
    assert count(engine, Item) == 3


def test_crash_between_batches_loses_nothing(
    engine: Engine, enricher: Enricher, journey: Journey
) -> None:
    add_source(engine)
    batches = [([raw(i) for i in range(b * 4, b * 4 + 4)], []) for b in range(5)]
    crashed = sync(engine, ListConnector(batches, crash_after=2), enricher, journey)
    assert crashed.status == "failed"
    assert "Crash" in (crashed.error or "")
    assert count(engine, Item) == 8
    with Session(engine) as session:
        source = session.get(Source, "src")
        assert source is not None
        assert source.cursor == {"batches": 2}
        assert source.status == "failing"
    resumed = sync(engine, ListConnector(batches), enricher, journey)
    assert resumed.status == "succeeded"
    assert resumed.inserted == 12
    assert resumed.duplicates == 0
    with Session(engine) as session:
        ids = session.exec(select(Item.external_id)).all()
    assert sorted(ids) == sorted(f"x-{i}" for i in range(20))


def test_fault_inside_a_batch_rolls_the_whole_batch_back(
    engine: Engine, enricher: Enricher, journey: Journey
) -> None:
    add_source(engine)
    batches = [([raw(1), raw(2)], []), ([raw(3), raw(4)], [])]
    failing = FailingEnricher(enricher, fail_on_call=2)
    result = sync(engine, ListConnector(batches), failing, journey)
    assert result.status == "failed"
    assert "disk full" in (result.error or "")
    with Session(engine) as session:
        assert sorted(session.exec(select(Item.external_id)).all()) == ["x-1", "x-2"]
        source = session.get(Source, "src")
        assert source is not None
        assert source.cursor == {"batches": 1}
    assert sync(engine, ListConnector(batches), enricher, journey).inserted == 2
    assert count(engine, Item) == 4


def test_bad_records_are_quarantined_redacted_and_counted(
    engine: Engine, enricher: Enricher, journey: Journey
) -> None:
    add_source(engine)
    rejected = RejectedRecord(
        reason="date 'yesterday' is not ISO 8601",
        excerpt="r-9,yesterday,mail me at jane.doe@example.com",
        external_id="r-9",
        location="survey.csv:row 9",
    )
    empty = raw(2, text="   ")
    result = sync(engine, ListConnector([([raw(1), empty], [rejected])]), enricher, journey)
    assert result.status == "succeeded"
    assert (result.inserted, result.rejected) == (1, 2)
    with Session(engine) as session:
        rows = session.exec(select(QuarantinedRecord).order_by(QuarantinedRecord.id)).all()
        run = session.get(SyncRun, result.run_id)
    assert run is not None
    assert run.rejected == 2
    reasons = {r.reason for r in rows}
    assert "text is empty" in reasons
    mail = next(r for r in rows if r.external_id == "r-9")
    assert "jane.doe@example.com" not in mail.excerpt
    assert mail.location == "survey.csv:row 9"


def test_personal_data_never_stored(engine: Engine, enricher: Enricher, journey: Journey) -> None:
    add_source(engine)
    text = "Call me on +44 20 7946 0958 or write to sam@example.org, card 4111 1111 1111 1111."
    sync(engine, ListConnector([([raw(1, text=text)], [])]), enricher, journey)
    with Session(engine) as session:
        item = session.exec(select(Item)).one()
        segments = session.exec(select(Segment)).all()
    stored = item.text + " ".join(s.text for s in segments)
    for secret in ("7946 0958", "sam@example.org", "4111 1111 1111 1111"):
        assert secret not in stored
    assert item.redactions


def test_unknown_stage_hint_is_ignored_and_counted(
    engine: Engine, enricher: Enricher, journey: Journey
) -> None:
    add_source(engine)
    items = [
        raw(1, text="Lovely people.", stage_hint="not_a_stage"),
        raw(2, text="Fine.", stage_hint="support"),
    ]
    result = sync(engine, ListConnector([(items, [])]), enricher, journey)
    assert result.ignored_hints == 1
    with Session(engine) as session:
        hinted = session.exec(select(Item).where(Item.external_id == "x-2")).one()
        ignored = session.exec(select(Item).where(Item.external_id == "x-1")).one()
    assert hinted.stage == "support"
    assert hinted.stage_hint == "support"
    assert ignored.stage_hint is None


def test_a_known_voice_is_one_item_per_source(
    engine: Engine, enricher: Enricher, journey: Journey
) -> None:
    """A known author's same words on the same day are one voice within a source
    (a re-export under new ids); another source hearing them is another channel's record."""
    add_source(engine, "src")
    add_source(engine, "other")
    item = raw(1, text="The invoice was wrong again this month.")
    sync(engine, ListConnector([([item], [])]), enricher, journey)
    reexport = replace(item, external_id="new-id-1")
    again = sync(engine, ListConnector([([item], []), ([reexport], [])]), enricher, journey)
    assert (again.inserted, again.duplicates) == (0, 1)
    result = run_sync(
        engine,
        source_id="other",
        connector=ListConnector([([item], [])]),
        enricher=enricher,
        journey=journey,
    )
    assert (result.inserted, result.duplicates) == (1, 0)


def test_one_source_never_runs_twice_at_once(engine: Engine) -> None:
    add_source(engine)
    entered = threading.Event()
    release = threading.Event()
    errors: list[BaseException] = []

    def hold() -> None:
        with source_lock(engine, "src"):
            entered.set()
            release.wait(10)

    thread = threading.Thread(target=hold)
    thread.start()
    assert entered.wait(10)
    try:
        with pytest.raises(SourceBusyError), source_lock(engine, "src"):
            pass
        # a different source is not blocked
        with source_lock(engine, "other-source"):
            pass
    except BaseException as exc:  # pragma: no cover - reported below
        errors.append(exc)
    finally:
        release.set()
        thread.join()
    assert not errors
    with source_lock(engine, "src"):  # released after the holder finished
        pass


def test_another_process_holding_the_source_blocks_a_run(engine: Engine) -> None:
    """On PostgreSQL the lock spans processes: a second service replica or a CLI
    `sync` holding the advisory lock (here: another database session) wins."""
    if engine.dialect.name != "postgresql":
        pytest.skip("advisory locks are PostgreSQL's; SQLite deployments are one process")
    from sqlalchemy import text

    from app.ingest.locks import postgres_lock_key

    with engine.connect() as other:
        other.execute(text("SELECT pg_advisory_lock(:k)"), {"k": postgres_lock_key(other, "src")})
        with pytest.raises(SourceBusyError, match="another process"), source_lock(engine, "src"):
            pass
        other.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": postgres_lock_key(other, "src")})
    with source_lock(engine, "src"):
        pass


def test_repeated_id_within_a_batch_keeps_the_later_version(
    engine: Engine, enricher: Enricher, journey: Journey
) -> None:
    from app.ingest.hashing import content_hash

    add_source(engine)
    first = raw(1, text="The invoice was wrong.")
    again = raw(1, text="Setup was easy.")  # same external id, other words: an edit
    same = raw(1, text="Setup was easy.")  # and the edit once more: a duplicate
    result = sync(engine, ListConnector([([first, again, same], [])]), enricher, journey)
    assert (result.inserted, result.updated, result.duplicates) == (1, 1, 1)
    with Session(engine) as session:
        stored = session.exec(select(Item)).one()
    assert stored.content_hash == content_hash(again)
    assert stored.text == "Setup was easy."


def _statistics(engine: Engine, table: str) -> object:
    """What the planner knows of a table: PostgreSQL's last ANALYZE time, SQLite's
    `sqlite_stat1` row (None: nothing)."""
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            return conn.execute(
                text(
                    "SELECT last_analyze FROM pg_stat_user_tables "
                    "WHERE relname = :t AND schemaname = current_schema()"
                ),
                {"t": table},
            ).scalar()
        if not conn.execute(
            text("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'")
        ).first():
            return None
        return conn.execute(
            text("SELECT stat FROM sqlite_stat1 WHERE tbl = :t"), {"t": table}
        ).scalar()


def test_a_large_sync_leaves_fresh_planner_statistics(
    engine: Engine, enricher: Enricher, journey: Journey, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without them the planner guesses from the tables as they were before the
    backfill (autovacuum may come hours later, or never where it is off); a small
    sync leaves them alone."""
    add_source(engine)
    if engine.dialect.name == "sqlite":
        with engine.begin() as conn:  # what earlier tests left
            if conn.execute(text("SELECT 1 FROM sqlite_master WHERE name='sqlite_stat1'")).first():
                conn.execute(text("DELETE FROM sqlite_stat1"))
    first = ([raw(n) for n in range(3)], [])
    small = sync(engine, ListConnector([first]), enricher, journey)
    assert small.inserted == 3
    before = {t: _statistics(engine, t) for t in ("items", "voice_facts", "stage_daily")}
    if engine.dialect.name == "sqlite":
        assert before == dict.fromkeys(before)
    monkeypatch.setattr(ingest_service, "ANALYZE_AFTER_ROWS", 10)
    more = ListConnector([first, ([raw(n) for n in range(3, 15)], [])])  # resumes at the 2nd
    assert sync(engine, more, enricher, journey).inserted == 12
    for table, known in before.items():
        now = _statistics(engine, table)
        assert now is not None, table
        assert known is None or now > known, table  # type: ignore[operator]


def test_a_long_sync_refreshes_planner_statistics_as_it_grows(
    engine: Engine, enricher: Enricher, journey: Journey, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A first import plans each batch's duplicate look-ups from the statistics of
    the tables as they were: they are refreshed while it runs, as its rows double,
    not only at its end (a million-row import would otherwise scan the source)."""
    add_source(engine)
    monkeypatch.setattr(ingest_service, "ANALYZE_AFTER_ROWS", 10)
    stored_when_analysed: list[int] = []
    real_analyze = ingest_service.analyze

    def analyze(engine_: Engine, tables: tuple[str, ...]) -> None:
        with engine_.connect() as conn:
            stored_when_analysed.append(
                int(conn.execute(select(func.count()).select_from(Item)).scalar_one())
            )
        real_analyze(engine_, tables)

    monkeypatch.setattr(ingest_service, "analyze", analyze)
    batches = [([raw(n) for n in range(start, start + 10)], []) for start in range(0, 50, 10)]
    assert sync(engine, ListConnector(batches), enricher, journey).inserted == 50
    # at 10, 20 and 40 stored rows while running, then once at the end (50)
    assert stored_when_analysed == [10, 20, 40, 50]
    assert _statistics(engine, "items") is not None
