from __future__ import annotations

import threading
import uuid

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine

from app.db import alembic_config, make_engine, upgrade_database
from tests.conftest import _postgres_url

TABLES = {"sources", "sync_runs", "items", "segments", "quarantine", "run_duplicates"}


def test_upgrade_is_idempotent_and_downgrade_removes_everything(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from alembic import command

    engine = make_engine(f"sqlite:///{tmp_path / 'm.db'}")
    upgrade_database(engine)
    upgrade_database(engine)  # a restart: nothing to do, nothing breaks
    assert TABLES <= set(inspect(engine).get_table_names())
    command.downgrade(alembic_config(engine), "base")
    assert not TABLES & set(inspect(engine).get_table_names())
    engine.dispose()


def test_replicas_starting_together_upgrade_once() -> None:
    url = _postgres_url()
    if url is None:
        pytest.skip("needs TEST_DATABASE_URL")
    schema = f"lp_mig_{uuid.uuid4().hex[:8]}"
    admin = make_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engines: list[Engine] = [
        # lock_timeout: without the upgrade lock the replicas deadlock on DDL; fail, never hang
        make_engine(url, connect_args={"options": f"-csearch_path={schema} -clock_timeout=20s"})
        for _ in range(3)
    ]
    errors: list[BaseException] = []

    def start(engine: Engine) -> None:
        try:
            upgrade_database(engine)
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=start, args=(e,)) for e in engines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    try:
        assert errors == []
        assert TABLES <= set(inspect(engines[0]).get_table_names())
        with engines[0].connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1
    finally:
        for engine in engines:
            engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def test_the_migrations_make_exactly_the_models_tables(engine: Engine) -> None:
    """What Alembic would autogenerate after `upgrade head` is nothing: no column,
    index or constraint of the models is missing from the migrations, none extra."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlmodel import SQLModel

    import app.models  # noqa: F401  (the tables)

    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn,
            opts={
                "compare_type": False,
                # APScheduler's job table (app.scheduler) and procrastinate's queue
                # (app.queue, created by procrastinate's own schema): not ours to migrate
                "include_name": lambda name, kind, _: (
                    not (
                        kind == "table"
                        and (name == "lp_scheduler_jobs" or name.startswith("procrastinate_"))
                    )
                ),
            },
        )
        diff = compare_metadata(context, SQLModel.metadata)
    assert diff == []


def test_an_upgraded_database_gets_its_customer_sets_from_the_daily_rows(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from alembic import command
    from pyroaring import BitMap

    engine = make_engine(f"sqlite:///{tmp_path / 'up.db'}")
    command.upgrade(alembic_config(engine), "d3b9f2a7c615")  # before customer sets
    with engine.begin() as conn:
        for day, stage, customer in [
            ("2026-03-01", "billing", "a"),
            ("2026-03-01", "billing", "b"),
            ("2026-03-02", "billing", "a"),
            ("2026-03-01", "", "a"),
        ]:
            conn.execute(
                text(
                    "INSERT INTO daily_customers (day, stage, channel, source_id, customer, voices) "
                    "VALUES (:d, :s, 'survey', 'src', :c, 1)"
                ),
                {"d": day, "s": stage, "c": customer},
            )
    upgrade_database(engine)
    with engine.connect() as conn:
        numbers = dict(conn.execute(text("SELECT customer, id FROM customer_ids")).all())
        sets = {
            (day, stage): set(BitMap.deserialize(members))
            for day, stage, members in conn.execute(
                text("SELECT day, stage, members FROM customer_sets")
            )
        }
    assert set(numbers) == {"a", "b"}
    assert sets == {
        ("2026-03-01", "billing"): {numbers["a"], numbers["b"]},
        ("2026-03-02", "billing"): {numbers["a"]},
        ("2026-03-01", ""): {numbers["a"]},
    }
    engine.dispose()


def test_a_database_url_with_a_percent_escape_upgrades(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Alembic's config interpolates `%`: an escaped password or option in the URL
    (`%40`, `%3D`) must still start the service."""
    engine = make_engine(f"sqlite:///{tmp_path / 'odd%3Dname.db'}")
    upgrade_database(engine)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM items")).scalar_one() == 0
    engine.dispose()
