"""Never two runs of one source at once: a lock per source id, across processes.

In one process a `threading.Lock` per source; across processes (another replica,
a CLI `sync` beside `serve`) a PostgreSQL session advisory lock, or on SQLite an
OS file lock (`filelock`) on a file beside the database. Both are released by
the operating system or the server when their process dies, so a killed sync
never leaves its source locked, and whoever holds the lock knows that any run
of that source still marked `running` belongs to a dead process.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

_guard = threading.Lock()
_local_locks: dict[str, threading.Lock] = {}


class SourceBusyError(RuntimeError):
    pass


def _digest(source_id: str) -> bytes:
    return hashlib.sha256(f"listening-path:source:{source_id}".encode()).digest()


def _advisory_key(source_id: str) -> int:
    return int.from_bytes(_digest(source_id)[:8], "big", signed=True)


def postgres_lock_key(conn: Connection, source_id: str) -> int:
    """The advisory lock of a source *of this deployment*: the key mixes in the
    database and schema, so deployments (and test runs) sharing a server in separate
    schemas never wait on each other's sources."""
    scope = conn.execute(text("SELECT current_database() || '.' || current_schema()")).scalar()
    return _advisory_key(f"{scope}:{source_id}")


def sqlite_lock_path(engine: Engine, source_id: str) -> Path | None:
    """The lock file of a source on a file-backed SQLite database (None in memory)."""
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(f"{database}-locks") / f"source-{_digest(source_id).hex()[:24]}.lock"


def _busy(source_id: str) -> SourceBusyError:
    return SourceBusyError(f"a sync of source {source_id!r} is already running in another process")


@contextmanager
def _postgres_lock(engine: Engine, source_id: str, wait: float) -> Iterator[None]:
    with engine.connect() as conn:
        key = postgres_lock_key(conn, source_id)
        deadline = time.monotonic() + wait
        while True:
            got = conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar()
            conn.commit()
            if got:
                break
            if time.monotonic() >= deadline:
                raise _busy(source_id)
            time.sleep(0.05)
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
            conn.commit()


@contextmanager
def _sqlite_lock(engine: Engine, source_id: str, wait: float) -> Iterator[None]:
    path = sqlite_lock_path(engine, source_id)
    if path is None:  # an in-memory database lives in one process
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(path, timeout=wait)
    try:
        lock.acquire()
    except Timeout:
        raise _busy(source_id) from None
    try:
        yield
    finally:
        lock.release()


@contextmanager
def source_lock(engine: Engine, source_id: str, *, wait: float = 0.0) -> Iterator[None]:
    """Hold the source's lock; `wait` seconds at most for it (a posted batch waits
    for the one before it; a sync finding its source busy gives way at once)."""
    with _guard:
        lock = _local_locks.setdefault(source_id, threading.Lock())
    started = time.monotonic()
    got = lock.acquire(timeout=wait) if wait > 0 else lock.acquire(blocking=False)
    if not got:
        raise SourceBusyError(f"a sync of source {source_id!r} is already running")
    try:
        left = max(0.0, wait - (time.monotonic() - started))
        across = _postgres_lock if engine.dialect.name == "postgresql" else _sqlite_lock
        with across(engine, source_id, left):
            yield
    finally:
        lock.release()
