"""Engine, sessions and schema upgrades.

Nothing here runs at import time: the service's lifespan and the CLI create the
engine from `Settings`, then `upgrade_database` brings the schema to head with
Alembic, so SQLite and PostgreSQL get exactly the same tables.
"""

from __future__ import annotations

import functools
from importlib import metadata, resources
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.script import ScriptDirectory
from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlmodel import create_engine


def make_engine(database_url: str, **kwargs: Any) -> Engine:
    # A failing statement's bound values are customers' words and references: never
    # in an exception's text, so never in a log line either.
    kwargs.setdefault("hide_parameters", True)
    if database_url.startswith("sqlite"):
        path = database_url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            database_url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(database_url, pool_pre_ping=True, **kwargs)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the API read while a sync writes; foreign keys are off by default in SQLite.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _migrations() -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(resources.files("migrations")))
    return config


def alembic_config(engine: Engine) -> AlembicConfig:
    config = _migrations()
    # ConfigParser interpolates `%`: a URL-escaped password or option ("%3D") must
    # reach Alembic doubled, or start-up fails on a perfectly valid URL.
    url = engine.url.render_as_string(hide_password=False)
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["engine"] = engine
    return config


MIGRATION_LOCK_KEY = 0x4C50_4D49_4752  # "LPMIGR": one upgrader at a time per database


def upgrade_database(engine: Engine, revision: str = "head") -> None:
    """Upgrade the schema; on PostgreSQL replicas starting together take turns
    (a session advisory lock), so none sees a half-made schema or races to create it."""
    config = alembic_config(engine)
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_lock(:k)"), {"k": MIGRATION_LOCK_KEY})
            connection.commit()
        try:
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
        finally:
            if engine.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": MIGRATION_LOCK_KEY})
                connection.commit()


ANALYZE_AFTER_ROWS = 10_000
"""A write this large (a backfill, a rebuild) refreshes the planner's statistics."""


def analyze(engine: Engine, tables: tuple[str, ...]) -> None:
    """Fresh planner statistics for these tables after a large write.

    PostgreSQL's autovacuum would get to it, but maybe hours later, or never where
    it is turned off: until then the planner guesses from an empty table (measured
    at 1M items without statistics: an items page cost 195 ms of database CPU
    instead of 1.7 ms). SQLite's planner reads `sqlite_stat1` the same way."""
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("ANALYZE " + ", ".join(tables)))
        else:
            for name in tables:
                conn.execute(text(f"ANALYZE {name}"))


@functools.cache
def code_version() -> str:
    """This code's package version and schema head: what an answer kept in the
    database for other replicas must match, so a replica of another release (a
    rolling upgrade) never serves a shape or number made by different code."""
    head = ScriptDirectory.from_config(_migrations()).get_current_head()
    try:
        version = metadata.version("listening-path")
    except metadata.PackageNotFoundError:
        version = "unpackaged"
    return f"{version}+{head}"
