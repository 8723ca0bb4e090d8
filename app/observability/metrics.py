"""The process's Prometheus metrics, and what feeds them.

One process, one set of metrics, in prometheus-client's default registry: the API
serves them on `GET /metrics` (`app.observability.router`), a worker process on a
port of its own (`serve_metrics`). Ingest is counted by following the jobs'
events (`follow`) rather than from inside ingest, so a counter says what was
committed (a batch is told after its commit) and ingest knows nothing of
Prometheus. Label values stay few: a source id is configuration, a route is its
template (`app.observability.middleware`).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from time import perf_counter
from typing import TYPE_CHECKING

from prometheus_client import (
    REGISTRY,
    Counter,
    Histogram,
    disable_created_metrics,
    start_http_server,
)
from prometheus_client.exposition import choose_encoder
from prometheus_client.metrics_core import Metric

from app.ingest.service import BatchProgress
from app.jobs import BatchCommitted, Event, Events, JobFinished
from app.observability.queue_depth import QueueDepth
from nlp.enrichment import Enricher, Enrichment, EnrichRequest

if TYPE_CHECKING:
    from wsgiref.simple_server import WSGIServer

    from sqlalchemy.engine import Engine

# A `_created` series beside every counter and histogram doubles what is scraped and
# stored for a start time that `process_start_time_seconds` already gives.
disable_created_metrics()  # type: ignore[no-untyped-call]  # (untyped in 0.26)

ITEMS_INGESTED = Counter(
    "lp_items_ingested", "Items stored new by syncs and pushes, by source", ["source"]
)
ITEMS_DUPLICATES = Counter(
    "lp_items_duplicates", "Records read again and not stored twice, by source", ["source"]
)
ITEMS_REJECTED = Counter(
    "lp_items_rejected", "Records refused and kept in quarantine, by source", ["source"]
)
ITEMS_UPDATED = Counter(
    "lp_items_updated", "Stored items replaced by an edited record, by source", ["source"]
)
SYNC_SECONDS = Histogram(
    "lp_sync_seconds",
    "Wall time of one run of a source (a sync, or a posted batch), by source",
    ["source"],
    buckets=(0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600),
)
SYNC_FAILURES = Counter("lp_sync_failures", "Runs of a source that failed, by source", ["source"])
ENRICH_SECONDS = Histogram(
    "lp_enrichment_batch_seconds",
    "NLP time of one batch of texts (the lock around the pipeline not counted)",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
ENRICHED = Counter(
    "lp_enriched_items",
    "Texts read by the NLP pipeline; with lp_enrichment_batch_seconds_sum, the time per item",
)

_RUNS = ("sync", "push")
"""The jobs that are runs of a source (rebuild and re-enrichment are not)."""

_COUNTERS = (
    ("inserted", ITEMS_INGESTED),
    ("duplicates", ITEMS_DUPLICATES),
    ("rejected", ITEMS_REJECTED),
    ("updated", ITEMS_UPDATED),
)


class _Follower:
    """Turns the jobs' events into counter increments.

    A queued batch, stored by whichever worker took it, comes with its own counts
    (`BatchCommitted.batch`): they are added as they are. A run in this process
    tells its running totals (`sync`), so each batch adds what grew since the
    run's previous batch; a source runs once at a time per kind of job (the
    source lock), so (job, source) names the run in flight."""

    def __init__(self) -> None:
        self._last: dict[tuple[str, str], BatchProgress] = {}
        self._lock = threading.Lock()

    def __call__(self, event: Event) -> None:
        if event.job not in _RUNS or event.source_id is None:
            return
        if isinstance(event, BatchCommitted):
            if event.batch is not None:
                self._add(event.source_id, event.batch, None)
            elif event.sync is not None:
                self._count(event.job, event.source_id, event.sync)
        else:
            self._finish(event, event.source_id)

    def _count(self, job: str, source: str, now: BatchProgress) -> None:
        with self._lock:
            last = self._last.get((job, source))
            self._last[(job, source)] = now
        self._add(source, now, last)

    @staticmethod
    def _add(source: str, now: BatchProgress, last: BatchProgress | None) -> None:
        for name, counter in _COUNTERS:
            before = getattr(last, name) if last is not None else 0
            grown: int = getattr(now, name) - before
            if grown < 0:  # a run whose end was never told: this is a new run's first batch
                grown = getattr(now, name)
            counter.labels(source).inc(grown)  # inc(0) too: every series exists from a first batch

    def _finish(self, event: JobFinished, source: str) -> None:
        with self._lock:
            self._last.pop((event.job, source), None)
        if event.seconds is not None:
            SYNC_SECONDS.labels(source).observe(event.seconds)
        failures = SYNC_FAILURES.labels(source)
        if not event.ok:
            failures.inc()


def follow(events: Events) -> None:
    """Count every run this process's jobs tell `events` about (called once per
    runtime, in `build_runtime`)."""
    events.subscribe(_Follower())


class TimedEnricher:
    """An enricher whose batches are timed into `lp_enrichment_batch_seconds`.

    Applied inside `LockedEnricher`, so the time is the pipeline's own and not the
    wait for another thread's batch. The clock runs from the first result asked
    for to the last one given, which is the whole batch when the caller drains it
    at once (as `LockedEnricher` does)."""

    def __init__(self, inner: Enricher) -> None:
        self._inner = inner

    @property
    def version(self) -> str:
        return self._inner.version

    def enrich(self, text: str, *, stage_hint: str | None = None) -> Enrichment:
        started = perf_counter()
        try:
            return self._inner.enrich(text, stage_hint=stage_hint)
        finally:
            ENRICH_SECONDS.observe(perf_counter() - started)
            ENRICHED.inc()

    def enrich_many(
        self, requests: Iterable[EnrichRequest], *, batch_size: int = 256
    ) -> Iterator[Enrichment]:
        started = perf_counter()
        done = 0
        try:
            for enrichment in self._inner.enrich_many(requests, batch_size=batch_size):
                done += 1
                yield enrichment
        finally:
            if done:  # an empty batch (all duplicates) is no enrichment to time
                ENRICH_SECONDS.observe(perf_counter() - started)
                ENRICHED.inc(done)


class _Scrape:
    """What one scrape reports: the process's metrics, and the queue's depth read
    from the database at that moment."""

    def __init__(self, engine: Engine | None) -> None:
        self._queue = QueueDepth(engine) if engine is not None else None

    def collect(self) -> Iterable[Metric]:
        yield from REGISTRY.collect()
        if self._queue is not None:
            yield from self._queue.collect()


def exposition(engine: Engine | None, *, accept: str = "") -> tuple[bytes, str]:
    """Everything this process measures, and its media type: the Prometheus text
    format, or OpenMetrics where the scraper's `Accept` asks for it."""
    encode, media_type = choose_encoder(accept)
    return encode(_Scrape(engine)), media_type


def serve_metrics(
    port: int, *, engine: Engine | None = None, addr: str = "0.0.0.0"
) -> tuple[WSGIServer, threading.Thread]:
    """Serve this process's metrics on their own port (a worker has no API to serve
    them on), in a daemon thread; with `engine`, the queue's depth too.

    Returns the server and its thread: `server.shutdown()` stops it."""
    return start_http_server(port, addr=addr, registry=_Scrape(engine))
