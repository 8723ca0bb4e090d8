from __future__ import annotations

import time
from datetime import UTC, datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

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
