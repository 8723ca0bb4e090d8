"""Change counters for the read model's tables (`read_versions`): what an in-memory
copy of a table checks, one small read, before it answers from memory."""

from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from app.models import table

FACTS_ADDED = "voice_facts.added"
FACTS_REMOVED = "voice_facts.removed"
OUTCOMES_CHANGED = "outcome_events.changed"
ROLLUPS_CHANGED = "rollups.changed"  # any daily rollup or customer set: the story's input
ALERTS_CHANGED = "alerts.changed"  # an alert fired, updated, resolved or acknowledged


def bump(conn: Connection, name: str) -> None:
    """Count one change of this kind, in the caller's transaction (and hold the row's
    lock until it commits: writers of the same kind queue here, in commit order).

    A counter starts at a random number: a table emptied and written again (a
    restore, a test's clean-up) does not come back to a number a copy in memory
    already holds for other rows."""
    versions = table("read_versions")
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(versions).values(name=name, version=secrets.randbits(62))
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=[versions.c.name], set_={"version": versions.c.version + 1}
        )
    )


def read(conn: Connection, *names: str) -> tuple[int, ...]:
    versions = table("read_versions")
    query = select(versions.c.name, versions.c.version).where(versions.c.name.in_(names))
    found: dict[str, int] = dict(conn.execute(query).all())
    return tuple(int(found.get(name, 0)) for name in names)
