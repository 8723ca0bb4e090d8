"""Sync one source: fetch batches, dedupe, enrich, store — one transaction per batch.

Each batch's new and edited items, their segments, the duplicates it found, its
quarantined records, the run counters and the source's new cursor are committed
together, so a crash between batches loses nothing (the cursor never runs ahead
of the stored items) and a re-run stores nothing twice.

What counts as a duplicate (and nothing else does):
- a record whose `(source, external_id)` is stored with the same content;
- a record of a *known* author saying the same words on the same day in the
  same source as a stored one (a re-export under new ids). Records whose author
  is unknown are never merged: five anonymous "Good service" are five voices.
A record whose `(source, external_id)` is stored but whose content changed was
edited at the source: the stored item is re-enriched and updated in place, its
segments replaced, and the run counts it as `updated`.
"""

from __future__ import annotations

import logging
import re
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import Table, bindparam, delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlmodel import Session, SQLModel

from app.bulk import encode_json, insert_returning_ids
from app.db import ANALYZE_AFTER_ROWS, analyze
from app.db_types import utcnow
from app.ingest.hashing import content_hash, quarantine_digest, record_hash
from app.ingest.locks import SourceBusyError, source_lock
from app.ingest.policy import MAX_EXTERNAL_ID_CHARS, IngestPolicy
from app.ingest.privacy import private_item, private_reject
from app.ingest.rows import nlp_columns, segment_rows
from app.ingest.sanitize import clean_item, clean_reject
from app.models import Source, SyncRun
from app.outcomes.service import import_rows
from app.readmodel.maintain import (
    FACTS,
    READ_MODEL_TABLES,
    forget,
    insert_segments,
    own_voices,
    voices,
    write_voices,
)
from app.readmodel.rollups import Deltas
from app.security.errors import public_error, public_text
from connectors.base import Batch, Connector, Cursor, RawItem, RejectedRecord
from connectors.errors import ConfigError, ConnectorError, FatalError, RetriableError
from nlp.enrichment import Enricher, Enrichment, EnrichRequest
from nlp.journey import Journey

log = logging.getLogger(__name__)

ITEMS: Table = SQLModel.metadata.tables["items"]
SEGMENTS: Table = SQLModel.metadata.tables["segments"]
QUARANTINE: Table = SQLModel.metadata.tables["quarantine"]
DUPLICATES: Table = SQLModel.metadata.tables["run_duplicates"]
MAX_EXCERPT_CHARS = 2_000
TOP_REASONS = 10
INTERRUPTED = "interrupted: the process running this sync stopped before it finished"


@dataclass(frozen=True, slots=True)
class BatchProgress:
    source_id: str
    fetched: int
    inserted: int
    duplicates: int
    rejected: int
    updated: int = 0


@dataclass(frozen=True, slots=True)
class RejectReason:
    """One kind of reject in a run: an example reason as given, and how many were alike."""

    reason: str
    count: int


@dataclass(frozen=True, slots=True)
class SyncResult:
    run_id: int
    source_id: str
    status: str  # "succeeded" | "failed"
    fetched: int
    inserted: int
    duplicates: int
    rejected: int
    ignored_hints: int
    error: str | None
    updated: int = 0
    unmapped_hints: int = 0
    nul_replaced: int = 0
    reject_reasons: tuple[RejectReason, ...] = ()
    retry_after: float | None = None  # a temporary failure: seconds the source asked to wait


_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


def reason_pattern(reason: str) -> str:
    """Rejects that differ only in the value they quote are one kind of problem."""
    return _NUMBER.sub("#", _QUOTED.sub("'…'", reason))


class _ReasonTally:
    """Counts rejects by kind, keeping the first reason of each kind as its example."""

    MAX_KINDS = 1_000  # a pathological source cannot grow this without bound

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.examples: dict[str, str] = {}

    def add(self, reason: str, count: int = 1) -> None:
        key = reason_pattern(reason)
        if key not in self.examples:
            if len(self.examples) >= self.MAX_KINDS:
                key = "other"
                self.examples.setdefault(key, "other reasons")
            else:
                self.examples[key] = reason
        self.counts[key] += count

    def top(self, n: int = TOP_REASONS) -> tuple[RejectReason, ...]:
        return tuple(RejectReason(self.examples[k], c) for k, c in self.counts.most_common(n))

    @classmethod
    def stored(cls, rows: Sequence[dict[str, Any]]) -> _ReasonTally:
        """A run's stored top reasons as a tally: what a queued batch's rejects add to."""
        tally = cls()
        for row in rows:
            tally.add(str(row["reason"]), int(row["count"]))
        return tally


@dataclass
class _RunCounters:
    fetched: int = 0
    inserted: int = 0
    updated: int = 0
    duplicates: int = 0
    rejected: int = 0
    ignored_hints: int = 0
    unmapped_hints: int = 0
    nul_replaced: int = 0
    reasons: _ReasonTally = field(default_factory=_ReasonTally)


@dataclass(slots=True)
class _Write:
    """An item to insert (`item_id` None until inserted) or to update in place."""

    item: RawItem
    record_hash: str
    content_hash: str
    item_id: int | None = None
    hint: str | None = None
    index: int = 0  # the candidate it stores (its enrichment, for a queued batch)


