"""Importing outcome events: from a file (CSV, Parquet), a posted batch, or a
warehouse query; the same rules as feedback. A record is deduped on its event id,
else on customer + event + day; a bad one is kept with its reason; each batch is
one transaction; customer references that are personal data become the same
keyed pseudonyms feedback gets, so the two join."""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from app.db_types import utcnow
from app.ingest.policy import IngestPolicy
from app.ingest.privacy import redact_attributes, redact_text
from app.outcomes.records import OutcomeRecord, OutcomeRecordError, parse_record
from app.readmodel.versions import OUTCOMES_CHANGED, bump

BATCH = 1000
MAX_EXCERPT = 300


@dataclass
class ImportResult:
    read: int = 0
    inserted: int = 0
    duplicates: int = 0
    rejected: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    rejects: list[tuple[int, str]] = field(default_factory=list)  # (index, reason), first 100


def _key(record: OutcomeRecord, customer: str) -> str:
    if record.event_id is not None:
        return f"id:{record.event_id}"
    return f"{customer}|{record.event}|{record.day.isoformat()}"


def import_rows(
    engine: Engine, rows: Iterable[Mapping[str, Any]], *, origin: str, policy: IngestPolicy
) -> ImportResult:
    result = ImportResult()
    batch: list[tuple[int, Mapping[str, Any]]] = []
    for index, row in enumerate(rows):
        batch.append((index, row))
        if len(batch) >= BATCH:
            _batch(engine, batch, origin, policy, result)
            batch = []
    if batch:
        _batch(engine, batch, origin, policy, result)
    return result


def _batch(
    engine: Engine,
    rows: list[tuple[int, Mapping[str, Any]]],
    origin: str,
    policy: IngestPolicy,
    result: ImportResult,
) -> None:
    events, rejects = (
        SQLModel.metadata.tables["outcome_events"],
        SQLModel.metadata.tables["outcome_rejects"],
    )
    now = utcnow()
    fresh: dict[str, dict[str, Any]] = {}
    refused: list[dict[str, Any]] = []
    for index, row in rows:
        result.read += 1
        try:
            record = parse_record(row)
        except OutcomeRecordError as exc:
            reason = redact_text(str(exc))
            result.rejected += 1
            result.reasons[reason] += 1
            if len(result.rejects) < 100:
                result.rejects.append((index, reason))
            refused.append(
                {
                    "origin": origin[:120],
                    "location": f"record {index + 1}",
                    "reason": reason,
                    "excerpt": redact_text(_excerpt(row)),
                    "created_at": now,
                }
            )
            continue
        customer = (
            policy.pseudonyms.stored(record.customer) if policy.pseudonyms else record.customer
        ) or record.customer
        key = _key(record, customer)
        if key in fresh:
            result.duplicates += 1
        fresh[key] = {  # a later version in the same batch wins
            "event_key": key[:400],
            "customer": customer,
            "event": record.event,
            "occurred_at": record.occurred_at,
            "day": record.day,
            "value_change": record.value_change,
            "value": record.value,
            "currency": record.currency,
            "profit": record.profit,
            "attributes": redact_attributes(record.attributes),
            "origin": origin[:120],
            "created_at": now,
        }
    dialect = postgresql if engine.dialect.name == "postgresql" else sqlite
    with engine.begin() as conn:
        if fresh:
            stored = set(
                conn.execute(
                    select(events.c.event_key).where(events.c.event_key.in_(list(fresh)))
                ).scalars()
            )
            new = [row for key, row in fresh.items() if key not in stored]
            result.duplicates += len(fresh) - len(new)
            if new:
                bump(conn, OUTCOMES_CHANGED)
                conn.execute(
                    dialect.insert(events).on_conflict_do_nothing(index_elements=["event_key"]),
                    new,
                )
                result.inserted += len(new)
        if refused:
            conn.execute(rejects.insert(), refused)


def _excerpt(row: Mapping[str, Any]) -> str:
    try:
        text = json.dumps(dict(row), default=str, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(row)
    return text[:MAX_EXCERPT]


def read_file(path: Path) -> Iterator[dict[str, Any]]:
    """Rows of a CSV (UTF-8, a BOM allowed) or Parquet file, as dicts, streamed."""
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        for batch in pq.ParquetFile(path).iter_batches(batch_size=BATCH):
            yield from batch.to_pylist()
        return
    if suffix in (".csv", ".txt"):
        with path.open(encoding="utf-8-sig", newline="") as handle:
            yield from csv.DictReader(handle)
        return
    raise ValueError(f"{path.name}: outcomes are read from .csv or .parquet files")


def import_file(engine: Engine, path: Path, policy: IngestPolicy) -> ImportResult:
    return import_rows(engine, read_file(path), origin=f"file:{path.name}", policy=policy)
