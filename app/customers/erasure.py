"""Right to erasure and retention: items leave the store with everything made
from them (segments, voice facts, the rollups' counts, the customer's place in
the distinct-customer sets, the quotes alerts and their webhook messages carry),
so the story and the feeds stay exactly what a rebuild from the remaining items
would give, and no copy of the words is left behind."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.engine import Connection, Engine

from app.db_types import utcnow
from app.models import table as _t
from app.readmodel.maintain import forget
from app.readmodel.rollups import Deltas
from app.readmodel.versions import ALERTS_CHANGED, OUTCOMES_CHANGED, bump

CHUNK = 500
ERASED_QUOTE = "[erased]"


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
    _unquote(conn, item_ids)
    return Erased(items=int(gone_items.rowcount or 0), segments=int(gone_segments.rowcount or 0))


def _unquote(conn: Connection, item_ids: Sequence[int]) -> None:
    """Alerts quote up to three voices, and their webhook messages copy the quotes:
    those of these items leave the alerts, and are blanked in the messages (a sent
    message is the delivery log; a pending one must not send them)."""
    alerts, deliveries = _t("alerts"), _t("alert_deliveries")
    gone = set(item_ids)
    texts: list[str] = []
    touched: set[int] = set()
    for alert_id, quotes in conn.execute(select(alerts.c.id, alerts.c.quotes)).all():
        kept = [q for q in quotes or [] if q.get("item_id") not in gone]
        if len(kept) != len(quotes or []):
            texts += [q["text"] for q in quotes if q.get("item_id") in gone]
            touched.add(int(alert_id))
            conn.execute(update(alerts).where(alerts.c.id == alert_id).values(quotes=kept))
    if not touched:
        return
    bump(conn, ALERTS_CHANGED)
    escaped = [json.dumps(t)[1:-1] for t in texts if t]
    for message_id, alert_ids, payload in conn.execute(
        select(deliveries.c.id, deliveries.c.alert_ids, deliveries.c.payload)
    ).all():
        if not touched.intersection(alert_ids or []):
            continue
        body = json.dumps(payload)
        for quoted in escaped:
            body = body.replace(quoted, ERASED_QUOTE)
        conn.execute(
            update(deliveries).where(deliveries.c.id == message_id).values(payload=json.loads(body))
        )


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
