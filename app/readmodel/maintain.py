"""Keeping the read model in step with the items: called inside the transaction
that writes them (ingest, re-enrichment), and by `rollups rebuild`.

`forget` must run before an item's row is overwritten: it takes away what the
stored version added. `record` adds what the new version says.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Table, delete, select
from sqlalchemy.engine import Connection, Engine
from sqlmodel import SQLModel

from app.bulk import insert_rows
from app.db import ANALYZE_AFTER_ROWS, analyze
from app.readmodel.facts import Fact, ItemRecord, SentenceRecord, facts_for, quote_key
from app.readmodel.rollups import KEYS, Deltas
from app.readmodel.versions import FACTS_ADDED, FACTS_REMOVED, ROLLUPS_CHANGED, bump

ITEMS: Table = SQLModel.metadata.tables["items"]
SEGMENTS: Table = SQLModel.metadata.tables["segments"]
FACTS: Table = SQLModel.metadata.tables["voice_facts"]
READ_MODEL_TABLES = ("voice_facts", "customer_sets", *KEYS)


def record(
    conn: Connection,
    deltas: Deltas,
    items: Iterable[tuple[Mapping[str, Any], Sequence[Mapping[str, Any]]]],
) -> int:
    """Add the voices of stored item rows (with their segment rows); returns facts written."""
    facts = voices(deltas, items)
    return write_voices(conn, [fact for per_item in facts for fact in per_item])


def voices(
    deltas: Deltas, items: Iterable[tuple[Mapping[str, Any], Sequence[Mapping[str, Any]]]]
) -> list[list[dict[str, Any]]]:
    """The voice-fact rows of item rows (with their segment rows), per item, with
    what they add put in `deltas`. Rows of items not stored yet (no `id`: a queued
    batch made ready before its turn) get theirs from `own_voices`."""
    per_item: list[list[dict[str, Any]]] = []
    for item_row, segment_rows in items:
        item = ItemRecord.from_row(item_row)
        facts = facts_for(item, [SentenceRecord.from_row(s) for s in segment_rows])
        rows = []
        for fact in facts:
            deltas.fact(fact)
            rows.append(fact.row())
        deltas.item(item, [f.stage for f in facts])
        per_item.append(rows)
    return per_item


def own_voices(rows: Sequence[dict[str, Any]], item_id: int) -> None:
    """An item's voice-fact rows made before it had its id, given it."""
    for row in rows:
        row["item_id"] = item_id
        row["quote_key"] = quote_key(item_id, row["stage"])


def write_voices(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> int:
    """Insert voice-fact rows (`voices`); returns how many."""
    if rows:
        bump(conn, FACTS_ADDED)  # before the insert: see app.models.ReadVersion
        insert_rows(conn, FACTS, rows)
    return len(rows)


def insert_segments(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    insert_rows(conn, SEGMENTS, rows)


def forget(conn: Connection, deltas: Deltas, item_ids: Sequence[int]) -> None:
    """Take away what the stored versions of these items added, and their facts."""
    if not item_ids:
        return
    items = {
        int(row["id"]): ItemRecord.from_row(dict(row))
        for row in conn.execute(select(ITEMS).where(ITEMS.c.id.in_(item_ids))).mappings()
    }
    stages: dict[int, list[str]] = defaultdict(list)
    for row in conn.execute(select(FACTS).where(FACTS.c.item_id.in_(item_ids))).mappings():
        item = items[int(row["item_id"])]
        fact = Fact(
            item, row["stage"], float(row["score"]), row["label"], tuple(row["themes"]), None, None
        )
        deltas.fact(fact, -1)
        stages[item.id].append(fact.stage)
    for item_id, item in items.items():
        deltas.item(item, stages.get(item_id, []), -1)
    if stages:
        bump(conn, FACTS_REMOVED)
    conn.execute(delete(FACTS).where(FACTS.c.item_id.in_(item_ids)))


def rebuild(
    engine: Engine, *, chunk: int = 2_000, on_chunk: Callable[[int, int], None] | None = None
) -> int:
    """Rebuild the whole read model from the stored items, in id order, one
    transaction per chunk; returns the items read. Run it while nothing syncs
    (after a journey edit with `reenrich`, or an upgrade)."""
    with engine.begin() as conn:
        for name in READ_MODEL_TABLES:
            conn.execute(delete(SQLModel.metadata.tables[name]))
        bump(conn, FACTS_REMOVED)
        bump(conn, ROLLUPS_CHANGED)
        total = int(
            conn.execute(select(ITEMS.c.id).order_by(ITEMS.c.id.desc()).limit(1)).scalar() or 0
        )
    done = 0
    last_id = 0
    while True:
        with engine.begin() as conn:
            rows = [
                dict(row)
                for row in conn.execute(
                    select(ITEMS).where(ITEMS.c.id > last_id).order_by(ITEMS.c.id).limit(chunk)
                ).mappings()
            ]
            if not rows:
                break
            ids = [int(r["id"]) for r in rows]
            segments: dict[int, list[Mapping[str, Any]]] = defaultdict(list)
            for seg in conn.execute(
                select(SEGMENTS)
                .where(SEGMENTS.c.item_id.in_(ids))
                .order_by(SEGMENTS.c.item_id, SEGMENTS.c.idx)
            ).mappings():
                segments[int(seg["item_id"])].append(dict(seg))
            deltas = Deltas()
            record(conn, deltas, ((row, segments.get(int(row["id"]), [])) for row in rows))
            deltas.apply(conn)
        done += len(rows)
        last_id = ids[-1]
        if on_chunk is not None:
            on_chunk(done, total)
    if done >= ANALYZE_AFTER_ROWS:
        analyze(engine, READ_MODEL_TABLES)
    return done


def read_model_missing(engine: Engine) -> bool:
    """Items stored but no voice facts: a database from before the read model."""
    with engine.connect() as conn:
        has_items = conn.execute(select(ITEMS.c.id).limit(1)).first() is not None
        has_facts = conn.execute(select(FACTS.c.id).limit(1)).first() is not None
    return has_items and not has_facts
