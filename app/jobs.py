"""The work a running Listening Path does, run one way: syncs, read-model rebuilds
and re-enrichment (and, next, alert evaluation), each publishing an event after
every batch it commits.

Whoever starts a job (the scheduler, the API, a CLI command, a benchmark) goes
through `Jobs`, so a sync from the CLI and a scheduled one build the same
connector, take the same lock and tell the same listeners. Listeners are how
other parts follow the data without being called by ingest: a progress bar, and
(next issue) the early-warning detectors re-reading the days a batch touched. A
listener's failure is logged and never fails the job: the batch is committed.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar, Literal

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlmodel import SQLModel

from app.errors import ConflictError, NotFoundError, StoreUnavailableError
from app.ingest.locks import SourceBusyError
from app.ingest.policy import IngestPolicy
from app.ingest.reenrich import ReenrichProgress, reenrich
from app.ingest.service import (
    BatchProgress,
    BatchQueue,
    SyncResult,
    is_connection_error,
    run_sync,
    store_refusal,
)
from app.readmodel.maintain import rebuild
from app.sources.config import SourceSpec
from connectors.base import Batch, Connector, ConnectorConfig, Cursor
from connectors.registry import get_connector_class
from nlp.enrichment import Enricher
from nlp.journey import Journey

log = logging.getLogger(__name__)

JobKind = Literal["sync", "push", "rebuild", "reenrich"]
PUSH_WAIT = 5.0  # seconds a posted batch waits for the source's lock (it holds a connection)


class _Posted(Connector[ConnectorConfig]):
    """A batch posted to a push source, as a connector run_sync can read once."""

    kind: ClassVar[str] = "posted"
    channel: ClassVar[str] = "web"
    config_model: ClassVar[type[ConnectorConfig]] = ConnectorConfig

    def __init__(self, batch: Batch, channel: str) -> None:
        super().__init__(ConnectorConfig(), base_dir=Path("."))
        self._batch = batch
        self.channel = channel  # type: ignore[misc]

    def fetch(self, cursor: Cursor | None) -> Iterator[Batch]:  # noqa: ARG002
        yield self._batch


@dataclass(frozen=True, slots=True)
class BatchCommitted:
    """A job committed one more batch: the items and the read model now say more."""

    job: JobKind
    source_id: str | None  # the source synced, or the one re-enriched (None: all)
    done: int  # items handled so far in this job (read, for a sync)
    total: int | None  # items the job will handle, where known beforehand
    sync: BatchProgress | None = None  # a sync's running counts
    batch: BatchProgress | None = None  # this batch's own counts, where told apart (queued)


@dataclass(frozen=True, slots=True)
class JobFinished:
    job: JobKind
    source_id: str | None
    ok: bool
    done: int
    error: str | None = None
    seconds: float | None = field(default=None, compare=False)  # a run's wall time


Event = BatchCommitted | JobFinished
Listener = Callable[[Event], None]


def _first_dates(engine: Engine, source_id: str, batch: Batch, received_at: datetime) -> Batch:
    undated = {item.external_id for item in batch.items if item.occurred_at == received_at}
    if not undated:
        return batch
    items = SQLModel.metadata.tables["items"]
    with engine.connect() as conn:
        first = dict(
            conn.execute(
                select(items.c.external_id, items.c.occurred_at).where(
                    items.c.source_id == source_id, items.c.external_id.in_(sorted(undated))
                )
            ).all()
        )
    kept = [
        replace(item, occurred_at=first[item.external_id])
        if item.external_id in first and item.occurred_at == received_at
        else item
        for item in batch.items
    ]
    return Batch(kept, batch.rejected, batch.cursor)


class Events:
    """Listeners of every job's events, for the life of the process."""

    def __init__(self) -> None:
        self._listeners: list[Listener] = []
        self._lock = threading.Lock()

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Add a listener; returns the call that removes it."""
        with self._lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe

    def publish(self, event: Event, also: Listener | None = None) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for listener in [*listeners, *([also] if also is not None else [])]:
            try:
                listener(event)
            except Exception:  # a listener must never undo or stop committed work
                log.exception("listener %r failed on %s", listener, type(event).__name__)


@dataclass
class Jobs:
    """Runs each kind of job with what it needs; `listener` on a call hears that
    job's events as well as the process-wide `events`."""

    engine: Engine
    enricher: Enricher
    journey: Journey
    policy: IngestPolicy
    sources: dict[str, SourceSpec]
    base_dir: Path
    events: Events

    def sync(
        self,
        source_id: str,
        *,
        trigger: str = "manual",
        listener: Listener | None = None,
        queue: BatchQueue | None = None,
    ) -> SyncResult:
        """Sync one declared source to the end of what it has; with a `queue`, its
        batches are enriched and stored by workers (`app.queue`).

        Raises `NotFoundError` for an undeclared source and `ConflictError` when it
        is syncing already (another thread, process or replica)."""
        spec = self._spec(source_id)
        connector = get_connector_class(spec.kind).from_mapping(spec.config, base_dir=self.base_dir)
        return self._run("sync", source_id, connector, trigger, listener, queue=queue)

    def push(
        self,
        source_id: str,
        batch: Batch,
        *,
        received_at: datetime | None = None,
        listener: Listener | None = None,
    ) -> tuple[SyncResult, dict[str, tuple[str, str | None]]]:
        """Store a batch posted to a push source as one run (its own transaction, the
        same dedupe, quarantine and read model as a sync); returns the run and what
        became of each record, by external id.

        A record posted without a date is dated `received_at`; posted again, it keeps
        the date it was first stored with, so a re-post is a duplicate, not an edit."""
        if received_at is not None:
            batch = _first_dates(self.engine, source_id, batch, received_at)
        channel = str(self._spec(source_id).config.get("channel") or "web")
        outcomes: dict[str, tuple[str, str | None]] = {}
        posted = _Posted(batch, channel)
        # Posts to one source are stored one after another: a post waits for the one
        # before it (a webhook sender posting in parallel), instead of a 409.
        run = self._run("push", source_id, posted, "push", listener, outcomes, lock_wait=PUSH_WAIT)
        return run, outcomes

    def _spec(self, source_id: str) -> SourceSpec:
        spec = self.sources.get(source_id)
        if spec is None:
            known = ", ".join(sorted(self.sources)) or "none"
            raise NotFoundError(f"no declared source {source_id!r} (declared: {known})")
        return spec

    def _run(
        self,
        job: JobKind,
        source_id: str,
        connector: Connector[Any],
        trigger: str,
        listener: Listener | None,
        outcomes: dict[str, tuple[str, str | None]] | None = None,
        queue: BatchQueue | None = None,
        lock_wait: float = 0.0,
    ) -> SyncResult:
        """One run of a source through ingest, telling the listeners."""

        def on_batch(progress: BatchProgress) -> None:
            event = BatchCommitted(job, source_id, progress.fetched, None, progress)
            self.events.publish(event, listener)

        started = time.perf_counter()
        try:
            result = run_sync(
                self.engine,
                source_id=source_id,
                connector=connector,
                enricher=self.enricher,
                journey=self.journey,
                policy=self.policy,
                trigger=trigger,
                on_batch=on_batch,
                outcomes=outcomes,
                queue=queue,
                lock_wait=lock_wait,
            )
        except SourceBusyError as exc:
            raise ConflictError(str(exc)) from exc
        except DBAPIError as exc:  # the run itself could not be recorded
            if queue is not None and is_connection_error(exc):
                raise  # the queue runs the job again once the database is back
            raise StoreUnavailableError(
                f"the sync of {source_id} could not run: {store_refusal(exc)}"
            ) from exc
        finished = JobFinished(
            job,
            source_id,
            result.status == "succeeded",
            result.fetched,
            result.error,
            seconds=time.perf_counter() - started,
        )
        self.events.publish(finished, listener)
        return result

    def rebuild(self, *, listener: Listener | None = None) -> int:
        """Rebuild the read model from the stored items; returns the items read."""

        def on_chunk(done: int, total: int) -> None:
            self.events.publish(BatchCommitted("rebuild", None, done, total), listener)

        done = rebuild(self.engine, on_chunk=on_chunk)
        self.events.publish(JobFinished("rebuild", None, True, done), listener)
        return done

    def reenrich(self, *, source_id: str | None = None, listener: Listener | None = None) -> int:
        """Re-enrich the items stored under another pipeline version; returns how many."""

        def on_batch(progress: ReenrichProgress) -> None:
            event = BatchCommitted("reenrich", source_id, progress.done, progress.total)
            self.events.publish(event, listener)

        done = reenrich(self.engine, enricher=self.enricher, source_id=source_id, on_batch=on_batch)
        self.events.publish(JobFinished("reenrich", source_id, True, done), listener)
        return done
