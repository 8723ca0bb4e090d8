"""Queued syncs (LP_QUEUE=procrastinate, PostgreSQL only): a sync reads its source,
workers enrich its batches in parallel and store them in order.

The worker here runs in a thread of the test process (the same job code a
`listening-path worker` process runs); the fault tests in test_queue_faults.py
use real worker processes."""

from __future__ import annotations

import asyncio
import csv
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.ingest import service as ingest_service
from app.ingest.policy import IngestPolicy
from app.ingest.service import (
    RunEndedError,
    TurnTimeoutError,
    _start_run,
    _wait_committed,
    store_queued_batch,
)
from app.models import Item, Source, SyncRun
from app.queue.connection import worker_app
from app.queue.worker import run_jobs
from app.runtime import Runtime, build_runtime
from app.settings import Settings
from connectors.base import Batch, RawItem

ROWS = 1_200
BATCH = 100
BAD_DATES = range(7, ROWS, 97)  # rows whose date is not a date: quarantined
REPEATS = range(50, 60)  # rows exported twice, unchanged: duplicates


def write_survey(folder: Path, rows: int = ROWS, batch_size: int = BATCH) -> Path:
    """A survey export with rejects and repeats, and its sources.yaml."""
    lines = []
    for i in range(rows):
        day = "not a date" if i in BAD_DATES else f"2026-{1 + i % 9:02d}-{1 + i % 28:02d}"
        answer = (
            "The invoice charged me twice and billing never answered."
            if i % 3 == 0
            else "Setting up the account was quick and the onboarding call helped."
            if i % 3 == 1
            else "The app is fast and I use it every day."
        )
        lines.append([f"r{i}", day, str(i % 11), f"c{i % 300}", f"{answer} ({i})"])
    lines += [lines[i] for i in REPEATS]
    with (folder / "responses.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["response_id", "submitted_at", "score", "customer_id", "answer"])
        writer.writerows(lines)
    sources = folder / "sources.yaml"
    sources.write_text(
        "sources:\n"
        "  - id: survey\n"
        "    name: Relationship survey\n"
        "    kind: survey_file\n"
        "    config:\n"
        "      path: responses.csv\n"
        "      id_column: response_id\n"
        "      date_column: submitted_at\n"
        "      score_column: score\n"
        "      rating_scale: nps_0_10\n"
        "      customer_column: customer_id\n"
        f"      batch_size: {batch_size}\n"
        "      answers:\n"
        '        - {column: answer, question: "What is the main reason for your score?"}\n',
        encoding="utf-8",
    )
    return sources


def expected_counts(rows: int = ROWS) -> dict[str, int]:
    bad = len([i for i in BAD_DATES if i < rows])
    repeats = len([i for i in REPEATS if i not in BAD_DATES])
    return {
        "fetched": rows + len(REPEATS),
        "inserted": rows - bad,
        "rejected": bad + len(REPEATS) - repeats,
        "duplicates": repeats,
    }


def queued_runtime(engine: Engine, sources: Path, **settings: object) -> Runtime:
    return build_runtime(
        Settings(
            database_url=str(engine.url),
            sources_file=sources,
            scheduler_enabled=False,
            queue="procrastinate",
            **settings,  # type: ignore[arg-type]
        ),
        engine=engine,
    )


class ThreadWorker:
    """A worker (two jobs at a time, as in a worker process) on its own event loop."""

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime
        self._loop = asyncio.new_event_loop()
        self._task: asyncio.Task[None] | None = None
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._main, daemon=True)

    def __enter__(self) -> ThreadWorker:
        self._thread.start()
        assert self._started.wait(30)
        return self

    def _main(self) -> None:
        asyncio.set_event_loop(self._loop)
        app = worker_app(self._runtime.engine, pool_size=4)

        async def main() -> None:
            self._task = asyncio.current_task()
            self._started.set()
            try:
                await run_jobs(app, self._runtime, 1.0, install_signal_handlers=False)
            except asyncio.CancelledError:
                pass

        self._loop.run_until_complete(main())

    def __exit__(self, *_: object) -> None:
        assert self._task is not None
        self._loop.call_soon_threadsafe(self._task.cancel)
        self._thread.join(60)
        assert not self._thread.is_alive()


