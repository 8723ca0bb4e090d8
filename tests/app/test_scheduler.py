from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from app.db import make_engine
from app.models import SyncRun
from app.runtime import build_runtime
from app.settings import Settings
from tests.conftest import FIXTURES


def test_scheduler_runs_interval_sources_at_start_and_plans_cron_ones(engine: Engine) -> None:
    settings = Settings(
        database_url=str(engine.url), sources_file=FIXTURES / "app" / "sources.yaml"
    )
    runtime = build_runtime(settings, engine=engine)
    scheduler = runtime.start_scheduler()
    try:
        deadline = time.monotonic() + 60
        runs: list[SyncRun] = []
        while time.monotonic() < deadline:
            with Session(engine) as session:
                runs = list(session.exec(select(SyncRun).where(SyncRun.status != "running")).all())
            if runs:
                break
            time.sleep(0.2)
        assert [(r.source_id, r.trigger, r.status) for r in runs] == [
            ("pulse-survey", "schedule", "succeeded")
        ]
        # the interval source is next due in an hour; the cron source at 06:00 UTC
        next_interval = scheduler.next_run_at("pulse-survey")
        next_cron = scheduler.next_run_at("field-notes")
        assert next_interval is not None
        assert next_cron is not None
        assert next_interval > datetime.now(UTC)
        assert (next_cron.hour, next_cron.minute) == (6, 0)
        assert scheduler.next_run_at("no-such-source") is None
    finally:
        runtime.close()


def test_a_source_that_asks_to_wait_is_retried_after_its_delay_and_push_is_never_pulled(
    engine: Engine, tmp_path: Path
) -> None:
    """A real local server answers 429 with a Retry-After longer than the connector
    waits inside a run: the run fails as temporary, and the scheduler plans one more
    run after that delay (before the daily one); a push source gets no schedule."""

    class Busy(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            self.send_response(429)
            self.send_header("Retry-After", "900")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Busy)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sources = tmp_path / "sources.yaml"
    sources.write_text(
        f"""sources:
  - id: reviews
    name: Reviews API
    kind: rest
    schedule: {{cron: "0 {(datetime.now(UTC).hour + 12) % 24} * * *"}}
    config:
      url: http://127.0.0.1:{server.server_port}/reviews
      records_path: data
      max_retry_after_seconds: 60
      allow_networks: [127.0.0.1]  # the local server (the SSRF guard refuses loopback)
      fields: {{id: id, text: body, date: created_at}}
  - id: form
    name: Web form
    kind: push
""",
        encoding="utf-8",
    )
    runtime = build_runtime(
        Settings(database_url=str(engine.url), sources_file=sources), engine=engine
    )
    try:
        result = runtime.jobs.sync("reviews")
        assert result.status == "failed"
        assert result.retry_after == 900, result.error
        assert "retried in 900 s" in (result.error or "")
        scheduler = runtime.start_scheduler()
        scheduler._run("reviews")  # what the scheduled job does
        retry = scheduler.retry_at("reviews")
        assert retry is not None
        wait = (retry - datetime.now(UTC)).total_seconds()
        assert 850 < wait <= 900
        assert scheduler.next_run_at("reviews") == retry  # sooner than the daily run
        assert scheduler.next_run_at("form") is None
    finally:
        runtime.close()
        server.shutdown()
        server.server_close()


def test_two_replicas_on_one_postgresql_schedule_once_and_a_standby_takes_over(
    engine: Engine,
) -> None:
    """Two services on one database: one leads and runs the interval source once;
    when the leader dies (its connection ends), the other takes over the same job
    from the shared job store instead of running everything again at once."""
    if engine.dialect.name != "postgresql":
        pytest.skip("leader election between replicas is PostgreSQL's (SQLite: one process)")
    settings = Settings(
        database_url=str(engine.url), sources_file=FIXTURES / "app" / "sources.yaml"
    )
    url = engine.url.render_as_string(hide_password=False)
    with engine.connect() as conn:
        schema = conn.execute(text("SELECT current_schema()")).scalar()
    kwargs = {"connect_args": {"options": f"-csearch_path={schema}"}}
    first = build_runtime(settings, engine=make_engine(url, **kwargs))
    second = build_runtime(settings, engine=make_engine(url, **kwargs))
    try:
        assert first.start_scheduler() is not None
        assert first.leadership is not None
        assert first.leadership.leading
        assert second.start_scheduler() is None  # a standby: someone leads
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not _finished_runs(engine):
            time.sleep(0.2)
        time.sleep(1.0)
        assert [(r.source_id, r.trigger) for r in _finished_runs(engine)] == [
            ("pulse-survey", "schedule")
        ]
        planned = first.scheduler.next_run_at("pulse-survey") if first.scheduler else None
        assert planned is not None
        # the leader dies: its process (here: its engine) goes away with its connection
        assert first.leadership is not None
        first.leadership._retry = 3600  # a dead process stands for nothing again
        if first.leadership._conn is not None:
            first.leadership._conn.invalidate()
        first.engine.dispose()
        assert second.leadership is not None
        second.leadership._retry = 0.2
        assert second.leadership.wait_elected(30)
        assert second.scheduler is not None
        assert second.scheduler.next_run_at("pulse-survey") == planned  # the same tick
        time.sleep(1.0)
        assert len(_finished_runs(engine)) == 1  # not run again on taking over
    finally:
        second.close()
        first.close()


def _finished_runs(engine: Engine) -> list[SyncRun]:
    with Session(engine) as session:
        return list(session.exec(select(SyncRun).where(SyncRun.status != "running")).all())
