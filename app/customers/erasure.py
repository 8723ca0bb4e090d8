"""Right to erasure and retention: items leave the store with everything made
from them (segments, voice facts, the rollups' counts, the customer's place in
the distinct-customer sets), so the story and the feeds stay exactly what a
rebuild from the remaining items would give."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.engine import Connection, Engine

from app.db_types import utcnow
from app.models import table as _t
from app.readmodel.maintain import forget
from app.readmodel.rollups import Deltas
from app.readmodel.versions import OUTCOMES_CHANGED, bump

CHUNK = 500


@dataclass(frozen=True, slots=True)
class Erased:
    items: int
    segments: int
    outcomes: int = 0


def _remove(conn: Connection, item_ids: Sequence[int]) -> Erased:
    """Take these items and all that was made of them out, in the caller's transaction."""
    items, segments, duplicates = _t("items"), _t("segments"), _t("run_duplicates")
    deltas = Deltas()
    forget(conn, deltas, item_ids)
    deltas.apply(conn)
    gone_segments = conn.execute(delete(segments).where(segments.c.item_id.in_(item_ids)))
    conn.execute(delete(duplicates).where(duplicates.c.matched_item_id.in_(item_ids)))
    gone_items = conn.execute(delete(items).where(items.c.id.in_(item_ids)))
    return Erased(items=int(gone_items.rowcount or 0), segments=int(gone_segments.rowcount or 0))


def erase_customer(engine: Engine, refs: Sequence[str]) -> Erased:
    """Every item of this customer (any of `refs`: the reference as given and its
    pseudonym), in one transaction; the customer's number goes too."""
    items, ids = _t("items"), _t("customer_ids")
    total_items = total_segments = 0
    with engine.begin() as conn:
        found = [
            int(i)
            for i in conn.execute(select(items.c.id).where(items.c.author_ref.in_(list(refs))))
            .scalars()
            .all()
        ]
        for start in range(0, len(found), CHUNK):
            erased = _remove(conn, found[start : start + CHUNK])
            total_items += erased.items
            total_segments += erased.segments
        conn.execute(delete(ids).where(ids.c.customer.in_(list(refs))))
        events = _t("outcome_events")
        bump(conn, OUTCOMES_CHANGED)
        gone = conn.execute(delete(events).where(events.c.customer.in_(list(refs))))
    return Erased(items=total_items, segments=total_segments, outcomes=int(gone.rowcount or 0))


def purge_before(engine: Engine, cutoff: datetime) -> Erased:
    """Retention: items said before `cutoff`, a transaction per chunk (the read model
    is consistent after each)."""
    items = _t("items")
    total_items = total_segments = 0
    while True:
        with engine.begin() as conn:
            chunk = [
                int(i)
                for i in conn.execute(
                    select(items.c.id).where(items.c.occurred_at < cutoff).limit(CHUNK)
                )
                .scalars()
                .all()
            ]
            if not chunk:
                break
            erased = _remove(conn, chunk)
        total_items += erased.items
        total_segments += erased.segments
    events = _t("outcome_events")
    with engine.begin() as conn:
        bump(conn, OUTCOMES_CHANGED)
        gone = conn.execute(delete(events).where(events.c.occurred_at < cutoff))
    return Erased(items=total_items, segments=total_segments, outcomes=int(gone.rowcount or 0))


def retention_cutoff(days: int) -> datetime:
    return utcnow() - timedelta(days=days)
