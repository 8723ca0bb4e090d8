"""Sync one source: fetch batches, dedupe, enrich, store — one transaction per batch.

Each batch's items, segments, quarantined records, run counters and the
source's new cursor are committed together, so a crash between batches loses
nothing (the cursor never runs ahead of the stored items) and a re-run stores
nothing twice (dedupe on `(source, external_id)` and on content hash).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, col, select

from app.db_types import utcnow
from app.ingest.hashing import content_hash
from app.ingest.locks import source_lock
from app.models import Item, QuarantinedRecord, Source, SyncRun
from connectors.base import Batch, Connector, RawItem, RejectedRecord
from connectors.errors import ConfigError, ConnectorError, FatalError, RetriableError
from nlp.enrichment import Enricher, Enrichment, EnrichRequest
from nlp.journey import Journey

log = logging.getLogger(__name__)

MAX_TEXT_CHARS = 50_000
ITEMS: Table = SQLModel.metadata.tables["items"]
SEGMENTS: Table = SQLModel.metadata.tables["segments"]
MAX_EXCERPT_CHARS = 2_000


@dataclass(frozen=True, slots=True)
class BatchProgress:
    source_id: str
    fetched: int
    inserted: int
    duplicates: int
    rejected: int


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


def _reject_reason(item: RawItem) -> str | None:
    """Ingest's own checks, on top of the connector's: what the store cannot hold."""
    if not item.external_id or len(item.external_id) > 512:
        return "external id is empty or longer than 512 characters"
    if not item.text or not item.text.strip():
        return "text is empty"
    if len(item.text) > MAX_TEXT_CHARS:
        return f"text is {len(item.text)} characters; the limit is {MAX_TEXT_CHARS}"
    if item.occurred_at.tzinfo is None:
        return "occurred_at has no time zone"
    if item.author_ref is not None and len(item.author_ref) > 256:
        return "author reference is longer than 256 characters"
    return None


class _RunCounters:
    def __init__(self) -> None:
        self.fetched = 0
        self.inserted = 0
        self.duplicates = 0
        self.rejected = 0
        self.ignored_hints = 0


def _store_batch(
    engine: Engine,
    *,
    source_id: str,
    run_id: int,
    batch: Batch,
    enricher: Enricher,
    journey: Journey,
    counters: _RunCounters,
    default_channel: str,
) -> None:
    rejects: list[RejectedRecord] = list(batch.rejected)
    candidates: list[RawItem] = []
    for item in batch.items:
        reason = _reject_reason(item)
        if reason is None:
            candidates.append(item)
        else:
            rejects.append(
                RejectedRecord(
                    reason=reason,
                    excerpt=item.text[:MAX_EXCERPT_CHARS],
                    external_id=item.external_id,
                )
            )

    # Read phase (short): what do we already hold? Enrichment happens outside any
    # write transaction so SQLite readers are never blocked behind the NLP.
    digests = [content_hash(item) for item in candidates]
    known_ids: set[str] = set()
    known_hashes: set[str] = set()
    if candidates:
        with Session(engine) as session:
            known_ids.update(
                session.exec(
                    select(Item.external_id).where(
                        Item.source_id == source_id,
                        col(Item.external_id).in_([i.external_id for i in candidates]),
                    )
                ).all()
            )
            known_hashes.update(
                session.exec(
                    select(Item.content_hash).where(col(Item.content_hash).in_(digests))
                ).all()
            )

    fresh: list[tuple[RawItem, str]] = []
    duplicates = 0
    for item, digest in zip(candidates, digests, strict=True):
        if item.external_id in known_ids or digest in known_hashes:
            duplicates += 1
            continue
        known_ids.add(item.external_id)
        known_hashes.add(digest)
        fresh.append((item, digest))

    hints: list[str | None] = []
    ignored_hints = 0
    for item, _ in fresh:
        if item.stage_hint is not None and journey.get(item.stage_hint) is None:
            ignored_hints += 1
            hints.append(None)
        else:
            hints.append(item.stage_hint)
    enrichments: Sequence[Enrichment] = list(
        enricher.enrich_many(
            EnrichRequest(i.text, h) for (i, _), h in zip(fresh, hints, strict=True)
        )
    )
    excerpts = [
        enricher.enrich(r.excerpt[:MAX_EXCERPT_CHARS]).text if r.excerpt.strip() else ""
        for r in rejects
    ]

    with Session(engine, expire_on_commit=False) as session:
        # Core inserts, not ORM objects: building and flushing an ORM object per
        # item and sentence cost more than the NLP itself (bench/ingest.py).
        item_rows = [
            _item_row(source_id, default_channel, item, hint, digest, enrichment)
            for (item, digest), hint, enrichment in zip(fresh, hints, enrichments, strict=True)
        ]
        item_ids: list[int] = []
        if item_rows:
            inserted = session.execute(
                insert(ITEMS).returning(ITEMS.c.id, sort_by_parameter_order=True), item_rows
            )
            item_ids = [int(row_id) for row_id in inserted.scalars().all()]
        segment_rows = [
            segment
            for item_id, item_row, enrichment in zip(item_ids, item_rows, enrichments, strict=True)
            for segment in _segment_rows(item_id, item_row, enrichment)
        ]
        if segment_rows:
            session.execute(insert(SEGMENTS), segment_rows)
        for reject, excerpt in zip(rejects, excerpts, strict=True):
            session.add(
                QuarantinedRecord(
                    source_id=source_id,
                    run_id=run_id,
                    external_id=(reject.external_id or None) and reject.external_id[:512],
                    location=reject.location[:512] if reject.location else None,
                    reason=reject.reason,
                    excerpt=excerpt,
                )
            )
        counters.fetched += len(batch.items) + len(batch.rejected)
        counters.inserted += len(item_rows)
        counters.duplicates += duplicates
        counters.rejected += len(rejects)
        counters.ignored_hints += ignored_hints
        run = session.get(SyncRun, run_id)
        source = session.get(Source, source_id)
        assert run is not None
        assert source is not None
        _copy_counters(run, counters)
        source.cursor = batch.cursor
        source.updated_at = utcnow()
        session.add(run)
        session.add(source)
        session.commit()


def _item_row(
    source_id: str,
    default_channel: str,
    item: RawItem,
    hint: str | None,
    digest: str,
    enrichment: Enrichment,
) -> dict[str, Any]:
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
        "content_hash": digest,
        "sentiment_score": enrichment.sentiment.score,
        "sentiment_label": enrichment.sentiment.label,
        "stage": enrichment.stage.stage,
        "stage_confidence": enrichment.stage.confidence,
        "stage_method": enrichment.stage.method,
        "stage_evidence": list(enrichment.stage.evidence),
        "stage_hint": hint,
        "themes": list(enrichment.themes),
        "redactions": dict(enrichment.redactions),
        "nlp_version": enrichment.nlp_version[:64],
        "ingested_at": utcnow(),
    }


def _segment_rows(
    item_id: int, item_row: dict[str, Any], enrichment: Enrichment
) -> list[dict[str, Any]]:
    return [
        {
            "item_id": item_id,
            "idx": seg.index,
            "start": seg.start,
            "end": seg.end,
            "text": seg.text,
            "occurred_at": item_row["occurred_at"],
            "source_id": item_row["source_id"],
            "sentiment_score": seg.sentiment.score,
            "sentiment_label": seg.sentiment.label,
            "stage": seg.stage.stage,
            "stage_confidence": seg.stage.confidence,
            "stage_method": seg.stage.method,
            "stage_evidence": list(seg.stage.evidence),
        }
        for seg in enrichment.segments
    ]


def _copy_counters(run: SyncRun, counters: _RunCounters) -> None:
    run.fetched = counters.fetched
    run.inserted = counters.inserted
    run.duplicates = counters.duplicates
    run.rejected = counters.rejected
    run.ignored_hints = counters.ignored_hints


def _start_run(engine: Engine, source_id: str, trigger: str) -> tuple[int, dict[str, Any] | None]:
    with Session(engine, expire_on_commit=False) as session:
        source = session.get(Source, source_id)
        if source is None:
            raise LookupError(f"source {source_id!r} is not registered")
        run = SyncRun(source_id=source_id, trigger=trigger)
        session.add(run)
        session.commit()
        assert run.id is not None
        return run.id, source.cursor


def _finish_run(
    engine: Engine, run_id: int, source_id: str, counters: _RunCounters, error: str | None
) -> None:
    with Session(engine) as session:
        run = session.get(SyncRun, run_id)
        source = session.get(Source, source_id)
        assert run is not None
        assert source is not None
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


def run_sync(
    engine: Engine,
    *,
    source_id: str,
    connector: Connector[Any],
    enricher: Enricher,
    journey: Journey,
    trigger: str = "manual",
    on_batch: Callable[[BatchProgress], None] | None = None,
) -> SyncResult:
    """Run one sync of a registered source to the end of what it has.

    Never raises for a source's own faults: a connector error fails the run, marks
    the source failing, and comes back in the result. Raises `SourceBusyError` when
    the source is already syncing and `LookupError` for an unregistered source.
    """
    with source_lock(engine, source_id):
        run_id, cursor = _start_run(engine, source_id, trigger)
        counters = _RunCounters()
        error: str | None = None
        try:
            for batch in connector.fetch(cursor):
                _store_batch(
                    engine,
                    source_id=source_id,
                    run_id=run_id,
                    batch=batch,
                    enricher=enricher,
                    journey=journey,
                    counters=counters,
                    default_channel=connector.channel,
                )
                if on_batch is not None:
                    on_batch(
                        BatchProgress(
                            source_id=source_id,
                            fetched=counters.fetched,
                            inserted=counters.inserted,
                            duplicates=counters.duplicates,
                            rejected=counters.rejected,
                        )
                    )
        except (ConfigError, FatalError) as exc:
            error = f"{type(exc).__name__}: {exc}"
        except RetriableError as exc:
            error = f"temporary failure, retried on the next run: {exc}"
        except ConnectorError as exc:
            error = str(exc)
        except Exception as exc:  # a connector or store bug must not kill the scheduler
            log.exception("sync of %s failed", source_id)
            error = f"unexpected {type(exc).__name__}: {exc}"
        _finish_run(engine, run_id, source_id, counters, error)
        return SyncResult(
            run_id=run_id,
            source_id=source_id,
            status="failed" if error else "succeeded",
            fetched=counters.fetched,
            inserted=counters.inserted,
            duplicates=counters.duplicates,
            rejected=counters.rejected,
            ignored_hints=counters.ignored_hints,
            error=error,
        )
