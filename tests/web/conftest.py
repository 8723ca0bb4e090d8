"""Fixtures of the page tests. The pages only read, so one company per module and
backend is synced once (both databases) and wiped when the module is done."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Engine

from app.main import create_app
from app.runtime import Runtime, build_runtime
from app.settings import Settings
from tests.conftest import FIXTURES, TABLES


def wipe(engine: Engine) -> None:
    """Empty every table, as the per-test `engine` fixture does after each test."""
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))
        else:
            for table in TABLES:
                conn.execute(text(f"DELETE FROM {table}"))


def synced(engine: Engine, sources_file: Path | None) -> Runtime:
    """A runtime over `engine` with every source of `sources_file` (None: the bundled
    sample company) synced."""
    settings = Settings(
        database_url=str(engine.url), sources_file=sources_file, scheduler_enabled=False
    )
    rt = build_runtime(settings, engine=engine)
    for source_id in rt.sources:
        assert rt.jobs.sync(source_id).status == "succeeded"
    return rt


@pytest.fixture(scope="module")
def company(backend_engine: Engine) -> Iterator[Runtime]:
    """The fixture company (tests/fixtures/app), 1-10 September 2026."""
    wipe(backend_engine)
    yield synced(backend_engine, FIXTURES / "app" / "sources.yaml")
    wipe(backend_engine)


@pytest.fixture(scope="module")
def client(company: Runtime) -> Iterator[TestClient]:
    app = create_app(runtime=company, start_scheduler=False)
    with TestClient(app, follow_redirects=False) as test_client:
        yield test_client
