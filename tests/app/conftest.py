"""Fixtures of the app tests: the fixture sources synced into the real store (both
databases), and a client of the app serving them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Engine

from app.main import create_app
from app.runtime import Runtime, build_runtime
from app.settings import Settings
from nlp.enrichment import Enricher
from nlp.journey import Journey, load_journey
from nlp.pipeline import build_enricher
from tests.app.helpers import admin_headers
from tests.conftest import FIXTURES


@pytest.fixture(scope="session")
def journey() -> Journey:
    return load_journey()


@pytest.fixture(scope="session")
def enricher(journey: Journey) -> Enricher:
    """One pipeline for the whole session: building it costs seconds."""
    return build_enricher(journey)


@pytest.fixture
def runtime(engine: Engine) -> Runtime:
    settings = Settings(
        database_url=str(engine.url),
        sources_file=FIXTURES / "app" / "sources.yaml",
        scheduler_enabled=False,
    )
    rt = build_runtime(settings, engine=engine)
    for source_id in rt.sources:
        assert rt.jobs.sync(source_id).status == "succeeded"
    return rt


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime=runtime, start_scheduler=False)) as test_client:
        test_client.headers.update(admin_headers(runtime.engine))
        yield test_client


@pytest.fixture
def pg_engine(engine: Engine) -> Iterator[Engine]:
    """The PostgreSQL engine for the queue's tests; procrastinate's rows cleared after."""
    if engine.dialect.name != "postgresql":
        pytest.skip("the queue lives in PostgreSQL; SQLite runs every job in-process")
    yield engine
    with engine.begin() as conn:
        if conn.execute(text("SELECT to_regclass('procrastinate_jobs')")).scalar():
            conn.execute(text("DELETE FROM procrastinate_jobs"))
            conn.execute(text("DELETE FROM procrastinate_workers"))