@dataclass(frozen=True, slots=True)
class _Duplicate:
    external_id: str
    rule: str  # "external_id" | "content"
    target: int | _Write  # a stored item id, or a write of this same batch


@dataclass(frozen=True, slots=True)
class PreparedBatch:
    """A batch cleaned, checked against the policy and pseudonymised: what is enriched
    and stored. Made once per batch, so a queued batch enriched on one worker is
    stored with the same rejects when its turn to commit comes, whatever the clock says."""

    batch: Batch
    candidates: list[RawItem]
    rejects: list[RejectedRecord]
    nul_records: int
    now: datetime


def prepare_batch(batch: Batch, policy: IngestPolicy) -> PreparedBatch:
    now = utcnow()
    rejects: list[RejectedRecord] = []
    nul_records = 0
    for rejected in batch.rejected:
        cleaned_reject, dirty = clean_reject(rejected)
        nul_records += dirty
        rejects.append(cleaned_reject)
    candidates: list[RawItem] = []
    for raw in batch.items:
        item, dirty = clean_item(raw)
        nul_records += dirty
        reason = policy.reject_reason(item, now=now)
        if reason is None:
            candidates.append(private_item(item, policy.pseudonyms))
        else:
            rejects.append(
                RejectedRecord(
                    reason=reason,
                    excerpt=item.text[:MAX_EXCERPT_CHARS],
                    external_id=item.external_id[:MAX_EXTERNAL_ID_CHARS] or None,
                )
            )
    return PreparedBatch(batch, candidates, [private_reject(r) for r in rejects], nul_records, now)


def _known_hint(item: RawItem, journey: Journey) -> str | None:
    """The item's stage hint if the journey has that stage (else it is ignored)."""
    hint = item.stage_hint
    return hint if hint is not None and journey.get(hint) is not None else None


def enrich_candidates(
    prepared: PreparedBatch, enricher: Enricher, journey: Journey
) -> list[Enrichment]:
    """Every good record of a batch enriched before anyone knows which are duplicates:
    how a queued batch is enriched on any worker while earlier batches are still
    being stored (a duplicate's enrichment is then simply not used)."""
    requests = (
        EnrichRequest(item.text, _known_hint(item, journey)) for item in prepared.candidates
    )
    return list(enricher.enrich_many(requests))


def import_batch_outcomes(
    engine: Engine, batch: Batch, *, source_id: str, policy: IngestPolicy, counters: _RunCounters
) -> None:
    """What customers did (a `sql` source): imported before the cursor moves, and
    deduped on their keys, so a crash between the two repeats nothing."""
    imported = import_rows(engine, batch.outcomes, origin=f"source:{source_id}", policy=policy)
    counters.fetched += imported.read
    counters.inserted += imported.inserted
    counters.duplicates += imported.duplicates
    counters.rejected += imported.rejected
    for why, count in imported.reasons.items():
        counters.reasons.add(why, count)


class ChunkNotCommitted(Exception):
    """A queued batch was not stored: its run ended (failed, or was interrupted and
    started again from the stored cursor), or another worker stored it already."""


def _store_batch(
    engine: Engine,
    *,
    source_id: str,
    run_id: int,
    batch: Batch,
    enricher: Enricher,
    journey: Journey,
    policy: IngestPolicy,
    counters: _RunCounters,
    default_channel: str,
    outcomes: dict[str, tuple[str, str | None]] | None = None,
) -> None:
    if batch.outcomes:
        import_batch_outcomes(engine, batch, source_id=source_id, policy=policy, counters=counters)
    store_prepared(
        engine,
        source_id=source_id,
        run_id=run_id,
        prepared=prepare_batch(batch, policy),
        enricher=enricher,
        journey=journey,
        counters=counters,
        default_channel=default_channel,
        outcomes=outcomes,
    )