def last_run(engine: Engine) -> SyncRun:
    with Session(engine) as session:
        run = session.execute(select(SyncRun).order_by(SyncRun.id.desc())).scalars().first()
        assert run is not None
        return run


def wait_for_run(engine: Engine, timeout: float = 240) -> SyncRun:
    """The newest run once it is no longer running."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with Session(engine) as session:
            run = session.execute(select(SyncRun).order_by(SyncRun.id.desc())).scalars().first()
        if run is not None and run.status != "running":
            return run
        time.sleep(0.2)
    raise AssertionError("the queued sync did not finish in time")


def item_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(Item)).scalar_one())


def read_model(engine: Engine) -> list[tuple[object, ...]]:
    """The daily rollups, as rows: what the story is counted from."""
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT * FROM stage_daily")).all()
    # when a row was last touched differs between the two; what it counts may not
    return sorted(tuple(v for v in row if not isinstance(v, datetime)) for row in rows)


def voice_facts(engine: Engine) -> list[tuple[object, ...]]:
    """Each voice, by its item and stage, with its quote key (a hash of the item's id)."""
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT item_id, stage, quote_key, label, score, quote, CAST(themes AS TEXT),"
                " CAST(attributes AS TEXT) FROM voice_facts"
            )
        ).all()
    return sorted(tuple(row) for row in rows)


def cursor_done(engine: Engine) -> tuple[int, bool]:
    with Session(engine) as session:
        source = session.get(Source, "survey")
        assert source is not None
        assert source.cursor is not None
        state = source.cursor["files"]["responses.csv"]
        return int(state["done"]), bool(state["complete"])


