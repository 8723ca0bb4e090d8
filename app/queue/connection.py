"""The queue's connection to PostgreSQL: the service's own database and schema.

procrastinate talks to PostgreSQL through its own psycopg pool, not through
SQLAlchemy, so the pool is given the engine's address and search path: a
deployment (or a test run) living in its own schema keeps its jobs there too.
"""

from __future__ import annotations

import logging
from typing import Any

import procrastinate
from procrastinate.schema import SchemaManager
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine

log = logging.getLogger(__name__)

QUEUE_SCHEMA_LOCK = 0x4C51  # advisory lock class: one process creates the queue's tables
DEFAULT_SEARCH_PATH = '"$user", public'


def pool_args(engine: Engine, *, max_size: int = 4) -> dict[str, Any]:
    """psycopg pool arguments reaching the engine's database and schema."""
    url = engine.url.set(drivername="postgresql")
    with engine.connect() as conn:
        search_path = str(conn.execute(text("SELECT current_setting('search_path')")).scalar())
    kwargs: dict[str, Any] = {}
    if search_path and search_path != DEFAULT_SEARCH_PATH:
        # libpq's `options` takes spaces escaped with a backslash
        kwargs["options"] = "-csearch_path=" + search_path.replace(" ", "\\ ")
    return {
        "conninfo": url.render_as_string(hide_password=False),
        "kwargs": kwargs,
        "min_size": 1,
        "max_size": max_size,
    }


def deferring_app(engine: Engine) -> procrastinate.App:
    """An app for putting jobs on the queue from ordinary (threaded) code: the
    scheduler, the API, a sync reading batches. Open it before use."""
    from app.queue.tasks import register

    app = procrastinate.App(connector=procrastinate.SyncPsycopgConnector(**pool_args(engine)))
    register(app)
    return app


def worker_app(engine: Engine, *, pool_size: int) -> procrastinate.App:
    """An app for running jobs (procrastinate's worker is asyncio)."""
    from app.queue.tasks import register

    app = procrastinate.App(
        connector=procrastinate.PsycopgConnector(**pool_args(engine, max_size=pool_size))
    )
    register(app)
    return app


def ensure_queue_schema(engine: Engine) -> bool:
    """Create procrastinate's tables, types and functions once; True if created.

    They belong to procrastinate (its release pins their version), not to our
    Alembic history: the service creates them on first use, under an advisory lock
    so that replicas starting together do it once."""
    if inspect(engine).has_table("procrastinate_jobs"):
        return False
    with engine.begin() as conn:
        conn.execute(text("SELECT pg_advisory_xact_lock(:c, 0)"), {"c": QUEUE_SCHEMA_LOCK})
        exists = conn.execute(text("SELECT to_regclass('procrastinate_jobs') IS NOT NULL")).scalar()
        if exists:
            return False
        conn.exec_driver_sql(SchemaManager.get_schema().replace("%", "%%"))
    log.info("created the task queue's tables (procrastinate)")
    return True