def store_prepared(
    engine: Engine,
    *,
    source_id: str,
    run_id: int,
    prepared: PreparedBatch,
    enricher: Enricher,
    journey: Journey,
    counters: _RunCounters,
    default_channel: str,
    outcomes: dict[str, tuple[str, str | None]] | None = None,
    ready: ReadyBatch | None = None,
    chunk: int | None = None,
) -> None:
    """Store one batch in one transaction: items, segments, read model, duplicates,
    quarantine, run counters and the source's cursor.

    `ready` is a queued batch's enrichment and rows, made before its turn;
    `chunk` is its place in the run: it is stored only while the run is running
    and batch `chunk - 1` is the last stored (else `ChunkNotCommitted`), and its
    counts are added to the run's instead of replacing them."""
    batch, candidates, rejects, now = (
        prepared.batch,
        prepared.candidates,
        prepared.rejects,
        prepared.now,
    )
    nul_records = prepared.nul_records
    plan = _plan(engine, source_id, candidates, ready.hashes if ready is not None else None)
    if outcomes is not None:  # what became of each record, by its external id
        for reject in rejects:
            if reject.external_id is not None:
                outcomes[reject.external_id] = ("rejected", reject.reason)
        for write in plan.inserts:
            outcomes[write.item.external_id] = ("inserted", None)
        for write in plan.updates:
            outcomes[write.item.external_id] = ("updated", None)
        for duplicate in plan.duplicates:
            outcomes[duplicate.external_id] = ("duplicate", duplicate.rule)
    inserts, updates, duplicates, backfill = (
        plan.inserts,
        plan.updates,
        plan.duplicates,
        plan.backfill,
    )
    ignored_hints = unmapped_hints = 0
    writes = [*inserts, *updates]
    for write in writes:
        write.hint = _known_hint(write.item, journey)
        if write.item.stage_hint is not None and write.hint is None:
            ignored_hints += 1
        if write.item.hint_value is not None and write.item.stage_hint is None:
            unmapped_hints += 1
    # Enrichment happens outside any write transaction, so SQLite readers are
    # never blocked behind the NLP.
    if ready is not None and ready.fits(plan):
        rows = ready.rows
    else:
        enrichments: Sequence[Enrichment] = (
            [ready.enriched[w.index] for w in writes]
            if ready is not None
            else list(enricher.enrich_many(EnrichRequest(w.item.text, w.hint) for w in writes))
        )
        rows = _rows(source_id, default_channel, writes, enrichments, now)
    excerpts = [r.excerpt[:MAX_EXCERPT_CHARS] for r in rejects]  # redacted (app.ingest.privacy)

    with Session(engine, expire_on_commit=False) as session:
        # Core statements, not ORM objects: building and flushing an ORM object per
        # item and sentence cost more than the NLP itself (bench/ingest.py).
        conn = session.connection()
        if chunk is not None:
            # The run's row lock orders the workers' commits of one run.
            queued = session.get(SyncRun, run_id, with_for_update=True)
            if queued is None or queued.status != "running":
                raise ChunkNotCommitted(f"run {run_id} is no longer running")
            if queued.chunks_committed != chunk - 1:
                raise ChunkNotCommitted(
                    f"run {run_id}: batch {chunk} is not next (stored: {queued.chunks_committed})"
                )
        deltas = rows.deltas
        if updates:
            # What the stored versions added to the read model is taken away first,
            # while their rows still say what they were.
            forget(conn, deltas, [w.item_id for w in updates if w.item_id is not None])
            session.execute(
                update(ITEMS).where(ITEMS.c.id == bindparam("_id")),
                [
                    {"_id": w.item_id, **{k: v for k, v in row.items() if k not in _KEPT_ON_UPDATE}}
                    for w, row in zip(updates, rows.items[len(inserts) :], strict=True)
                ],
                execution_options={"synchronize_session": False},
            )
            session.execute(
                delete(SEGMENTS).where(SEGMENTS.c.item_id.in_([w.item_id for w in updates]))
            )
        if inserts:
            ids = insert_returning_ids(
                conn, ITEMS, rows.items[: len(inserts)], key=("source_id", "external_id")
            )
            for write, item_id, segments, voice_rows in zip(
                inserts, ids, rows.segments, rows.voices, strict=False
            ):
                write.item_id = item_id
                for segment in segments:
                    segment["item_id"] = item_id
                own_voices(voice_rows, item_id)
        insert_segments(conn, [segment for per_item in rows.segments for segment in per_item])
        write_voices(conn, [voice for per_item in rows.voices for voice in per_item])
        deltas.apply(conn)
        if backfill:
            session.execute(
                update(ITEMS).where(ITEMS.c.id == bindparam("_id")),
                [{"_id": item_id, "record_hash": digest} for item_id, digest in backfill],
                execution_options={"synchronize_session": False},
            )
        if duplicates:
            session.execute(
                insert(DUPLICATES),
                [
                    {
                        "run_id": run_id,
                        "source_id": source_id,
                        "external_id": d.external_id,
                        "rule": d.rule,
                        "matched_item_id": d.target
                        if isinstance(d.target, int)
                        else d.target.item_id,
                    }
                    for d in duplicates
                ],
            )
        _quarantine(session, engine, source_id, run_id, rejects, excerpts, now)
        counters.fetched += len(batch.items) + len(batch.rejected)
        counters.inserted += len(inserts)
        counters.updated += len(updates) + plan.superseded
        counters.duplicates += len(duplicates)
        counters.rejected += len(rejects)
        counters.ignored_hints += ignored_hints
        counters.unmapped_hints += unmapped_hints
        counters.nul_replaced += nul_records
        for reject in rejects:
            counters.reasons.add(reject.reason)
        run = session.get(SyncRun, run_id)
        source = session.get(Source, source_id)
        assert run is not None
        assert source is not None
        if chunk is None:
            _copy_counters(run, counters)
        else:
            _add_counters(run, counters)
            run.chunks_committed = chunk
        source.cursor = batch.cursor
        source.updated_at = now
        session.add(run)
        session.add(source)
        session.commit()


@dataclass(frozen=True, slots=True)
class _Plan:
    inserts: list[_Write]
    updates: list[_Write]
    duplicates: list[_Duplicate]
    backfill: list[tuple[int, str]]  # stored items whose record hash is filled in now
    superseded: int  # later versions of a record already in this batch


