"""Runs each enabled source on its schedule inside the service (APScheduler).

`max_instances=1` and coalesced misfires mean one source never runs twice at
once and a stalled service does not replay every missed tick; the source lock in
ingest backs this up against a CLI `sync` or a second replica. Interval sources
also run once right at start, so a fresh service shows a story without waiting.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from app.errors import AppError

if TYPE_CHECKING:
    from app.jobs import Jobs

log = logging.getLogger(__name__)


class SourceScheduler:
    def __init__(self, jobs: Jobs) -> None:
        self._jobs = jobs
        self._scheduler = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(max_workers=2)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300},
            timezone=UTC,
        )
        for spec in jobs.sources.values():
            if not spec.enabled:
                continue
            if spec.schedule.cron is not None:
                trigger: CronTrigger | IntervalTrigger = CronTrigger.from_crontab(
                    spec.schedule.cron, timezone=UTC
                )
                first: datetime | None = None
            else:
                assert spec.schedule.every_minutes is not None
                trigger = IntervalTrigger(minutes=spec.schedule.every_minutes, timezone=UTC)
                first = datetime.now(UTC)
            kwargs = {"next_run_time": first} if first is not None else {}
            self._scheduler.add_job(
                self._run,
                trigger=trigger,
                args=[spec.id],
                id=spec.id,
                name=f"sync {spec.id}",
                replace_existing=True,
                **kwargs,
            )

    def _run(self, source_id: str) -> None:
        try:
            result = self._jobs.sync(source_id, trigger="schedule")
        except AppError as exc:
            log.warning("scheduled sync of %s skipped: %s", source_id, exc.message)
            return
        log.info(
            "sync %s %s: %d fetched, %d new, %d duplicates, %d rejected%s",
            source_id,
            result.status,
            result.fetched,
            result.inserted,
            result.duplicates,
            result.rejected,
            f" ({result.error})" if result.error else "",
        )

    def start(self) -> None:
        self._scheduler.start()

    def shutdown(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=True)

    def next_run_at(self, source_id: str) -> datetime | None:
        job = self._scheduler.get_job(source_id)
        if job is None:
            return None
        next_run: datetime | None = job.next_run_time
        return next_run