def test_a_queued_sync_stores_what_an_inline_sync_stores(
    pg_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime = queued_runtime(pg_engine, write_survey(tmp_path), backfill_in_flight=3)
    analysed: list[int] = []
    real_analyze = ingest_service.analyze
    monkeypatch.setattr(ingest_service, "ANALYZE_AFTER_ROWS", 200)
    monkeypatch.setattr(
        ingest_service,
        "analyze",
        lambda engine, tables: (analysed.append(item_count(engine)), real_analyze(engine, tables)),
    )
    try:
        assert runtime.queue is not None
        assert runtime.queue.sync("survey", trigger="manual") is not None
        assert runtime.queue.sync("survey", trigger="manual") is None  # queued once
        with ThreadWorker(runtime):
            run = wait_for_run(pg_engine)
        assert run.status == "succeeded", run.error
        counts = expected_counts()
        assert {k: getattr(run, k) for k in counts} == counts
        assert item_count(pg_engine) == counts["inserted"]
        batches = -(-(ROWS + len(REPEATS)) // BATCH)
        assert run.chunks_committed in (batches, batches + 1)  # + the file's closing mark
        assert cursor_done(pg_engine) == (ROWS + len(REPEATS), True)
        # the reader kept the planner's statistics up while the workers stored
        assert len(analysed) >= 3
        assert analysed[0] < ROWS
        # the rollups the workers kept equal those rebuilt from the stored items
        kept, voices = read_model(pg_engine), voice_facts(pg_engine)
        assert kept
        assert voices
        runtime.jobs.rebuild()
        assert read_model(pg_engine) == kept
        assert voice_facts(pg_engine) == voices  # rows made before their items had ids
        # a second queued sync finds nothing new and stores nothing twice
        runtime.queue.sync("survey", trigger="manual")
        with ThreadWorker(runtime):
            deadline = time.monotonic() + 120
            while last_run(pg_engine).id == run.id and time.monotonic() < deadline:
                time.sleep(0.2)
            again = wait_for_run(pg_engine)
        assert again.id != run.id
        assert again.status == "succeeded"
        assert again.inserted == 0
        assert item_count(pg_engine) == counts["inserted"]
    finally:
        runtime.close()


def test_an_edited_export_updates_in_place_through_the_queue(
    pg_engine: Engine, tmp_path: Path
) -> None:
    runtime = queued_runtime(pg_engine, write_survey(tmp_path, rows=300, batch_size=40))
    try:
        assert runtime.queue is not None
        runtime.queue.sync("survey", trigger="manual")
        with ThreadWorker(runtime):
            first = wait_for_run(pg_engine)
            assert first.status == "succeeded", first.error
            export = tmp_path / "responses.csv"
            edited = export.read_text(encoding="utf-8").replace(
                "(10)", "(10) and then support fixed it"
            )
            export.write_text(edited, encoding="utf-8")
            runtime.queue.sync("survey", trigger="manual")
            deadline = time.monotonic() + 120
            while last_run(pg_engine).id == first.id and time.monotonic() < deadline:
                time.sleep(0.2)
            second = wait_for_run(pg_engine)
        assert second.status == "succeeded", second.error
        assert second.updated == 1
        assert second.inserted == 0
        assert item_count(pg_engine) == expected_counts(300)["inserted"]
        with Session(pg_engine) as session:
            texts = (
                session.execute(select(Item.text).where(Item.external_id == "r10:answer"))
                .scalars()
                .all()
            )
        assert len(texts) == 1
        assert texts[0].endswith("support fixed it")
    finally:
        runtime.close()


def test_a_batch_that_cannot_be_stored_fails_the_run_and_keeps_the_cursor_before_it(
    pg_engine: Engine, tmp_path: Path
) -> None:
    runtime = queued_runtime(pg_engine, write_survey(tmp_path, rows=400, batch_size=50))
    try:
        assert runtime.queue is not None
        calls = {"n": 0}
        inner = runtime.enricher.enrich_many

        def failing(requests, *, batch_size=256):  # type: ignore[no-untyped-def]
            calls["n"] += 1
            if calls["n"] == 4:
                raise RuntimeError("the pipeline broke on this batch")
            return inner(requests, batch_size=batch_size)

        runtime.enricher.enrich_many = failing  # type: ignore[method-assign]
        runtime.queue.sync("survey", trigger="manual")
        with ThreadWorker(runtime):
            run = wait_for_run(pg_engine)
        assert run.status == "failed"
        assert run.error is not None
        stored = item_count(pg_engine)
        done, complete = cursor_done(pg_engine)
        assert not complete
        # everything before the failed batch is stored, nothing after it
        assert 0 < stored < expected_counts(400)["inserted"]
        assert done == 50 * (run.chunks_committed or 0)
    finally:
        runtime.close()


def test_the_api_queues_a_sync_for_the_workers(pg_engine: Engine, tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from app.main import create_app
    from tests.app.helpers import admin_headers

    runtime = queued_runtime(pg_engine, write_survey(tmp_path, rows=200, batch_size=50))
    try:
        with TestClient(create_app(runtime=runtime, start_scheduler=False)) as client:
            client.headers.update(admin_headers(pg_engine))
            first = client.post("/api/v1/sources/survey/sync")
            again = client.post("/api/v1/sources/survey/sync")
            assert first.status_code == 202, first.text
            assert first.json()["queued"] is True
            assert again.status_code == 202
            assert again.json()["queued"] is False  # one waiting sync per source
            with ThreadWorker(runtime):
                run = wait_for_run(pg_engine)
            assert run.status == "succeeded", run.error
            assert run.trigger == "api"
            runs = client.get("/api/v1/sources/survey/runs").json()
            assert runs[0]["inserted"] == expected_counts(200)["inserted"]
    finally:
        runtime.close()


def test_rebuild_and_reenrich_run_as_queued_jobs(pg_engine: Engine, tmp_path: Path) -> None:
    runtime = queued_runtime(pg_engine, write_survey(tmp_path, rows=150, batch_size=50))
    try:
        assert runtime.queue is not None
        assert runtime.jobs.sync("survey").status == "succeeded"  # inline, to have items
        kept = read_model(pg_engine)
        with pg_engine.begin() as conn:  # the rollups lost, and one item's version stale
            conn.execute(text("DELETE FROM stage_daily"))
            conn.execute(
                text("UPDATE items SET nlp_version = 'old' WHERE external_id = 'r3:answer'")
            )
        runtime.queue.rebuild()
        runtime.queue.reenrich(None)
        with ThreadWorker(runtime):
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                with pg_engine.connect() as conn:
                    left = conn.execute(text("SELECT count(*) FROM procrastinate_jobs")).scalar()
                    stale = conn.execute(
                        text("SELECT count(*) FROM items WHERE nlp_version = 'old'")
                    ).scalar()
                if not left and not stale:
                    break
                time.sleep(0.2)
        assert read_model(pg_engine) == kept
        assert stale == 0
    finally:
        runtime.close()


def test_a_batch_given_up_on_its_last_try_fails_the_run_its_reader_waits_on(
    pg_engine: Engine, tmp_path: Path
) -> None:
    """Batch 2's turn never comes (batch 1 was lost): retried, the run keeps running;
    on the queue's last try the run fails with the reason, and a reader waiting on
    the run's batches is let go instead of waiting for ever."""
    runtime = queued_runtime(pg_engine, write_survey(tmp_path, rows=100))
    try:
        run_id, _ = _start_run(pg_engine, "survey", "manual", queued=True)
        item = RawItem("r1", "The invoice was wrong.", datetime(2026, 3, 1, tzinfo=UTC))
        batch = Batch([item], [], {"files": {}})
        common = {
            "run_id": run_id,
            "seq": 2,
            "source_id": "survey",
            "batch": batch,
            "channel": "survey",
            "enricher": runtime.enricher,
            "journey": runtime.journey,
            "policy": IngestPolicy(),
            "turn_timeout": 0.2,
        }
        with pytest.raises(TurnTimeoutError):
            store_queued_batch(pg_engine, **common)  # type: ignore[arg-type]
        assert last_run(pg_engine).status == "running"  # retried later: not a failure yet

        waited: list[BaseException] = []

        def reader() -> None:
            try:
                _wait_committed(pg_engine, run_id, 2)
            except RunEndedError as exc:
                waited.append(exc)

        thread = threading.Thread(target=reader, daemon=True)
        thread.start()
        with pytest.raises(TurnTimeoutError):
            store_queued_batch(pg_engine, last_try=True, **common)  # type: ignore[arg-type]
        thread.join(30)
        assert not thread.is_alive()
        run = last_run(pg_engine)
        assert run.status == "failed"
        assert run.error is not None
        assert "batch 2 was given up" in run.error
        assert len(waited) == 1
        assert "batch 2" in (waited[0].error or "")
        assert item_count(pg_engine) == 0
    finally:
        runtime.close()


def test_more_syncs_than_job_slots_still_finish_on_one_worker(
    pg_engine: Engine, tmp_path: Path
) -> None:
    """A sync's reader waits for its batches: readers queued at once must never hold
    every job slot of the workers, or no batch is stored and none of them ends."""
    sources = write_survey(tmp_path, rows=300, batch_size=50)
    one = sources.read_text(encoding="utf-8").split("  - id: survey\n", 1)[1]
    sources.write_text(
        "sources:\n" + "".join(f"  - id: survey-{n}\n{one}" for n in range(4)), encoding="utf-8"
    )
    runtime = queued_runtime(pg_engine, sources)
    try:
        assert runtime.queue is not None
        for n in range(4):
            runtime.queue.sync(f"survey-{n}", trigger="manual")
        with ThreadWorker(runtime):
            deadline = time.monotonic() + 180
            while time.monotonic() < deadline:
                with Session(pg_engine) as session:
                    runs = session.execute(select(SyncRun)).scalars().all()
                if len(runs) == 4 and all(run.status != "running" for run in runs):
                    break
                time.sleep(0.5)
        assert sorted(run.status for run in runs) == ["succeeded"] * 4
        assert item_count(pg_engine) == 4 * expected_counts(300)["inserted"]
    finally:
        runtime.close()
