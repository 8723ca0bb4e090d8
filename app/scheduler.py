"""Runs each enabled source on its schedule inside the service (APScheduler).

`max_instances=1` and coalesced misfires mean one source never runs twice at
once and a stalled service does not replay every missed tick; the source lock in
ingest backs this up against a CLI `sync` or a second replica. Interval sources
also run once right at start, so a fresh service shows a story without waiting.

Jobs live in the same database (APScheduler's SQLAlchemy job store, table
`lp_scheduler_jobs`): a retry planned by one leader, and every next run time,
survive a restart or a change of leader (`app.leader`). The store keeps a
reference to `scheduled_sync`, which runs on the process's current scheduler.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine

from app.errors import AppError
from connectors.registry import get_connector_class

if TYPE_CHECKING:
    from app.jobs import Jobs
    from app.queue.tasks import JobQueue

log = logging.getLogger(__name__)

MIN_RETRY_SECONDS = 5.0


JOBS_TABLE = "lp_scheduler_jobs"


class _JobStore(SQLAlchemyJobStore):  # type: ignore[misc]
    """APScheduler's store on the service's own engine, which outlives the scheduler
    (the stock store disposes the engine it was given when the scheduler stops)."""

    def shutdown(self) -> None:
        pass


_current: SourceScheduler | None = None


RETENTION_JOB = "lp:retention"
"""The daily retention purge's job id (`lp:` ids are the service's own, never a source's)."""


def scheduled_sync(source_id: str) -> None:
    """What the job store names: a sync on this process's running scheduler."""
    if _current is not None:
        _current._run(source_id)


def scheduled_retention() -> None:
    if _current is not None:
        _current._purge()


class SourceScheduler:
    def __init__(
        self, jobs: Jobs, *, retention_days: int | None = None, queue: JobQueue | None = None
    ) -> None:
        self._jobs = jobs
        self._queue = queue  # set: a tick only queues the sync, a worker runs it
        self._retention_days = retention_days
        self._scheduler = BackgroundScheduler(
            jobstores={"default": _JobStore(engine=jobs.engine, tablename=JOBS_TABLE)},
            executors={"default": ThreadPoolExecutor(max_workers=2)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300},
            timezone=UTC,
        )
        self._declared: dict[str, tuple[object, dict[str, datetime]]] = {}
        self._calls = threading.Lock()
        self._stopping = False
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
            self._declared[spec.id] = (trigger, {"next_run_time": first} if first else {})

    def _purge(self) -> None:
        """Retention: items older than `LP_RETENTION_DAYS` leave, with all made from them."""
        from app.customers.erasure import purge_before, retention_cutoff
        from app.security import audit

        if self._retention_days is None:
            return
        cutoff = retention_cutoff(self._retention_days)
        erased = purge_before(self._jobs.engine, cutoff)
        audit.record_in(
            self._jobs.engine,
            actor=audit.LEADER,
            action="retention.purge",
            detail={"before": cutoff.isoformat(), "items": erased.items},
        )
        log.info("retention: %d items said before %s deleted", erased.items, cutoff.date())

    def _run(self, source_id: str) -> None:
        from app.security import audit

        if self._queue is not None:
            job = self._queue.sync(source_id, trigger="schedule")
            if job is not None:
                log.info("sync %s queued (job %d)", source_id, job)
            return
        started = time.monotonic()
        try:
            result = self._jobs.sync(source_id, trigger="schedule")
        except AppError as exc:
            log.warning("scheduled sync of %s skipped: %s", source_id, exc.message)
            return
        audit.record_in(
            self._jobs.engine,
            actor=audit.LEADER,
            action="source.sync",
            target=source_id,
            detail={"status": result.status, "run": result.run_id, "inserted": result.inserted},
        )
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
            extra={  # the same counters as fields, for a JSON log line (LP_LOG_FORMAT=json)
                "run": result.run_id,
                "source": source_id,
                "status": result.status,
                "fetched": result.fetched,
                "inserted": result.inserted,
                "duplicates": result.duplicates,
                "rejected": result.rejected,
                "updated": result.updated,
                "seconds": round(time.monotonic() - started, 3),
                "error": result.error,
            },
        )

    def _retry(self, source_id: str, delay: float) -> None:
        """A temporary failure (a 429, a 5xx after retries): run again once after the
        delay the source asked for, unless the regular run comes sooner."""
        at = datetime.now(UTC) + timedelta(seconds=max(delay, MIN_RETRY_SECONDS))
        # This runs in a job's thread: a shutdown holds APScheduler's job-store lock
        # while it waits for running jobs, so no job may call into the scheduler once
        # a shutdown has begun (`_calls` orders the two).
        with self._calls:
            if self._stopping:
                return
            job = self._scheduler.get_job(source_id)
            regular = job.next_run_time if job is not None else None
            if regular is not None and regular <= at:
                return
            self._scheduler.add_job(
                scheduled_sync,
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
        global _current
        _current = self
        self._scheduler.start(paused=True)
        for job in self._scheduler.get_jobs():  # sources no longer declared
            if job.id == RETENTION_JOB:
                if self._retention_days is None:
                    job.remove()
            elif job.id.split(":")[0] not in self._declared:
                job.remove()
        if self._retention_days is not None:
            self._scheduler.add_job(
                scheduled_retention,
                trigger=CronTrigger(hour=3, minute=30, timezone=UTC),
                id=RETENTION_JOB,
                name="retention purge",
                replace_existing=True,
            )
        for source_id, (trigger, first) in self._declared.items():
            stored = self._scheduler.get_job(source_id)
            # A job the store already has keeps its next run (a new leader does not
            # run every source again at once); a new one runs as declared.
            when = (
                {"next_run_time": stored.next_run_time}
                if stored is not None and stored.next_run_time is not None
                else first
            )
            self._scheduler.add_job(
                scheduled_sync,
                trigger=trigger,
                args=[source_id],
                id=source_id,
                name=f"sync {source_id}",
                replace_existing=True,
                **when,
            )
        self._scheduler.resume()

    def shutdown(self) -> None:
        global _current
        with self._calls:
            self._stopping = True
        if self._scheduler.running:
            self._scheduler.shutdown(wait=True)
        if _current is self:
            _current = None

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


def stored_next_runs(engine: Engine) -> dict[str, datetime]:
    """Next run times as the leader's job store keeps them: what a replica that is
    not scheduling shows (`GET /api/v1/sources`)."""
    if not inspect(engine).has_table(JOBS_TABLE):
        return {}
    with engine.connect() as conn:
        rows = conn.execute(text(f"SELECT id, next_run_time FROM {JOBS_TABLE}")).all()
    out: dict[str, datetime] = {}
    for job_id, when in rows:
        if when is None or str(job_id) == RETENTION_JOB:
            continue
        at = datetime.fromtimestamp(float(when), tz=UTC)
        source = str(job_id).split(":")[0]
        out[source] = min(at, out.get(source, at))
    return out