def _plan(
    engine: Engine,
    source_id: str,
    candidates: list[RawItem],
    hashes: Sequence[tuple[str, str]] | None = None,
) -> _Plan:
    """Sort a batch's good records into inserts, in-place updates and duplicates
    (plus stored items whose record hash predates this rule and is filled in now).
    `hashes`: the candidates' (record, content) hashes, if made already."""
    if hashes is None:
        hashes = [(record_hash(item), content_hash(item)) for item in candidates]
    records = [(item, rh, ch) for item, (rh, ch) in zip(candidates, hashes, strict=True)]
    by_ext: dict[str, tuple[int, str | None, str]] = {}
    by_content: dict[str, int] = {}
    if records:
        ext_ids = sorted({item.external_id for item, _, _ in records})
        said = sorted({ch for item, _, ch in records if item.author_ref is not None})
        with Session(engine) as session:
            for start in range(0, len(ext_ids), 1_000):
                for item_id, ext, rh, ch in session.execute(
                    select(
                        ITEMS.c.id, ITEMS.c.external_id, ITEMS.c.record_hash, ITEMS.c.content_hash
                    ).where(
                        ITEMS.c.source_id == source_id,
                        ITEMS.c.external_id.in_(ext_ids[start : start + 1_000]),
                    )
                ):
                    by_ext[ext] = (int(item_id), rh, ch)
            for start in range(0, len(said), 1_000):
                for item_id, ch in session.execute(
                    select(ITEMS.c.id, ITEMS.c.content_hash)
                    .where(
                        ITEMS.c.source_id == source_id,
                        ITEMS.c.content_hash.in_(said[start : start + 1_000]),
                        ITEMS.c.author_ref.is_not(None),
                    )
                    .order_by(ITEMS.c.id)
                ):
                    by_content.setdefault(ch, int(item_id))

    inserts: list[_Write] = []
    updates: list[_Write] = []
    duplicates: list[_Duplicate] = []
    backfill: list[tuple[int, str]] = []
    pending: dict[str, _Write] = {}  # by external id, this batch
    pending_said: dict[str, _Write] = {}  # by content hash, known authors, this batch
    superseded = 0
    for index, (item, rh, ch) in enumerate(records):
        ext = item.external_id
        earlier = pending.get(ext)
        if earlier is not None:  # the same record twice in one batch
            if earlier.record_hash == rh:
                duplicates.append(_Duplicate(ext, "external_id", earlier))
            else:  # a later version of it wins, and counts as an update
                earlier.item, earlier.record_hash, earlier.content_hash = item, rh, ch
                earlier.index = index
                superseded += 1
            continue
        stored = by_ext.get(ext)
        if stored is not None:
            item_id, stored_rh, stored_ch = stored
            if stored_rh == rh or (stored_rh is None and stored_ch == ch):
                duplicates.append(_Duplicate(ext, "external_id", item_id))
                if stored_rh is None:
                    backfill.append((item_id, rh))
                    by_ext[ext] = (item_id, rh, ch)
            else:
                write = _Write(item, rh, ch, item_id=item_id, index=index)
                updates.append(write)
                pending[ext] = write
            continue
        if item.author_ref is not None:
            match: int | _Write | None = pending_said.get(ch) or by_content.get(ch)
            if match is not None:
                duplicates.append(_Duplicate(ext, "content", match))
                continue
        write = _Write(item, rh, ch, index=index)
        inserts.append(write)
        pending[ext] = write
        if item.author_ref is not None:
            pending_said[ch] = write
    return _Plan(inserts, updates, duplicates, backfill, superseded)


def _quarantine(
    session: Session,
    engine: Engine,
    source_id: str,
    run_id: int,
    rejects: list[RejectedRecord],
    excerpts: list[str],
    now: Any,
) -> None:
    """Store each reject once per (source, location, reason, excerpt); a reject seen
    again (its file was read again) only bumps `times_seen` and `last_seen_at`."""
    rows: dict[str, dict[str, Any]] = {}
    for reject, excerpt in zip(rejects, excerpts, strict=True):
        location = reject.location[:512] if reject.location else None
        digest = quarantine_digest(source_id, location, reject.reason, excerpt)
        if digest in rows:
            rows[digest]["times_seen"] += 1
            continue
        rows[digest] = {
            "source_id": source_id,
            "run_id": run_id,
            "external_id": (reject.external_id or None)
            and reject.external_id[:MAX_EXTERNAL_ID_CHARS],
            "location": location,
            "reason": reject.reason,
            "excerpt": excerpt,
            "digest": digest,
            "times_seen": 1,
            "created_at": now,
            "last_seen_at": now,
        }
    if not rows:
        return
    dialect = postgresql if engine.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(QUARANTINE)
    statement = statement.on_conflict_do_update(
        index_elements=["source_id", "digest"],
        set_={
            "times_seen": QUARANTINE.c.times_seen + statement.excluded.times_seen,
            "last_seen_at": statement.excluded.last_seen_at,
            "run_id": statement.excluded.run_id,
        },
    )
    session.execute(statement, list(rows.values()))


_KEPT_ON_UPDATE = frozenset({"id", "source_id", "external_id", "ingested_at"})


@dataclass(frozen=True, slots=True)
class _Rows:
    """What a batch's writes store, made outside its transaction: item rows, and
    per write its segment and voice-fact rows (a new item's wait for its id) and
    what they add to the rollups."""

    items: list[dict[str, Any]]
    segments: list[list[dict[str, Any]]]
    voices: list[list[dict[str, Any]]]
    deltas: Deltas


