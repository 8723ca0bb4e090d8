"""Sources: registering the declared ones, listing state, runs and quarantine."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session, col, desc, select

from app.db_types import utcnow
from app.errors import NotFoundError
from app.models import QuarantinedRecord, RunDuplicate, Source, SyncRun
from app.sources.config import SourceSpec
from connectors.registry import get_connector_class


def register_sources(session: Session, *, specs: Sequence[SourceSpec]) -> list[Source]:
    """Upsert the declared sources. A source dropped from the file is disabled, not
    deleted: its items stay part of the story."""
    declared = {spec.id for spec in specs}
    rows: list[Source] = []
    for spec in specs:
        channel = get_connector_class(spec.kind).channel
        row = session.get(Source, spec.id)
        if row is None:
            row = Source(id=spec.id, name=spec.name, kind=spec.kind, channel=channel)
        elif row.kind != spec.kind:
            # Another kind means another cursor format: start over (dedupe keeps items single).
            row.cursor = None
        row.name = spec.name
        row.kind = spec.kind
        row.channel = channel
        row.enabled = spec.enabled
        row.schedule = spec.schedule.model_dump(exclude_none=True)
        row.config = spec.config
        row.updated_at = utcnow()
        session.add(row)
        rows.append(row)
    for row in session.exec(select(Source).where(col(Source.id).not_in(declared))).all():
        if row.enabled:
            row.enabled = False
            row.updated_at = utcnow()
            session.add(row)
    session.commit()
    return rows


def list_sources(session: Session) -> Sequence[Source]:
    return session.exec(select(Source).order_by(Source.id)).all()


def get_source(session: Session, *, source_id: str) -> Source:
    source = session.get(Source, source_id)
    if source is None:
        raise NotFoundError(f"no source with id {source_id!r}")
    return source


def list_runs(session: Session, *, source_id: str, limit: int) -> Sequence[SyncRun]:
    get_source(session, source_id=source_id)
    return session.exec(
        select(SyncRun)
        .where(SyncRun.source_id == source_id)
        .order_by(desc(SyncRun.started_at), desc(SyncRun.id))
        .limit(limit)
    ).all()


def list_quarantine(
    session: Session, *, source_id: str | None, limit: int, before_id: int | None
) -> Sequence[QuarantinedRecord]:
    query = select(QuarantinedRecord)
    if source_id is not None:
        get_source(session, source_id=source_id)
        query = query.where(QuarantinedRecord.source_id == source_id)
    if before_id is not None:
        query = query.where(col(QuarantinedRecord.id) < before_id)
    return session.exec(query.order_by(desc(QuarantinedRecord.id)).limit(limit)).all()


def get_run(session: Session, *, source_id: str, run_id: int) -> SyncRun:
    get_source(session, source_id=source_id)
    run = session.get(SyncRun, run_id)
    if run is None or run.source_id != source_id:
        raise NotFoundError(f"source {source_id!r} has no run {run_id}")
    return run


def list_duplicates(
    session: Session, *, run: SyncRun, limit: int, after_id: int | None
) -> tuple[Sequence[RunDuplicate], bool]:
    """A page of a run's duplicates in the order it met them, and whether more follow."""
    query = select(RunDuplicate).where(RunDuplicate.run_id == run.id)
    if after_id is not None:
        query = query.where(col(RunDuplicate.id) > after_id)
    rows = session.exec(query.order_by(col(RunDuplicate.id)).limit(limit + 1)).all()
    return rows[:limit], len(rows) > limit
