"""The `sql` kind (both databases as the warehouse): outcome events, or feedback,
from a read-only query, incrementally by a cursor column, through ingest."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from app.ingest.service import SyncResult, run_sync
from app.runtime import Runtime, build_runtime
from app.settings import Settings
from connectors.errors import ConfigError
from connectors.sql import SqlConnector
from tests.app.helpers import Crash, add_source
from tests.conftest import FIXTURES

ROWS = [
    (1, "acct-1", "joined", "2026-01-03", 500.0, "home"),
    (2, "acct-2", "joined", "2026-01-04", 900.0, "business"),
    (3, "acct-1", "expanded", "2026-02-01", 650.0, "home"),
    (4, "acct-3", "joined", "2026-02-02", 300.0, "home"),
    (5, "acct-2", "left", "2026-03-05", None, "business"),
]


@pytest.fixture
def warehouse(engine: Engine, tmp_path: Path) -> Iterator[tuple[Engine, str]]:
    """A CRM table in a database of the test's backend, and its URL."""
    if engine.dialect.name == "postgresql":
        schema = f"wh_{uuid.uuid4().hex[:8]}"
        url = engine.url.render_as_string(hide_password=False).split("?")[0]
        admin = create_engine(url)
        with admin.begin() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        wh_url = f"{url}?options=-csearch_path%3D{schema}"
    else:
        admin = None
        wh_url = f"sqlite:///{tmp_path / 'warehouse.db'}"
    wh = create_engine(wh_url)
    with wh.begin() as conn:
        conn.execute(
            text(
                "CREATE TABLE crm_events (id INTEGER PRIMARY KEY, customer_ref TEXT, "
                "kind TEXT, at TEXT, amount REAL, segment TEXT)"
            )
        )
        for row in ROWS:
            conn.execute(
                text("INSERT INTO crm_events VALUES (:i, :c, :k, :a, :m, :s)"),
                dict(zip("ickams", row, strict=True)),
            )
    yield wh, wh_url
    wh.dispose()
    if admin is not None:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture
def runtime(engine: Engine) -> Runtime:
    return build_runtime(
        Settings(
            database_url=str(engine.url),
            sources_file=FIXTURES / "app" / "sources.yaml",
            scheduler_enabled=False,
        ),
        engine=engine,
    )


def _connector(tmp_path: Path, **config: Any) -> SqlConnector:
    base = {
        "url_env": "LP_TEST_WAREHOUSE",
        "query": "SELECT id, customer_ref, kind, at, amount, segment FROM crm_events",
        "columns": {
            "customer": "customer_ref",
            "event": "kind",
            "occurred_at": "at",
            "value": "amount",
            "event_id": "id",
        },
        "cursor_column": "id",
        "batch_size": 2,
    }
    connector = SqlConnector.from_mapping({**base, **config}, base_dir=tmp_path)
    assert isinstance(connector, SqlConnector)
    return connector


def sync(runtime: Runtime, source_id: str, connector: SqlConnector, **extra: Any) -> SyncResult:
    """A sync through the runtime's pipeline and policy (pseudonyms included)."""
    return run_sync(
        runtime.engine,
        source_id=source_id,
        connector=connector,
        enricher=runtime.enricher,
        journey=runtime.journey,
        policy=runtime.policy,
        **extra,
    )


def _events(engine: Engine) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        return list(
            conn.execute(text("SELECT customer, event, value FROM outcome_events ORDER BY day"))
        )


def test_outcomes_from_a_warehouse_incrementally_through_a_crash(
    runtime: Runtime,
    warehouse: tuple[Engine, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    wh, url = warehouse
    monkeypatch.setenv("LP_TEST_WAREHOUSE", url)
    add_source(runtime.engine, "crm", channel="survey")
    connector = _connector(tmp_path)

    def crash(_: object) -> None:
        raise Crash("killed")

    crashed = sync(runtime, "crm", connector, on_batch=crash)
    assert crashed.status == "failed"
    assert len(_events(runtime.engine)) == 2  # the first batch, kept
    result = sync(runtime, "crm", connector)
    assert result.status == "succeeded", result.error
    stored = _events(runtime.engine)
    assert [(c, e) for c, e, _ in stored] == [(r[1], r[2]) for r in ROWS]
    assert stored[2][2] == 650.0
    with wh.begin() as conn:
        conn.execute(
            text("INSERT INTO crm_events VALUES (6, 'acct-3', 'left', '2026-04-01', NULL, 'home')")
        )
    again = sync(runtime, "crm", connector)
    assert (again.fetched, again.inserted) == (1, 1)
    assert len(_events(runtime.engine)) == 6


def test_the_query_is_read_only(
    tmp_path: Path, warehouse: tuple[Engine, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    wh, url = warehouse
    monkeypatch.setenv("LP_TEST_WAREHOUSE", url)
    for query in (
        "SELECT 1; DELETE FROM crm_events",
        "DELETE FROM crm_events",
        "WITH gone AS (DELETE FROM crm_events RETURNING id) SELECT * FROM gone",
    ):
        with pytest.raises(ConfigError, match="read-only SELECT|one statement"):
            _connector(tmp_path, query=query)
    # and the database itself refuses a write a query might smuggle in
    sneaky = _connector(tmp_path, query="SELECT id, customer_ref, kind, at, amount FROM crm_events")
    engine = sneaky._engine()
    with engine.connect() as conn, pytest.raises(Exception, match="read.only|readonly"):
        conn.execute(text("DELETE FROM crm_events"))
    engine.dispose()
    with wh.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM crm_events")).scalar() == len(ROWS)


def test_feedback_rows_from_a_warehouse(
    runtime: Runtime, warehouse: tuple[Engine, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wh, url = warehouse
    monkeypatch.setenv("LP_TEST_WAREHOUSE", url)
    with wh.begin() as conn:
        conn.execute(text("CREATE TABLE answers (id INTEGER, body TEXT, at TEXT, who TEXT)"))
        conn.execute(
            text(
                "INSERT INTO answers VALUES (1, 'The invoice was wrong again.', '2026-05-01', 'acct-1'), (2, '', '2026-05-02', 'acct-2')"
            )
        )
    add_source(runtime.engine, "answers")
    connector = _connector(
        tmp_path,
        produces="feedback",
        query="SELECT id, body, at, who FROM answers",
        columns={"text": "body", "date": "at", "author": "who"},
        cursor_column=None,
    )
    result = sync(runtime, "answers", connector)
    assert (result.inserted, result.rejected) == (1, 1)