def _rows(
    source_id: str,
    default_channel: str,
    writes: Sequence[_Write],
    enrichments: Sequence[Enrichment],
    now: datetime,
) -> _Rows:
    items = []
    segments = []
    for write, enrichment in zip(writes, enrichments, strict=True):
        row = _item_row(source_id, default_channel, write, enrichment, now)
        if write.item_id is not None:  # an update: its id is known
            row["id"] = write.item_id
        items.append(row)
        segments.append(segment_rows(write.item_id, source_id, row["occurred_at"], enrichment))
    deltas = Deltas()
    return _Rows(items, segments, voices(deltas, zip(items, segments, strict=True)), deltas)


@dataclass(frozen=True, slots=True)
class ReadyBatch:
    """A queued batch made ready before its turn to store: every candidate enriched,
    its hashes, and the rows it stores if all its records are new (a backfill's
    case; `fits` says whether they are, else the rows are made again in its turn).
    Only the lookups and the writes are left for the turn, which one batch holds
    at a time."""

    enriched: list[Enrichment]
    hashes: list[tuple[str, str]]
    rows: _Rows

    @classmethod
    def make(
        cls,
        prepared: PreparedBatch,
        enriched: list[Enrichment],
        journey: Journey,
        source_id: str,
        default_channel: str,
    ) -> ReadyBatch:
        hashes = [(record_hash(item), content_hash(item)) for item in prepared.candidates]
        writes = [
            _Write(item, rh, ch, hint=_known_hint(item, journey), index=index)
            for index, (item, (rh, ch)) in enumerate(zip(prepared.candidates, hashes, strict=True))
        ]
        rows = _rows(source_id, default_channel, writes, enriched, prepared.now)
        encode_json(ITEMS, rows.items)
        encode_json(SEGMENTS, [segment for per_item in rows.segments for segment in per_item])
        encode_json(FACTS, [voice for per_item in rows.voices for voice in per_item])
        return cls(enriched, hashes, rows)

    def fits(self, plan: _Plan) -> bool:
        """Whether the plan inserts every candidate, in order (and so writes exactly
        these rows)."""
        return not plan.updates and len(plan.inserts) == len(self.enriched)


def _item_row(
    source_id: str, default_channel: str, write: _Write, enrichment: Enrichment, now: Any
) -> dict[str, Any]:
    item = write.item
    return {
        "source_id": source_id,
        "external_id": item.external_id,
        "channel": item.channel or default_channel,
        "occurred_at": item.occurred_at.astimezone(UTC),
        "text": enrichment.text,
        "rating": item.rating,
        "rating_scale": item.rating_scale,
        "author_ref": item.author_ref,
        "attributes": dict(item.attributes),
        "content_hash": write.content_hash,
        "record_hash": write.record_hash,
        **nlp_columns(enrichment),
        "stage_hint": write.hint,
        "redactions": dict(enrichment.redactions),
        "ingested_at": now,
        "updated_at": now,
    }


def _add_counters(run: SyncRun, counters: _RunCounters) -> None:
    """A queued batch's counts onto its run's (other workers store the other batches)."""
    reasons = _ReasonTally.stored(run.reject_reasons)
    for key, count in counters.reasons.counts.items():
        reasons.add(counters.reasons.examples[key], count)
    total = _counters_of(run)
    for name in _COUNTED:
        setattr(total, name, getattr(total, name) + getattr(counters, name))
    total.reasons = reasons
    _copy_counters(run, total)


_COUNTED = (
    "fetched",
    "inserted",
    "updated",
    "duplicates",
    "rejected",
    "ignored_hints",
    "unmapped_hints",
    "nul_replaced",
)


def _counters_of(run: SyncRun) -> _RunCounters:
    """A run's stored counts, as counters (a queued run's total is kept in its row)."""
    counters = _RunCounters(reasons=_ReasonTally.stored(run.reject_reasons))
    for name in _COUNTED:
        setattr(counters, name, int(getattr(run, name) or 0))
    return counters


def _copy_counters(run: SyncRun, counters: _RunCounters) -> None:
    run.fetched = counters.fetched
    run.inserted = counters.inserted
    run.updated = counters.updated
    run.duplicates = counters.duplicates
    run.rejected = counters.rejected
    run.ignored_hints = counters.ignored_hints
    run.unmapped_hints = counters.unmapped_hints
    run.nul_replaced = counters.nul_replaced
    run.reject_reasons = [{"reason": r.reason, "count": r.count} for r in counters.reasons.top()]


def close_interrupted_runs(engine: Engine, source_id: str) -> int:
    """Close the runs of `source_id` still marked `running`. Call it only while
    holding the source's lock: then no live process is running one of them."""
    table = SyncRun.__table__  # type: ignore[attr-defined]
    with engine.begin() as conn:
        result = conn.execute(
            update(table)
            .where(table.c.source_id == source_id, table.c.status == "running")
            .values(status="failed", error=INTERRUPTED, finished_at=utcnow())
        )
        return int(result.rowcount or 0)


