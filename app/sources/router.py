from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool

from app.deps import RuntimeDep, SessionDep
from app.models import QuarantinedRecord, Source, SyncRun
from app.params import MAX_ID
from app.sources import service
from app.sources.schemas import QuarantinePublic, SourcePublic, SyncRunPublic, redact_config

router = APIRouter(prefix="/api/v1", tags=["sources"])


def _source_out(source: Source, runtime: RuntimeDep) -> SourcePublic:
    scheduler = runtime.scheduler
    return SourcePublic(
        id=source.id,
        name=source.name,
        kind=source.kind,
        channel=source.channel,
        enabled=source.enabled,
        schedule=source.schedule,
        config=redact_config(source.config),
        status=source.status,
        last_run_at=source.last_run_at,
        last_error=source.last_error,
        next_run_at=scheduler.next_run_at(source.id) if scheduler else None,
    )


def _run_out(run: SyncRun) -> SyncRunPublic:
    return SyncRunPublic.model_validate({**run.model_dump(), "source": run.source_id})


def _quarantine_out(row: QuarantinedRecord) -> QuarantinePublic:
    return QuarantinePublic.model_validate({**row.model_dump(), "source": row.source_id})


@router.get("/sources", response_model=list[SourcePublic], summary="Sources and their state")
def list_sources(session: SessionDep, runtime: RuntimeDep) -> list[SourcePublic]:
    return [_source_out(s, runtime) for s in service.list_sources(session)]


@router.get("/sources/{source_id}", response_model=SourcePublic)
def get_source(session: SessionDep, runtime: RuntimeDep, source_id: str) -> SourcePublic:
    return _source_out(service.get_source(session, source_id=source_id), runtime)


@router.get("/sources/{source_id}/runs", response_model=list[SyncRunPublic])
def list_runs(
    session: SessionDep, source_id: str, limit: Annotated[int, Query(ge=1, le=500)] = 20
) -> list[SyncRunPublic]:
    return [_run_out(r) for r in service.list_runs(session, source_id=source_id, limit=limit)]


@router.post(
    "/sources/{source_id}/sync",
    response_model=SyncRunPublic,
    summary="Run a source now and wait for the result",
)
async def sync_source(session: SessionDep, runtime: RuntimeDep, source_id: str) -> SyncRunPublic:
    service.get_source(session, source_id=source_id)
    result = await run_in_threadpool(runtime.sync, source_id, trigger="api")
    run = session.get(SyncRun, result.run_id)
    assert run is not None
    session.refresh(run)
    return _run_out(run)


@router.get(
    "/quarantine",
    response_model=list[QuarantinePublic],
    summary="Records that could not be ingested, newest first, with the reason",
)
def list_quarantine(
    session: SessionDep,
    source: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    before_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> list[QuarantinePublic]:
    rows = service.list_quarantine(session, source_id=source, limit=limit, before_id=before_id)
    return [_quarantine_out(r) for r in rows]
