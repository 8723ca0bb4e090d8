from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import partial
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlmodel import Session

from app.deps import RuntimeDep, SessionDep
from app.errors import (
    BadRequestError,
    ConflictError,
    NotFoundError,
    PayloadTooLargeError,
    UnprocessableError,
)
from app.models import QuarantinedRecord, RunDuplicate, Source, SyncRun
from app.params import MAX_ID
from app.scheduler import stored_next_runs
from app.security import audit
from app.security.access import AdminAccess, AdminDep, IngestDep
from app.sources import service
from app.sources.schemas import (
    DuplicatePage,
    DuplicatePublic,
    PushedRecord,
    PushResponse,
    QuarantinePublic,
    SourcePublic,
    SyncRunDetail,
    SyncRunPublic,
    redact_config,
)
from connectors.errors import BatchTooLargeError, PluginError, UnknownKindError
from connectors.push import PushConnector
from connectors.registry import get_connector_class

router = APIRouter(prefix="/api/v1", tags=["sources"])


def _next_runs(runtime: RuntimeDep) -> dict[str, datetime]:
    """From this replica's scheduler, or, where another replica leads, its job store."""
    scheduler = runtime.scheduler
    if scheduler is not None:
        return {
            source_id: when
            for source_id in runtime.sources
            if (when := scheduler.next_run_at(source_id)) is not None
        }
    return stored_next_runs(runtime.engine)


def _source_out(
    source: Source, runtime: RuntimeDep, next_runs: dict[str, datetime] | None = None
) -> SourcePublic:
    runs = _next_runs(runtime) if next_runs is None else next_runs
    return SourcePublic(
        id=source.id,
        name=source.name,
        kind=source.kind,
        channel=source.channel,
        enabled=source.enabled,
        schedule=source.schedule,
        config=redact_config(source.config, _config_model(source.kind)),
        status=source.status,
        last_run_at=source.last_run_at,
        last_error=source.last_error,
        next_run_at=runs.get(source.id),
    )


def _config_model(kind: str) -> type[BaseModel] | None:
    try:
        return get_connector_class(kind).config_model
    except (PluginError, UnknownKindError):  # a kind no longer installed: names masked
        return None


def _run_out(run: SyncRun) -> SyncRunPublic:
    return SyncRunPublic.model_validate({**run.model_dump(), "source": run.source_id})


def _duplicate_out(row: RunDuplicate) -> DuplicatePublic:
    return DuplicatePublic.model_validate(row.model_dump())


def _quarantine_out(row: QuarantinedRecord) -> QuarantinePublic:
    return QuarantinePublic.model_validate({**row.model_dump(), "source": row.source_id})


@router.get(
    "/sources",
    response_model=list[SourcePublic],
    summary="Sources and their state",
    dependencies=[AdminAccess],
)
def list_sources(session: SessionDep, runtime: RuntimeDep) -> list[SourcePublic]:
    runs = _next_runs(runtime)
    return [_source_out(s, runtime, runs) for s in service.list_sources(session)]


@router.get("/sources/{source_id}", response_model=SourcePublic, dependencies=[AdminAccess])
def get_source(session: SessionDep, runtime: RuntimeDep, source_id: str) -> SourcePublic:
    return _source_out(service.get_source(session, source_id=source_id), runtime)


@router.get(
    "/sources/{source_id}/runs", response_model=list[SyncRunPublic], dependencies=[AdminAccess]
)
def list_runs(
    session: SessionDep, source_id: str, limit: Annotated[int, Query(ge=1, le=500)] = 20
) -> list[SyncRunPublic]:
    return [_run_out(r) for r in service.list_runs(session, source_id=source_id, limit=limit)]


DUPLICATES_PER_PAGE = 100


def _duplicates_url(source_id: str, run_id: int, after_id: int, limit: int) -> str:
    return (
        f"/api/v1/sources/{quote(source_id, safe='')}/runs/{run_id}/duplicates"
        f"?after_id={after_id}&limit={limit}"
    )


@router.get(
    "/sources/{source_id}/runs/{run_id}",
    dependencies=[AdminAccess],
    response_model=SyncRunDetail,
    summary="One run: its counters, its commonest reject reasons and the duplicates it found",
)
def get_run(
    session: SessionDep, source_id: str, run_id: Annotated[int, Path(ge=1, le=MAX_ID)]
) -> SyncRunDetail:
    run = service.get_run(session, source_id=source_id, run_id=run_id)
    rows, more = service.list_duplicates(session, run=run, limit=DUPLICATES_PER_PAGE, after_id=None)
    return SyncRunDetail.model_validate(
        {
            **_run_out(run).model_dump(),
            "duplicate_records": [_duplicate_out(r) for r in rows],
            "duplicates_next": _duplicates_url(
                source_id, run_id, rows[-1].id or 0, DUPLICATES_PER_PAGE
            )
            if more
            else None,
        }
    )


