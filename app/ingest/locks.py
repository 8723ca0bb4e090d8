"""Never two runs of one source at once: a lock per source id.

In one process a `threading.Lock` per source suffices; on PostgreSQL a session
advisory lock also keeps a second process (another replica, a CLI `sync` beside
the service) from running the same source. SQLite deployments are one process.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text
from sqlalchemy.engine import Engine

_guard = threading.Lock()
_local_locks: dict[str, threading.Lock] = {}


class SourceBusyError(RuntimeError):
    pass


def _advisory_key(source_id: str) -> int:
    digest = hashlib.sha256(f"listening-path:source:{source_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@contextmanager
def source_lock(engine: Engine, source_id: str) -> Iterator[None]:
    with _guard:
        lock = _local_locks.setdefault(source_id, threading.Lock())
    if not lock.acquire(blocking=False):
        raise SourceBusyError(f"a sync of source {source_id!r} is already running")
    try:
        if engine.dialect.name != "postgresql":
            yield
            return
        key = _advisory_key(source_id)
        with engine.connect() as conn:
            got = conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar()
            conn.commit()
            if not got:
                raise SourceBusyError(
                    f"a sync of source {source_id!r} is already running in another process"
                )
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                conn.commit()
    finally:
        lock.release()