def close_all_interrupted_runs(engine: Engine) -> int:
    """On start: close every run left `running` by a process that died, skipping
    sources whose lock another live process holds (their run is real)."""
    table = SyncRun.__table__  # type: ignore[attr-defined]
    with engine.connect() as conn:
        source_ids = sorted(
            conn.execute(
                select(table.c.source_id).where(table.c.status == "running").distinct()
            ).scalars()
        )
    closed = 0
    for source_id in source_ids:
        try:
            with source_lock(engine, source_id):
                closed += close_interrupted_runs(engine, source_id)
        except SourceBusyError:
            continue
    return closed


def _start_run(
    engine: Engine, source_id: str, trigger: str, *, queued: bool = False
) -> tuple[int, dict[str, Any] | None]:
    with Session(engine, expire_on_commit=False) as session:
        source = session.get(Source, source_id)
        if source is None:
            raise LookupError(f"source {source_id!r} is not registered")
        run = SyncRun(source_id=source_id, trigger=trigger, chunks_committed=0 if queued else None)
        session.add(run)
        session.commit()
        assert run.id is not None
        return run.id, source.cursor


def _all_rejected(counters: _RunCounters) -> str | None:
    """A run that read records and rejected every one stored nothing: it failed,
    and says why in the words of its commonest reasons."""
    if counters.fetched == 0 or counters.rejected < counters.fetched:
        return None
    reasons = "; ".join(f"{r.reason} ({r.count:,})" for r in counters.reasons.top(3))
    return f"{counters.rejected:,} of {counters.fetched:,} records rejected: {reasons}"


def _finish_run(
    engine: Engine,
    run_id: int,
    source_id: str,
    counters: _RunCounters,
    error: str | None,
    *,
    queued: bool = False,
) -> tuple[str | None, _RunCounters]:
    """Close a run; returns its error and counts. A queued run's counts are those
    its row holds (workers added each batch's), read under the row lock that their
    commits take, so none is lost to a late commit."""
    with Session(engine) as session:
        run = session.get(SyncRun, run_id, with_for_update=queued)
        source = session.get(Source, source_id)
        assert run is not None
        assert source is not None
        if queued:
            counters = _counters_of(run)
        error = error or _all_rejected(counters)
        if error is not None:  # shown by the API: no SQL, no host path
            error = public_text(error)
        _copy_counters(run, counters)
        now = utcnow()
        run.finished_at = now
        run.status = "failed" if error else "succeeded"
        run.error = error
        source.status = "failing" if error else "ok"
        source.last_error = error
        source.last_run_at = now
        session.add(run)
        session.add(source)
        session.commit()
    return error, counters


class BatchQueue(Protocol):
    """Where a queued sync sends its batches: workers enrich them in parallel and store
    them in order (`store_queued_batch`). `in_flight` bounds the batches read ahead
    of the last stored one, so a huge file never piles up in the queue."""

    in_flight: int

    def put(self, *, run_id: int, seq: int, source_id: str, channel: str, batch: Batch) -> None: ...


class RunEndedError(Exception):
    """A queued run stopped running while someone waited on it (a batch failed it,
    or a new run of its source took over after its reader died)."""

    def __init__(self, status: str, error: str | None) -> None:
        super().__init__(error or status)
        self.status, self.error = status, error


def _wait_committed(
    engine: Engine,
    run_id: int,
    upto: int,
    *,
    timeout: float | None = None,
    max_pause: float = 0.2,
) -> bool:
    """Wait until a queued run has stored its batches up to `upto`; False on timeout.
    Polls the run's row: the wait is for other processes' commits."""
    table = SyncRun.__table__  # type: ignore[attr-defined]
    query = select(table.c.status, table.c.chunks_committed, table.c.error).where(
        table.c.id == run_id
    )
    deadline = None if timeout is None else time.monotonic() + timeout
    pause = 0.01
    while True:
        with engine.connect() as conn:
            row = conn.execute(query).one_or_none()
        if row is None or row.status != "running":
            raise RunEndedError(row.status if row else "gone", row.error if row else None)
        if (row.chunks_committed or 0) >= upto:
            return True
        if deadline is not None and time.monotonic() >= deadline:
            return False
        time.sleep(pause)
        pause = min(pause * 2, max_pause)


def _stored_rows(engine: Engine, run_id: int) -> int:
    """What a queued run's stored batches inserted and updated so far."""
    table = SyncRun.__table__  # type: ignore[attr-defined]
    with engine.connect() as conn:
        row = conn.execute(
            select(table.c.inserted, table.c.updated).where(table.c.id == run_id)
        ).one_or_none()
    return 0 if row is None else int(row.inserted or 0) + int(row.updated or 0)


def _add_run_counts(engine: Engine, run_id: int, counters: _RunCounters) -> None:
    with Session(engine) as session:
        run = session.get(SyncRun, run_id, with_for_update=True)
        assert run is not None
        _add_counters(run, counters)
        session.add(run)
        session.commit()


def fail_queued_run(engine: Engine, run_id: int, error: str) -> None:
    """A batch could not be stored: the run fails (its reader stops and closes it);
    the batches after it are not stored, and the cursor stays before it."""
    table = SyncRun.__table__  # type: ignore[attr-defined]
    with engine.begin() as conn:
        conn.execute(
            update(table)
            .where(table.c.id == run_id, table.c.status == "running")
            .values(status="failed", error=public_text(error))
        )


