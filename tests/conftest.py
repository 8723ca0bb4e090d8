"""Shared fixtures: real databases, on SQLite always and on PostgreSQL when
`TEST_DATABASE_URL` is set (`.ci/run` sets it). No mocked database anywhere.

Migrations run once per backend per session; every test starts from empty
tables (ingest commits its own transactions, so per-test rollback cannot work).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine

from app.db import make_engine, upgrade_database
from app.security.keys import KEYS

TABLES = (
    "read_versions",
    "kept_answers",
    "outcome_events",
    "outcome_rejects",
    "api_keys",
    "audit_log",
    "lp_secrets",
    "customer_sets",
    "customer_ids",
    "alert_deliveries",
    "alerts",
    "voice_facts",
    "stage_daily",
    "item_daily",
    "stage_daily_ratings",
    "stage_daily_themes",
    "daily_customers",
    "stage_customers",
    "stage_themes",
    "run_duplicates",
    "segments",
    "quarantine",
    "items",
    "sync_runs",
    "sources",
)
FIXTURES = Path(__file__).parent / "fixtures"
DEFAULT_STAGE_KEYS = (
    "discover",
    "purchase",
    "onboard",
    "use",
    "support",
    "billing",
    "renew",
    "advocate",
)
"""The shipped default journey, in order, as DESIGN.md fixes it."""


def _postgres_url() -> str | None:
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        return None
    if url.startswith(("postgresql://", "postgres://")):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def backend_engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("db") / "test.db"
        engine = make_engine(f"sqlite:///{path}")
        upgrade_database(engine)
        yield engine
        engine.dispose()
        return
    url = _postgres_url()
    if url is None:
        pytest.skip(
            "PostgreSQL tests need TEST_DATABASE_URL (e.g. postgresql://postgres@127.0.0.1:5432/test)"
        )
    schema = f"lp_test_{uuid.uuid4().hex[:10]}"
    admin = make_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = make_engine(url, connect_args={"options": f"-csearch_path={schema}"})
    upgrade_database(engine)
    yield engine
    engine.dispose()
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture
def engine(backend_engine: Engine) -> Iterator[Engine]:
    yield backend_engine
    # APScheduler makes its job table itself, the first time a scheduler runs
    jobs = ("lp_scheduler_jobs",) if inspect(backend_engine).has_table("lp_scheduler_jobs") else ()
    with backend_engine.begin() as conn:
        if backend_engine.dialect.name == "postgresql":
            conn.execute(text(f"TRUNCATE {', '.join((*TABLES, *jobs))} RESTART IDENTITY CASCADE"))
        else:
            for table in (*TABLES, *jobs):
                conn.execute(text(f"DELETE FROM {table}"))
    KEYS.forget()  # the process's copy of the key table, emptied with it