@router.get(
    "/sources/{source_id}/runs/{run_id}/duplicates",
    dependencies=[AdminAccess],
    response_model=DuplicatePage,
    summary="Every record a run counted as a duplicate, with the stored item it matched",
)
def list_run_duplicates(
    session: SessionDep,
    source_id: str,
    run_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    limit: Annotated[int, Query(ge=1, le=1000)] = DUPLICATES_PER_PAGE,
    after_id: Annotated[int | None, Query(ge=0, le=MAX_ID)] = None,
) -> DuplicatePage:
    run = service.get_run(session, source_id=source_id, run_id=run_id)
    rows, more = service.list_duplicates(session, run=run, limit=limit, after_id=after_id)
    return DuplicatePage(
        duplicates=[_duplicate_out(r) for r in rows],
        next=_duplicates_url(source_id, run_id, rows[-1].id or 0, limit) if more else None,
    )


class SyncQueued(BaseModel):
    """With the queue (LP_QUEUE=procrastinate) a sync runs on a worker: its run shows
    in `GET /sources/{id}/runs` once a worker starts it."""

    queued: bool
    job: int | None
    detail: str


@router.post(
    "/sources/{source_id}/sync",
    response_model=SyncRunPublic,
    summary="Run a source now and wait for the result (with workers: queue it, 202)",
    responses={202: {"model": SyncQueued, "description": "queued for the workers"}},
)
def sync_source(
    session: SessionDep, runtime: RuntimeDep, source_id: str, caller: AdminDep
) -> SyncRunPublic | JSONResponse:
    service.get_source(session, source_id=source_id)
    audit.record(session, actor=caller.actor, action="source.sync", target=source_id)
    if runtime.queue is not None:
        job = runtime.queue.sync(source_id, trigger="api")
        answer = SyncQueued(
            queued=job is not None,
            job=job,
            detail=f"queued as job {job}" if job is not None else "a sync is queued already",
        )
        return JSONResponse(status_code=202, content=answer.model_dump())
    result = runtime.jobs.sync(source_id, trigger="api")
    return _run_out(_stored_run(session, result.run_id))


def _stored_run(session: Session, run_id: int) -> SyncRun:
    run = session.get(SyncRun, run_id)
    assert run is not None
    session.refresh(run)
    return run


MAX_PUSH_BYTES = 5_000_000


@router.post(
    "/sources/{source_id}/items",
    response_model=PushResponse,
    summary="Post records to a push source (web forms, webhooks): validated one by one, "
    "stored in one transaction, idempotent on the records' ids",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "description": 'a JSON array of records, or {"items": [...]}: id, '
                        "text, occurred_at, customer, rating, attributes (docs/sources.md)",
                        "anyOf": [
                            {"type": "array", "items": {"type": "object"}},
                            {
                                "type": "object",
                                "properties": {"items": {"type": "array"}},
                                "required": ["items"],
                            },
                        ],
                    }
                }
            },
        }
    },
)
async def push_items(
    request: Request, session: SessionDep, runtime: RuntimeDep, source_id: str, _: IngestDep
) -> PushResponse:
    # async for the body; every database call goes to the thread pool, so a slow
    # or exhausted pool never blocks the event loop (and every other request)
    await run_in_threadpool(partial(service.get_source, session, source_id=source_id))
    spec = runtime.sources.get(source_id)
    if spec is None:
        raise NotFoundError(f"source {source_id!r} is no longer declared")
    kind = get_connector_class(spec.kind)
    if "push" not in kind.capabilities:
        raise ConflictError(
            f"source {source_id!r} is a {spec.kind!r} source: it pulls its records; "
            "declare a `kind: push` source to post records"
        )
    body = await request.body()
    if len(body) > MAX_PUSH_BYTES:
        raise PayloadTooLargeError(
            f"the body is {len(body):,} bytes; at most {MAX_PUSH_BYTES:,}: send smaller batches"
        )
    try:
        posted = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BadRequestError(f"the body is not JSON: {exc}") from exc
    connector = kind.from_mapping(spec.config, base_dir=runtime.jobs.base_dir)
    assert isinstance(connector, PushConnector)
    received = datetime.now(UTC)
    try:
        accepted = connector.accept(posted, received_at=received)
    except BatchTooLargeError as exc:
        raise PayloadTooLargeError(str(exc)) from exc
    except TypeError as exc:
        raise UnprocessableError(str(exc)) from exc
    result, outcomes = await run_in_threadpool(
        partial(runtime.jobs.push, source_id, accepted.batch, received_at=received)
    )
    run = await run_in_threadpool(_stored_run, session, result.run_id)
    records = []
    for record in accepted.results:
        status, reason = ("rejected", record.reason)
        if record.status == "accepted" and record.external_id is not None:
            status, reason = outcomes.get(record.external_id, ("rejected", result.error))
        records.append(
            PushedRecord(
                index=record.index, external_id=record.external_id, status=status, reason=reason
            )
        )
    return PushResponse(run=_run_out(run), records=records)


@router.get(
    "/quarantine",
    dependencies=[AdminAccess],
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