class TurnTimeoutError(RuntimeError):
    """A queued batch waited too long for the one before it: tried again later."""


def store_queued_batch(
    engine: Engine,
    *,
    run_id: int,
    seq: int,
    source_id: str,
    batch: Batch,
    channel: str,
    enricher: Enricher,
    journey: Journey,
    policy: IngestPolicy,
    turn_timeout: float = 60.0,
    last_try: bool = False,
) -> BatchProgress | None:
    """A worker's share of a queued sync: enrich batch `seq` now, store it once batch
    `seq - 1` is stored. Returns what it stored, or None when there was nothing to
    do (the run ended, or this batch was stored already: a retried job). Raises
    `TurnTimeoutError` when its turn does not come in time (the job is retried).

    On the queue's `last_try` a failure that would have been retried fails the run
    instead: its reader waits on every batch, and would otherwise wait for ever."""
    try:
        if _wait_committed(engine, run_id, seq, timeout=0):
            return None  # stored already (this is a retried job)
    except RunEndedError:
        return None
    counters = _RunCounters()
    try:
        started = time.perf_counter()
        prepared = prepare_batch(batch, policy)
        ready = ReadyBatch.make(
            prepared, enrich_candidates(prepared, enricher, journey), journey, source_id, channel
        )
        made = time.perf_counter()
        _await_turn(engine, run_id, seq, turn_timeout)
        turn = time.perf_counter()
        store_prepared(
            engine,
            source_id=source_id,
            run_id=run_id,
            prepared=prepared,
            enricher=enricher,
            journey=journey,
            counters=counters,
            default_channel=channel,
            ready=ready,
            chunk=seq,
        )
        log.info(
            "batch %d of run %d: enriched in %.3f s, waited %.3f s for its turn, stored in %.3f s",
            seq,
            run_id,
            made - started,
            turn - made,
            time.perf_counter() - turn,
        )
    except (ChunkNotCommitted, RunEndedError):
        return None
    except TurnTimeoutError as exc:
        if last_try:
            _give_up(engine, run_id, seq, exc)
        raise
    except Exception as exc:
        if is_connection_error(exc):  # a lost database is retried, not a failure
            if last_try:
                _give_up(engine, run_id, seq, exc)
        else:
            log.exception("batch %d of run %d could not be stored", seq, run_id)
            fail_queued_run(
                engine, run_id, f"batch {seq}: unexpected {type(exc).__name__}: {public_error(exc)}"
            )
        raise
    return _progress(source_id, counters)


def _give_up(engine: Engine, run_id: int, seq: int, exc: Exception) -> None:
    """The last try of a batch failed: fail its run if the database lets us (if not,
    the reader fails too and its own retry closes the run)."""
    log.error("batch %d of run %d: given up after its last try: %s", seq, run_id, exc)
    try:
        fail_queued_run(
            engine,
            run_id,
            f"batch {seq} was given up after its last try ({type(exc).__name__}: "
            f"{public_error(exc)}); the next run goes on from the last stored batch",
        )
    except DBAPIError:
        log.warning("run %d could not be marked failed: the database is away", run_id)


def _progress(source_id: str, counters: _RunCounters) -> BatchProgress:
    return BatchProgress(
        source_id=source_id,
        fetched=counters.fetched,
        inserted=counters.inserted,
        duplicates=counters.duplicates,
        rejected=counters.rejected,
        updated=counters.updated,
    )


def store_refusal(exc: DBAPIError) -> str:
    """Why the database refused a write, in words an operator acts on."""
    said = public_error(exc.orig if exc.orig is not None else exc).strip().splitlines()
    first = said[0][:300] if said else type(exc).__name__
    return (
        f"the database refused the write ({first}): what was stored stays, and the next "
        "run goes on from the last stored batch once the database takes writes again"
    )


def _await_turn(engine: Engine, run_id: int, seq: int, timeout: float) -> None:
    """Batches store one at a time, so the time between one's commit and the next
    one's start holds every worker up: the turn is polled often (a primary-key read)."""
    if not _wait_committed(engine, run_id, seq - 1, timeout=timeout, max_pause=0.02):
        raise TurnTimeoutError(f"run {run_id}: batch {seq - 1} was not stored in time")


def is_connection_error(exc: BaseException) -> bool:
    return isinstance(exc, OperationalError | InterfaceError) or (
        isinstance(exc, DBAPIError) and exc.connection_invalidated
    )


