"""Re-running the NLP over stored items, after a journey edit or a pipeline upgrade.

The pipeline's `version` changes whenever what it says about a text may change
(a journey edit included); items stored under another version are re-enriched
batch by batch, each batch in one transaction that replaces the item's NLP
columns, its segments and its read-model facts. Stopping half-way loses
nothing: the next run picks up the items still on another version.

Only redacted text is ever stored, so that is what the pipeline reads again;
redaction is idempotent on it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, bindparam, delete, func, select, update
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from app.db_types import utcnow
from app.ingest.rows import nlp_columns, segment_rows
from app.readmodel.maintain import forget, insert_segments, record
from app.readmodel.rollups import Deltas
from nlp.enrichment import Enricher, EnrichRequest

ITEMS: Table = SQLModel.metadata.tables["items"]
SEGMENTS: Table = SQLModel.metadata.tables["segments"]


@dataclass(frozen=True, slots=True)
class ReenrichProgress:
    done: int
    total: int


def stale_count(engine: Engine, *, version: str, source_id: str | None = None) -> int:
    query = select(func.count()).select_from(ITEMS).where(ITEMS.c.nlp_version != version[:64])
    if source_id is not None:
        query = query.where(ITEMS.c.source_id == source_id)
    with engine.connect() as conn:
        return int(conn.execute(query).scalar_one())


def reenrich(
    engine: Engine,
    *,
    enricher: Enricher,
    source_id: str | None = None,
    batch_size: int = 500,
    on_batch: Callable[[ReenrichProgress], None] | None = None,
) -> int:
    """Re-enrich every item whose `nlp_version` is not the pipeline's; returns how many."""
    version = enricher.version[:64]
    total = stale_count(engine, version=version, source_id=source_id)
    done = 0
    after = 0
    while True:
        query = (
            select(ITEMS)
            .where(ITEMS.c.nlp_version != version, ITEMS.c.id > after)
            .order_by(ITEMS.c.id)
            .limit(batch_size)
        )
        if source_id is not None:
            query = query.where(ITEMS.c.source_id == source_id)
        with engine.connect() as conn:
            rows = [dict(r) for r in conn.execute(query).mappings()]
        if not rows:
            break
        enrichments = list(
            enricher.enrich_many(EnrichRequest(r["text"], r["stage_hint"]) for r in rows)
        )
        now = utcnow()
        with engine.begin() as conn:
            deltas = Deltas()
            ids = [int(r["id"]) for r in rows]
            forget(conn, deltas, ids)
            changes: list[dict[str, Any]] = []
            segments: list[list[dict[str, Any]]] = []
            for row, e in zip(rows, enrichments, strict=True):
                change = {**nlp_columns(e), "updated_at": now}
                changes.append({"_id": row["id"], **change})
                row.update(change)
                segments.append(segment_rows(row["id"], row["source_id"], row["occurred_at"], e))
            conn.execute(update(ITEMS).where(ITEMS.c.id == bindparam("_id")), changes)
            conn.execute(delete(SEGMENTS).where(SEGMENTS.c.item_id.in_(ids)))
            flat = [s for per_item in segments for s in per_item]
            insert_segments(conn, flat)
            record(conn, deltas, zip(rows, segments, strict=True))
            deltas.apply(conn)
        done += len(rows)
        after = int(rows[-1]["id"])
        if on_batch is not None:
            on_batch(ReenrichProgress(done=done, total=total))
    return done
