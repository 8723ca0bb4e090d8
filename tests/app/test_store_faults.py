"""The store refusing writes (a full disk, a read-only database): a clear error on
the run, in the API and the CLI, and nothing lost or doubled once it takes writes."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, func, select, text
from sqlalchemy.engine import Engine

from app.db import make_engine
from app.errors import StoreUnavailableError
from app.main import create_app
from app.models import Item
from app.runtime import build_runtime
from app.settings import Settings
from tests.app.helpers import admin_headers
from tests.app.test_queue import expected_counts, write_survey


def _items(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(Item)).scalar_one())


def test_a_full_disk_fails_the_run_with_why_and_the_next_run_completes(tmp_path: Path) -> None:
    path = tmp_path / "small.db"
    engine = make_engine(f"sqlite:///{path}")
    sources = write_survey(tmp_path, rows=3_000, batch_size=200)
    runtime = build_runtime(
        Settings(database_url=f"sqlite:///{path}", sources_file=sources, scheduler_enabled=False),
        engine=engine,
    )
    try:
        with engine.connect() as conn:
            pages = int(conn.execute(text("PRAGMA page_count")).scalar_one())
        limit = {"pages": pages + 600}  # room for a few batches, not for 3,000 records

        @event.listens_for(engine, "connect")
        def small_disk(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.execute(f"PRAGMA max_page_count = {limit['pages']}")

        engine.dispose()  # every connection from now on has the small disk
        result = runtime.jobs.sync("survey")
        assert result.status == "failed"
        assert result.error is not None
        assert "database or disk is full" in result.error
        assert "refused the write" in result.error
        stored = _items(engine)
        assert 0 < stored < expected_counts(3_000)["inserted"]
        assert result.inserted == stored  # the run counts what it stored
        limit["pages"] = 1_000_000  # space freed
        engine.dispose()
        again = runtime.jobs.sync("survey")
        assert again.status == "succeeded", again.error
        assert _items(engine) == expected_counts(3_000)["inserted"]  # nothing lost, none twice
        assert again.inserted == expected_counts(3_000)["inserted"] - stored
    finally:
        runtime.close()


def test_a_read_only_database_is_a_clear_error_in_the_jobs_and_the_api(
    engine: Engine, tmp_path: Path
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("a read-only PostgreSQL (a standby, default_transaction_read_only)")
    sources = write_survey(tmp_path, rows=100, batch_size=50)
    runtime = build_runtime(
        Settings(database_url=str(engine.url), sources_file=sources, scheduler_enabled=False),
        engine=engine,
    )
    headers = admin_headers(engine, "admin")
    with engine.connect() as conn:
        schema = conn.execute(text("SELECT current_schema()")).scalar_one()
    read_only = make_engine(
        engine.url.render_as_string(hide_password=False),
        connect_args={"options": f"-csearch_path={schema} -cdefault_transaction_read_only=on"},
    )
    try:
        jobs = dataclasses.replace(runtime.jobs, engine=read_only)
        with pytest.raises(StoreUnavailableError) as raised:
            jobs.sync("survey")
        assert "read-only transaction" in raised.value.message
        assert "refused the write" in raised.value.message
        stuck = dataclasses.replace(runtime, engine=read_only, jobs=jobs)
        with TestClient(create_app(runtime=stuck, start_scheduler=False)) as client:
            answer = client.post("/api/v1/sources/survey/sync", headers=headers)
        assert answer.status_code == 503, answer.text
        assert "read-only" in answer.json()["detail"]
        assert _items(engine) == 0
    finally:
        read_only.dispose()
        runtime.close()
