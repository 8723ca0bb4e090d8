"""The jobs a worker runs, and how ordinary code puts them on the queue.

- `lp.sync`: one source's sync. The worker running it only reads the source: its
  batches go back on the queue as `lp.batch` jobs.
- `lp.batch`: one batch of a sync, enriched by whichever worker takes it and
  stored in its turn (`app.ingest.service.store_queued_batch`): several workers
  enrich in parallel, the cursor still moves batch by batch, in order.
- `lp.rebuild`, `lp.reenrich`: the read model rebuilt, stale items re-enriched.

A job lost with its worker (SIGKILL, a machine gone) is run again by the others
(`app.queue.worker`); every job is safe to run twice.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import procrastinate
import psycopg
from procrastinate.exceptions import AlreadyEnqueued
from sqlalchemy.exc import InterfaceError, OperationalError

from app.errors import ConflictError, StoreUnavailableError
from app.ingest.service import TurnTimeoutError, store_queued_batch
from app.jobs import BatchCommitted
from app.queue.payload import decode_batch, encode_batch
from connectors.base import Batch

if TYPE_CHECKING:
    from app.runtime import Runtime

log = logging.getLogger(__name__)

SYNCS, BATCHES, MAINTENANCE = "syncs", "batches", "maintenance"
QUEUES = (SYNCS, BATCHES, MAINTENANCE)
READ_MODEL_LOCK = "read-model"  # a rebuild and a re-enrichment never run side by side

_LOST_DATABASE = {OperationalError, InterfaceError, psycopg.OperationalError}
SYNC_RETRY = procrastinate.RetryStrategy(
    max_attempts=10,
    exponential_wait=2,
    retry_exceptions={*_LOST_DATABASE, ConflictError, StoreUnavailableError},
)
BATCH_RETRY = procrastinate.RetryStrategy(
    max_attempts=50, wait=2, retry_exceptions={*_LOST_DATABASE, TurnTimeoutError}
)


def _runtime(context: procrastinate.JobContext) -> Runtime:
    runtime: Runtime = context.additional_context["runtime"]
    return runtime


def sync_job(context: procrastinate.JobContext, source_id: str, trigger: str) -> None:
    from app.security import audit

    runtime = _runtime(context)
    assert runtime.queue is not None
    result = runtime.jobs.sync(source_id, trigger=trigger, queue=runtime.queue.batches)
    audit.record_in(
        runtime.engine,
        actor=audit.LEADER,
        action="source.sync",
        target=source_id,
        detail={"status": result.status, "run": result.run_id, "inserted": result.inserted},
    )
    if result.retry_after is not None:
        runtime.queue.sync(source_id, trigger="retry", delay=result.retry_after)


def batch_job(
    context: procrastinate.JobContext,
    run_id: int,
    seq: int,
    source_id: str,
    channel: str,
    batch: dict[str, Any],
) -> None:
    runtime = _runtime(context)
    stored = store_queued_batch(
        runtime.engine,
        run_id=run_id,
        seq=seq,
        source_id=source_id,
        batch=decode_batch(batch),
        channel=channel,
        enricher=runtime.enricher,
        journey=runtime.journey,
        policy=runtime.policy,
        turn_timeout=runtime.settings.worker_heartbeat_seconds * 6,
        last_try=_last_try(context, BATCH_RETRY),
    )
    if stored is not None:  # this batch's own counts (other workers store the others)
        event = BatchCommitted("sync", source_id, stored.fetched, None, stored, batch=stored)
        runtime.events.publish(event)


def _last_try(context: procrastinate.JobContext, retry: procrastinate.RetryStrategy) -> bool:
    """Whether a failure now is final (`job.attempts` counts the earlier tries)."""
    attempts = context.job.attempts if context.job is not None else 0
    return retry.max_attempts is not None and attempts >= retry.max_attempts


def rebuild_job(context: procrastinate.JobContext) -> None:
    _runtime(context).jobs.rebuild()


def reenrich_job(context: procrastinate.JobContext, source_id: str | None) -> None:
    _runtime(context).jobs.reenrich(source_id=source_id)


def register(app: procrastinate.App) -> None:
    """Declare the jobs on an app (one per process and purpose: deferring or working)."""
    app.task(name="lp.sync", queue=SYNCS, pass_context=True, retry=SYNC_RETRY)(sync_job)
    app.task(name="lp.batch", queue=BATCHES, pass_context=True, retry=BATCH_RETRY)(batch_job)
    app.task(name="lp.rebuild", queue=MAINTENANCE, pass_context=True, retry=SYNC_RETRY)(rebuild_job)
    app.task(name="lp.reenrich", queue=MAINTENANCE, pass_context=True, retry=SYNC_RETRY)(
        reenrich_job
    )


class QueuedBatches:
    """A sync's batches onto the queue (`app.ingest.service.BatchQueue`)."""

    def __init__(self, app: procrastinate.App, in_flight: int) -> None:
        self._app = app
        self.in_flight = in_flight

    def put(self, *, run_id: int, seq: int, source_id: str, channel: str, batch: Batch) -> None:
        self._app.configure_task("lp.batch").defer(
            run_id=run_id, seq=seq, source_id=source_id, channel=channel, batch=encode_batch(batch)
        )


class JobQueue:
    """Putting work on the queue from the scheduler, the API and the CLI."""

    def __init__(self, app: procrastinate.App, *, in_flight: int) -> None:
        self._app = app
        self.batches = QueuedBatches(app, in_flight)

    def sync(self, source_id: str, *, trigger: str, delay: float | None = None) -> int | None:
        """Queue a sync of a source; None if one is queued already (not yet started).

        One sync of a source runs at a time (`lock`); a tick that finds one still
        waiting adds nothing (`queueing_lock`)."""
        when = datetime.now(UTC) + timedelta(seconds=delay) if delay else None
        try:
            job_id: int = self._app.configure_task(
                "lp.sync",
                lock=f"source:{source_id}",
                queueing_lock=f"sync:{source_id}",
                schedule_at=when,
            ).defer(source_id=source_id, trigger=trigger)
        except AlreadyEnqueued:
            log.info("sync of %s already queued: not queued again", source_id)
            return None
        return job_id

    def rebuild(self) -> int:
        job_id: int = self._app.configure_task(
            "lp.rebuild", lock=READ_MODEL_LOCK, queueing_lock="rebuild"
        ).defer()
        return job_id

    def reenrich(self, source_id: str | None) -> int:
        job_id: int = self._app.configure_task(
            "lp.reenrich", lock=READ_MODEL_LOCK, queueing_lock=f"reenrich:{source_id or '*'}"
        ).defer(source_id=source_id)
        return job_id

    def close(self) -> None:
        self._app.close()
