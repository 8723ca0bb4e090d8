"""Which replica schedules: one at a time per database, another when it dies.

Several service replicas can share one PostgreSQL; each source must still run
once per tick. The replica holding a PostgreSQL session advisory lock is the
leader: it runs the scheduler and the early warning. The lock lives as long as
the leader's connection, so when that process dies (or its connection does) the
database releases it and a standby, asking every `retry_seconds`, takes over.
The leader checks its connection on the same beat and steps down if it is gone.

SQLite deployments are one process by design; a file lock beside the database
file keeps a second process (a stray `serve`) from scheduling too.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from filelock import FileLock, Timeout
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

log = logging.getLogger(__name__)

LEADER_LOCK_CLASS = 0x4C50  # "LP"; the key within it names the database and schema


class Leadership:
    def __init__(
        self,
        engine: Engine,
        *,
        on_elected: Callable[[], None],
        on_deposed: Callable[[], None],
        retry_seconds: float = 5.0,
    ) -> None:
        self._engine = engine
        self._on_elected, self._on_deposed = on_elected, on_deposed
        self._retry = retry_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="leadership", daemon=True)
        self._conn: Connection | None = None
        self._file_lock: FileLock | None = None
        self.leading = False

    def start(self) -> None:
        """Stand for election now (a lone replica leads before this returns), then
        keep standing in the background."""
        try:
            if self._try_lead():
                self._on_elected()
                self.leading = True  # once the scheduler is up, not before
        except Exception:
            log.exception("leader election failed; trying again")
            self._step_down()  # never hold the lock without leading
        self._thread.start()

    def wait_elected(self, timeout: float) -> bool:
        """For tests and start-up logs: True once this replica leads."""
        deadline = threading.Event()
        waited = 0.0
        while not self.leading and waited < timeout:
            deadline.wait(0.05)
            waited += 0.05
        return self.leading

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(self._retry + 5)
        self._step_down()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                if not self.leading:
                    if self._try_lead():
                        log.info("this replica leads: scheduling sources and alerts")
                        self._on_elected()
                        self.leading = True  # once the scheduler is up, not before
                elif not self._still_leading():
                    log.warning("lost the leader lock: stepping down")
                    self._step_down()
            except Exception:  # a database blip must not kill the election thread
                log.exception("leader election failed; trying again")
                self._step_down()
            self._stop.wait(self._retry)

    def _try_lead(self) -> bool:
        if self._engine.dialect.name != "postgresql":
            return self._try_file_lock()
        conn = self._engine.connect()
        # One leader per deployment: per database and schema (deployments, and test
        # runs, may share a server or a database in separate schemas).
        query = text(
            "SELECT pg_try_advisory_lock(:c, hashtext(current_database() || '.' || "
            "current_schema()))"
        )
        got = bool(conn.execute(query, {"c": LEADER_LOCK_CLASS}).scalar())
        conn.commit()
        if got:
            self._conn = conn
        else:
            conn.close()
        return got

    def _try_file_lock(self) -> bool:
        database = self._engine.url.database
        if not database or database == ":memory:":
            return True
        lock = FileLock(str(Path(database).with_suffix(".scheduler.lock")))
        try:
            lock.acquire(timeout=0)
        except Timeout:
            return False
        self._file_lock = lock
        return True

    def _still_leading(self) -> bool:
        if self._conn is None:
            return self._engine.dialect.name != "postgresql"
        try:
            self._conn.execute(text("SELECT 1"))
            self._conn.commit()
        except Exception:
            return False
        return True

    def _step_down(self) -> None:
        was = self.leading
        self.leading = False
        if self._conn is not None:
            try:
                # Invalidated, not returned to the pool: only ending the database
                # session releases its advisory lock.
                self._conn.invalidate()
                self._conn.close()
            except Exception:
                log.debug("leader connection already gone")
            self._conn = None
        if self._file_lock is not None:
            self._file_lock.release()
            self._file_lock = None
        if was:
            self._on_deposed()
