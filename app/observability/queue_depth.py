"""How many jobs wait in the task queue, read from its table at each scrape.

The queue (procrastinate, on PostgreSQL) keeps its jobs in `procrastinate_jobs`
with a `queue_name` and a `status`; the depth is a count of its rows, not a
number this process could keep, since every process enqueues and every worker
takes. Where that table is absent from the current schema (SQLite, or a
database the queue was never installed in) the collector reports nothing: an
absent series, rather than a zero that would claim an empty queue.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

log = logging.getLogger(__name__)

TABLE = "procrastinate_jobs"
STATUSES = ("todo", "doing")
"""Waiting and being worked on; finished jobs (succeeded, failed...) are no depth."""

_EXISTS = text(f"SELECT to_regclass(quote_ident(current_schema()) || '.{TABLE}') IS NOT NULL")
# Literal statuses: the column is an enum, and a literal compares with it (and can use
# the queue's own partial indexes) where a bound text parameter would not.
_COUNT = text(
    f"SELECT queue_name, status::text, count(*) FROM {TABLE} "
    "WHERE status IN ('todo', 'doing') GROUP BY queue_name, status"
)
TIMEOUT = "2s"
"""A scrape must answer: a count held up by a lock gives up and reports nothing."""


class QueueDepth:
    """`lp_queue_jobs{queue, status}`: the queue's jobs by status, each time it is
    collected. Every queue with a job waiting or running has both statuses."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def collect(self) -> Iterator[Metric]:
        if self._engine.dialect.name != "postgresql":
            return
        try:
            with self._engine.connect() as conn:
                if not conn.execute(_EXISTS).scalar_one():
                    return
                conn.execute(text(f"SET LOCAL statement_timeout = '{TIMEOUT}'"))
                rows = conn.execute(_COUNT).all()
        except SQLAlchemyError as exc:  # a scrape never fails for the queue's sake
            cause = getattr(exc, "orig", None) or exc  # the database's own words, no SQL
            log.warning("queue depth not read: %s", (str(cause).splitlines() or ["?"])[0])
            return
        depth: dict[str, dict[str, int]] = {}
        for queue, status, count in rows:
            depth.setdefault(str(queue), dict.fromkeys(STATUSES, 0))[str(status)] = int(count)
        family = GaugeMetricFamily(
            "lp_queue_jobs",
            "Jobs in the task queue waiting (todo) or being worked on (doing), by queue",
            labels=["queue", "status"],
        )
        for queue in sorted(depth):
            for status in STATUSES:
                family.add_metric([queue, status], depth[queue][status])
        yield family
