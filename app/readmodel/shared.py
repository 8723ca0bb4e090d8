"""Answers shared between replicas through PostgreSQL (`kept_answers`).

Every replica keeps its answers in memory (`app.readmodel.answers`), but each one
would make every answer again after each write: with two replicas under a stream
of pushes, the story, the stage pages and the outcomes band were each made twice
per push. Here the first replica to need an answer for a new state makes it, under
a PostgreSQL advisory lock named for the question, and stores it; the others read
it from the table. A replica that finds the lock taken serves the answer it had
(as in one process); one that has none waits for the maker.
"""

from __future__ import annotations

import hashlib
import random
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Generic, TypeVar

from sqlalchemy import delete, func, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection, Engine

from app.db import code_version
from app.db_types import utcnow
from app.models import table

T = TypeVar("T")

WAIT_SECONDS = 30.0
"""How long a replica with no answer at all waits for another one making it; past
that it makes its own (the other may be stuck on a slow query)."""
POLL_SECONDS = 0.05
KEEP_FOR = timedelta(days=1)
"""Rows not made again for this long are deleted, now and then, by a writer."""
PRUNE_EVERY = 200  # about one write in this many prunes


class MadeElsewhere(Exception):  # noqa: N818 - a signal, not a failure
    """Another replica is making this answer; the caller serves the one it has."""


@dataclass(frozen=True, slots=True)
class Codec(Generic[T]):
    encode: Callable[[T], bytes]
    decode: Callable[[bytes], T]


@dataclass(frozen=True, slots=True)
class Shared(Generic[T]):
    """The table of one PostgreSQL database, for answers of one kind."""

    engine: Engine
    codec: Codec[T]

    def fetch_or_make(
        self, question: Hashable, state: Hashable, make: Callable[[], T], *, has_before: bool
    ) -> tuple[T, float]:
        """The answer and when it was made (`time.time()`): read if a replica made it
        for this state, else made here. Raises `MadeElsewhere` when another replica is
        making it and the caller `has_before`."""
        key = hashlib.sha256(repr((code_version(), question)).encode("utf-8")).hexdigest()
        said = repr(state)
        lock = int.from_bytes(bytes.fromhex(key[:16]), "big", signed=True)
        with self.engine.connect() as side:
            found = self._found(side, key, said)
            if found is not None:
                return found
            locked = _try_lock(side, lock)
            if not locked:
                if has_before:
                    raise MadeElsewhere
                deadline = time.monotonic() + WAIT_SECONDS
                while not locked and time.monotonic() < deadline:
                    time.sleep(POLL_SECONDS)
                    found = self._found(side, key, said)
                    if found is not None:
                        return found
                    locked = _try_lock(side, lock)
            try:
                if locked:  # made while this one took the lock?
                    found = self._found(side, key, said)
                    if found is not None:
                        return found
                value = make()
                made = utcnow()
                self._keep(side, key, said, self.codec.encode(value), made)
                return value, made.timestamp()
            finally:
                if locked:
                    side.execute(select(func.pg_advisory_unlock(lock)))
                    side.commit()

    def _found(self, side: Connection, key: str, state: str) -> tuple[T, float] | None:
        kept = table("kept_answers")
        row = side.execute(
            select(kept.c.body, kept.c.made_at).where(kept.c.key == key, kept.c.state == state)
        ).first()
        side.commit()
        if row is None:
            return None
        made: datetime = row.made_at
        aware = made if made.tzinfo else made.replace(tzinfo=UTC)
        return self.codec.decode(bytes(row.body)), aware.timestamp()

    def _keep(self, side: Connection, key: str, state: str, body: bytes, made: datetime) -> None:
        kept = table("kept_answers")
        row = {"key": key, "state": state, "body": body, "made_at": made}
        stmt = postgresql.insert(kept).values(**row)
        side.execute(
            stmt.on_conflict_do_update(
                index_elements=[kept.c.key],
                set_={
                    "state": stmt.excluded.state,
                    "body": stmt.excluded.body,
                    "made_at": stmt.excluded.made_at,
                },
            )
        )
        if random.randrange(PRUNE_EVERY) == 0:  # noqa: S311 - not a secret
            side.execute(delete(kept).where(kept.c.made_at < made - KEEP_FOR))
        side.commit()


def _try_lock(side: Connection, lock: int) -> bool:
    locked = bool(side.execute(select(func.pg_try_advisory_lock(lock))).scalar())
    side.commit()
    return locked


def shared(engine: Engine, codec: Codec[T] | None) -> Shared[T] | None:
    """The table on PostgreSQL; None on SQLite (one process serves it) or without a
    way to store the answer."""
    if codec is None or engine.dialect.name != "postgresql":
        return None
    return Shared(engine, codec)


BYTES: Codec[bytes] = Codec(encode=lambda body: body, decode=lambda body: body)
