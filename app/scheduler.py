"""Runs each enabled source on its schedule inside the service (APScheduler).

`max_instances=1` and coalesced misfires mean one source never runs twice at
once and a stalled service does not replay every missed tick; the source lock in
ingest backs this up against a CLI `sync` or a second replica. Interval sources
also run once right at start, so a fresh service shows a story without waiting.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from app.errors import AppError
from connectors.registry import get_connector_class

if TYPE_CHECKING:
    from app.jobs import Jobs

log = logging.getLogger(__name__)

MIN_RETRY_SECONDS = 5.0


class SourceScheduler:
    def __init__(self, jobs: Jobs) -> None:
        self._jobs = jobs
        self._scheduler = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(max_workers=2)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300},
            timezone=UTC,
        )
        for spec in jobs.sources.values():
            if not spec.enabled or "push" in get_connector_class(spec.kind).capabilities:
                continue  # a push source has nothing to pull: its records are posted
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
        if result.retry_after is not None:
            self._retry(source_id, result.retry_after)
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

    def _retry(self, source_id: str, delay: float) -> None:
        """A temporary failure (a 429, a 5xx after retries): run again once after the
        delay the source asked for, unless the regular run comes sooner."""
        at = datetime.now(UTC) + timedelta(seconds=max(delay, MIN_RETRY_SECONDS))
        job = self._scheduler.get_job(source_id)
        regular = job.next_run_time if job is not None else None
        if regular is not None and regular <= at:
            return
        self._scheduler.add_job(
            self._run,
            trigger=DateTrigger(run_date=at, timezone=UTC),
            args=[source_id],
            id=f"{source_id}:retry",
            name=f"retry {source_id}",
            replace_existing=True,
        )
        log.info("sync %s: retrying at %s", source_id, at.isoformat())

    def retry_at(self, source_id: str) -> datetime | None:
        job = self._scheduler.get_job(f"{source_id}:retry")
        when: datetime | None = job.next_run_time if job is not None else None
        return when

    def start(self) -> None:
        self._scheduler.start()

    def shutdown(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=True)

    def next_run_at(self, source_id: str) -> datetime | None:
        """The next run, a retry included."""
        times = [
            job.next_run_time
            for job in (
                self._scheduler.get_job(source_id),
                self._scheduler.get_job(f"{source_id}:retry"),
            )
            if job is not None and job.next_run_time is not None
        ]
        return min(times) if times else None
