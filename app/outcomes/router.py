"""Outcomes: post them, read the customer asset and what customers did after speaking."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool

from app.deps import JourneyDep, RuntimeDep, SessionDep
from app.errors import BadRequestError, PayloadTooLargeError, UnprocessableError
from app.outcomes import asset as asset_service
from app.outcomes import said_did
from app.outcomes.present import asset_part, stage_outcome
from app.outcomes.schemas import (
    CustomerAsset,
    ImportReject,
    ImportResponse,
    SaidDid,
    SegmentAsset,
)
from app.outcomes.service import import_rows
from app.params import parse_range
from app.security.access import IngestDep, ReadAccess
from app.story.service import Period

router = APIRouter(prefix="/api/v1", tags=["outcomes"])
MAX_RECORDS = 5000
MAX_BYTES = 5_000_000
FromQ = Annotated[str | None, Query(alias="from", description="date or datetime")]
ToQ = Annotated[str | None, Query(alias="to", description="date (inclusive) or datetime")]


EVENT_SCHEMA = {
    "type": "object",
    "description": "customer, event, occurred_at; value_change, value, currency, profit, "
    "event_id optional; any other field is kept as an attribute",
    "additionalProperties": True,
}


@router.post(
    "/outcomes",
    response_model=ImportResponse,
    summary="Post outcome events (joined, left, expanded, contracted, reactivated, value)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "anyOf": [
                            {"type": "array", "items": EVENT_SCHEMA, "maxItems": MAX_RECORDS},
                            {
                                "type": "object",
                                "properties": {"events": {"type": "array", "items": EVENT_SCHEMA}},
                                "required": ["events"],
                            },
                        ]
                    }
                }
            },
        }
    },
)
async def post_outcomes(request: Request, runtime: RuntimeDep, _: IngestDep) -> ImportResponse:
    body = await request.body()
    if len(body) > MAX_BYTES:
        raise PayloadTooLargeError(f"the body is {len(body):,} bytes; at most {MAX_BYTES:,}")
    try:
        posted = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BadRequestError(f"the body is not JSON: {exc}") from exc
    if isinstance(posted, dict) and isinstance(posted.get("events"), list):
        posted = posted["events"]
    if not isinstance(posted, list) or not all(isinstance(r, dict) for r in posted):
        raise UnprocessableError('post a JSON array of event objects (or {"events": [...]})')
    if len(posted) > MAX_RECORDS:
        raise PayloadTooLargeError(f"{len(posted):,} events; at most {MAX_RECORDS:,} at once")
    result = await run_in_threadpool(
        import_rows, runtime.engine, posted, origin="api", policy=runtime.policy
    )
    return ImportResponse(
        read=result.read,
        inserted=result.inserted,
        duplicates=result.duplicates,
        rejected=result.rejected,
        rejects=[ImportReject(index=i, reason=r) for i, r in result.rejects],
    )


@router.get(
    "/customers/asset",
    response_model=CustomerAsset,
    response_model_by_alias=True,
    summary="The customer asset: customers and their value gained, lost, grown, shrunk",
    dependencies=[ReadAccess],
)
def customer_asset(
    session: SessionDep,
    date_from: FromQ = None,
    date_to: ToQ = None,
    group_by: Annotated[
        str | None, Query(max_length=64, description="an attribute, e.g. segment")
    ] = None,
) -> CustomerAsset:
    start, stop = parse_range(date_from, date_to)
    period = Period.of(start, stop)
    whole, groups = asset_service.customer_asset(
        session.connection(), start=period.day_from, stop=period.day_to, group_by=group_by
    )
    return CustomerAsset(
        date_from=date_from,
        date_to=date_to,
        group_by=group_by,
        segments=[
            SegmentAsset(segment=name, **asset_part(part).model_dump())
            for name, part in groups.items()
        ],
        **asset_part(whole).model_dump(),
    )


@router.get(
    "/outcomes/by-stage",
    response_model=SaidDid,
    response_model_by_alias=True,
    summary="Said versus did: per stage, how many who spoke negatively had the event after",
    dependencies=[ReadAccess],
)
def by_stage(
    session: SessionDep,
    journey: JourneyDep,
    date_from: FromQ = None,
    date_to: ToQ = None,
    window_days: Annotated[int, Query(ge=1, le=730)] = 90,
    event: Literal["left", "expanded", "contracted", "reactivated", "joined"] = "left",
    min_customers: Annotated[int, Query(ge=1, le=1_000_000)] = 30,
) -> SaidDid:
    start, stop = parse_range(date_from, date_to)
    period = Period.of(start, stop)
    day_to = period.day_to or (datetime.now(UTC).date() + timedelta(days=1))
    day_from = period.day_from or (day_to - timedelta(days=90))
    found = said_did.said_versus_did(
        session.connection(),
        journey,
        start=day_from,
        stop=day_to,
        event=event,
        window_days=window_days,
        min_customers=min_customers,
    )
    return SaidDid.model_validate(
        {
            "from": day_from.isoformat(),
            "to": (day_to - timedelta(days=1)).isoformat(),
            "event": found.event,
            "window_days": found.window_days,
            "min_customers": min_customers,
            "base": asdict(found.base),
            "stages": [stage_outcome(s).model_dump() for s in found.stages],
        }
    )
