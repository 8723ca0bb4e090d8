"""The long-lived parts of a running Listening Path, built once per process.

The service's lifespan and every CLI command build a `Runtime` the same way, so
`serve`, `sync` and `demo` cannot drift apart: upgrade the schema, load the
journey, build the NLP pipeline, load and register the declared sources.
"""

from __future__ import annotations

import gc
import logging
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.alerts.config import AlertsSpec
from app.customers.pseudonyms import load_pseudonyms
from app.db import make_engine, upgrade_database
from app.ingest.policy import IngestPolicy
from app.ingest.reenrich import stale_count
from app.ingest.service import close_all_interrupted_runs
from app.jobs import Events, Jobs
from app.observability import metrics
from app.readmodel.maintain import read_model_missing
from app.settings import Settings
from app.sources.config import SourceSpec, load_sources_file
from app.sources.service import register_sources
from nlp.enrichment import Enricher, Enrichment, EnrichRequest
from nlp.journey import Journey, load_journey
from nlp.pipeline import build_enricher

if TYPE_CHECKING:
    from app.alerts.worker import AlertWorker
    from app.leader import Leadership
    from app.queue.tasks import JobQueue
    from app.scheduler import SourceScheduler

log = logging.getLogger(__name__)


class LockedEnricher:
    """One pipeline object, several scheduler threads: spaCy does not promise thread
    safety, and the work is CPU-bound under the GIL anyway, so enrichment is
    serialised while everything else (fetching, storing) overlaps."""

    def __init__(self, inner: Enricher) -> None:
        self._inner = inner
        self._lock = threading.Lock()

    @property
    def version(self) -> str:
        return self._inner.version

    def enrich(self, text: str, *, stage_hint: str | None = None) -> Enrichment:
        with self._lock:
            return self._inner.enrich(text, stage_hint=stage_hint)

    def enrich_many(
        self, requests: Iterable[EnrichRequest], *, batch_size: int = 256
    ) -> Iterator[Enrichment]:
        batch = list(requests)
        with self._lock:
            results = list(self._inner.enrich_many(batch, batch_size=batch_size))
        return iter(results)


@dataclass
class Runtime:
    """What one process wires together once; the work itself is done by `jobs`."""

    settings: Settings
    engine: Engine
    journey: Journey
    enricher: Enricher
    sources: dict[str, SourceSpec]
    policy: IngestPolicy
    events: Events
    jobs: Jobs
    alerts: AlertsSpec = field(default_factory=AlertsSpec)
    queue: JobQueue | None = None  # LP_QUEUE=procrastinate: work goes to the workers
    scheduler: SourceScheduler | None = None
    alert_worker: AlertWorker | None = None
    leadership: Leadership | None = None

    def start_scheduler(self) -> SourceScheduler | None:
        """Stand for leader (`app.leader`); the leader runs the sources' schedules and
        the early warning that judges what they bring in. Returns the scheduler when
        this replica leads at once, None while another does."""
        from app.leader import Leadership

        if self.leadership is None:
            self.leadership = Leadership(
                self.engine, on_elected=self._lead, on_deposed=self._follow
            )
            self.leadership.start()
        return self.scheduler

    def _lead(self) -> None:
        from app.alerts.worker import AlertWorker
        from app.scheduler import SourceScheduler
        from app.security import audit

        audit.record_in(self.engine, actor=audit.LEADER, action="leader.elected")
        self.scheduler = SourceScheduler(
            self.jobs, retention_days=self.settings.retention_days, queue=self.queue
        )
        self.alert_worker = AlertWorker(
            self.engine,
            self.journey,
            self.alerts,
            self.events,
            base_url=self.settings.base_url(),
        )
        self.alert_worker.start()
        self.scheduler.start()

    def _follow(self) -> None:
        if self.scheduler is not None:
            self.scheduler.shutdown()
            self.scheduler = None
        if self.alert_worker is not None:
            self.alert_worker.stop()
            self.alert_worker = None

    def stop_background(self) -> None:
        if self.leadership is not None:
            self.leadership.stop()  # steps down: the scheduler and worker stop
            self.leadership = None
        self._follow()

    def close(self) -> None:
        self.stop_background()
        if self.queue is not None:
            self.queue.close()
            self.queue = None
        self.engine.dispose()


def build_runtime(settings: Settings, *, engine: Engine | None = None) -> Runtime:
    engine = engine or make_engine(settings.database_url, **pool_options(settings))
    upgrade_database(engine)
    # Cheap validation first: a typo in sources.yaml or the journey fails before the NLP loads.
    declared = load_sources_file(settings.resolved_sources_file())
    specs = declared.sources
    journey = load_journey(settings.resolved_journey_file())
    enricher = LockedEnricher(
        metrics.TimedEnricher(
            build_enricher(
                journey, stage_threshold=settings.stage_threshold, model_dir=settings.nlp_model_dir
            )
        )
    )
    with Session(engine) as session:
        register_sources(session, specs=specs)
    close_all_interrupted_runs(engine)
    key = settings.pseudonym_key.get_secret_value() if settings.pseudonym_key else None
    policy = IngestPolicy(
        scales=declared.scales,
        occurred_after=settings.occurred_after,
        future_tolerance=timedelta(days=settings.future_tolerance_days),
        pseudonyms=load_pseudonyms(engine, key),
    )
    sources = {spec.id: spec for spec in specs}
    events = Events()
    metrics.follow(events)
    jobs = Jobs(
        engine=engine,
        enricher=enricher,
        journey=journey,
        policy=policy,
        sources=sources,
        base_dir=declared.base_dir,
        events=events,
    )
    if read_model_missing(engine):
        # An upgrade from before the read model: build it once from the stored items.
        log.info("building the read model from the stored items (first start after upgrade)")
        jobs.rebuild()
    stale = stale_count(engine, version=enricher.version)
    if stale:
        log.warning(
            "%d stored items were read by another pipeline version (a journey edit or an "
            "upgrade): their stages stay the old ones until `listening-path reenrich` runs",
            stale,
        )
    queue = _job_queue(settings, engine)
    return Runtime(
        settings=settings,
        engine=engine,
        journey=journey,
        enricher=enricher,
        sources=sources,
        policy=policy,
        events=events,
        jobs=jobs,
        alerts=declared.alerts,
        queue=queue,
    )


def freeze_long_lived() -> None:
    """Call once a long-lived process (serve, worker, scheduler) has built its runtime.

    The pipeline's tables (lexicons, phrase matchers, caches) live as long as the
    process: frozen, they drop out of every full collection, which then scans only
    the batch being enriched (a full collection 73 -> 14 ms; enrichment +5-10%,
    measured by the NLP speed work, nlp/README.md). Not in `build_runtime`: a process
    that builds many runtimes (the tests) would freeze every one for good."""
    gc.freeze()


def pool_options(settings: Settings) -> dict[str, int]:
    """A PostgreSQL pool of `LP_DB_CONNECTIONS`, half kept open; a request that
    finds none free within 10 s gets a 503, not a 30 s wait."""
    if not settings.database_url.startswith("postgresql"):
        return {}
    kept = settings.db_connections // 2
    return {
        "pool_size": kept,
        "max_overflow": settings.db_connections - kept,
        "pool_timeout": 10,
    }


def _job_queue(settings: Settings, engine: Engine) -> JobQueue | None:
    if settings.queue != "procrastinate":
        return None
    from app.queue.connection import deferring_app, ensure_queue_schema
    from app.queue.tasks import JobQueue

    ensure_queue_schema(engine)
    app = deferring_app(engine)
    app.open()
    return JobQueue(app, in_flight=settings.backfill_in_flight)