def run_sync(
    engine: Engine,
    *,
    source_id: str,
    connector: Connector[Any],
    enricher: Enricher,
    journey: Journey,
    policy: IngestPolicy | None = None,
    trigger: str = "manual",
    on_batch: Callable[[BatchProgress], None] | None = None,
    outcomes: dict[str, tuple[str, str | None]] | None = None,
    queue: BatchQueue | None = None,
    lock_wait: float = 0.0,
) -> SyncResult:
    """Run one sync of a registered source to the end of what it has.

    With a `queue`, this process only reads: each batch goes to the queue, workers
    enrich batches in parallel and store them in order, and this returns once all
    are stored (or one failed). Either way a crash loses nothing and stores nothing
    twice: the cursor moves with each stored batch.

    Never raises for a source's own faults: a connector error fails the run, marks
    the source failing, and comes back in the result. Raises `SourceBusyError` when
    the source is already syncing and `LookupError` for an unregistered source.
    """
    policy = policy or IngestPolicy()
    with source_lock(engine, source_id, wait=lock_wait):
        close_interrupted_runs(engine, source_id)
        run_id, cursor = _start_run(engine, source_id, trigger, queued=queue is not None)
        counters = _RunCounters()
        error: str | None = None
        retry_after: float | None = None
        statistics = _Statistics(engine, source_id)
        try:
            if queue is not None:
                _read_into_queue(
                    queue, engine, run_id, source_id, connector, cursor, policy, statistics
                )
            else:
                for batch in connector.fetch(cursor):
                    _store_batch(
                        engine,
                        source_id=source_id,
                        run_id=run_id,
                        batch=batch,
                        enricher=enricher,
                        journey=journey,
                        policy=policy,
                        counters=counters,
                        default_channel=connector.channel,
                        outcomes=outcomes,
                    )
                    statistics.stored(counters.inserted + counters.updated)
                    if on_batch is not None:
                        on_batch(_progress(source_id, counters))
        except RunEndedError as exc:  # a queued batch failed the run: it says why
            error = exc.error or f"the run ended ({exc.status})"
        except (ConfigError, FatalError) as exc:
            error = f"{type(exc).__name__}: {exc}"
        except RetriableError as exc:
            retry_after = max(float(exc.delay), 0.0)
            error = f"temporary failure, retried in {retry_after:.0f} s: {exc}"
        except ConnectorError as exc:
            error = str(exc)
        except DBAPIError as exc:  # the store refused: down, read-only, full
            if queue is not None and is_connection_error(exc):
                raise  # the database went away: the queue runs this sync again
            log.warning("sync of %s: %s", source_id, store_refusal(exc))
            error = store_refusal(exc)
        except Exception as exc:  # a connector or store bug must not kill the scheduler
            log.exception("sync of %s failed", source_id)
            error = f"unexpected {type(exc).__name__}: {public_error(exc)}"
        error, counters = _finish_run(
            engine, run_id, source_id, counters, error, queued=queue is not None
        )
        statistics.finished(counters.inserted + counters.updated)
        return SyncResult(
            run_id=run_id,
            source_id=source_id,
            status="failed" if error else "succeeded",
            fetched=counters.fetched,
            inserted=counters.inserted,
            updated=counters.updated,
            duplicates=counters.duplicates,
            rejected=counters.rejected,
            ignored_hints=counters.ignored_hints,
            unmapped_hints=counters.unmapped_hints,
            nul_replaced=counters.nul_replaced,
            reject_reasons=counters.reasons.top(),
            error=error,
            retry_after=retry_after,
        )


class _Statistics:
    """Planner statistics kept up with a large sync (`app.db.analyze`): refreshed
    as its stored rows pass 10,000, 20,000, 40,000... and once more at its end.

    A first import fills empty tables, and PostgreSQL plans each batch's look-ups
    from what the tables held when last analysed: measured with autovacuum off, the
    duplicate look-up by content hash then scanned every stored item of the source
    (0.36 s a batch at 390,000 items, and growing), where the index finds them in
    milliseconds. Doubling the mark keeps the number of ANALYZEs logarithmic."""

    def __init__(self, engine: Engine, source_id: str) -> None:
        self._engine, self._source_id = engine, source_id
        self._next = ANALYZE_AFTER_ROWS
        self._done_at = 0

    def stored(self, rows: int) -> None:
        if rows >= self._next:
            self._analyze(rows)
            while self._next <= rows:
                self._next *= 2

    def finished(self, rows: int) -> None:
        if rows >= ANALYZE_AFTER_ROWS and rows > self._done_at:
            self._analyze(rows)

    def _analyze(self, rows: int) -> None:
        """A failure here is only logged: what was stored stays stored."""
        try:
            analyze(self._engine, ("items", "segments", *READ_MODEL_TABLES))
            self._done_at = rows
        except DBAPIError as exc:
            log.warning("statistics for the sync of %s not refreshed: %s", self._source_id, exc)


def _read_into_queue(
    queue: BatchQueue,
    engine: Engine,
    run_id: int,
    source_id: str,
    connector: Connector[Any],
    cursor: Cursor | None,
    policy: IngestPolicy,
    statistics: _Statistics,
) -> None:
    """A queued sync's reading: every batch to the queue, at most `in_flight` ahead
    of the stored ones; returns once all are stored (`RunEndedError` if one failed).
    While it waits it keeps the planner's statistics up with what was stored."""
    seq = 0
    for batch in connector.fetch(cursor):
        if batch.outcomes:
            outcome_counts = _RunCounters()
            import_batch_outcomes(
                engine, batch, source_id=source_id, policy=policy, counters=outcome_counts
            )
            _add_run_counts(engine, run_id, outcome_counts)
            batch = Batch(batch.items, batch.rejected, batch.cursor)
        seq += 1
        _wait_committed(engine, run_id, seq - queue.in_flight)
        statistics.stored(_stored_rows(engine, run_id))
        queue.put(
            run_id=run_id, seq=seq, source_id=source_id, channel=connector.channel, batch=batch
        )
    _wait_committed(engine, run_id, seq)
