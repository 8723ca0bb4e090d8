from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from app.deps import JourneyDep, SessionDep
from app.params import parse_range
from app.story import service
from app.story.schemas import Story

router = APIRouter(prefix="/api/v1", tags=["story"])


@router.get(
    "/story",
    response_model=Story,
    response_model_by_alias=True,
    summary="The stage-by-stage story of the customer journey",
)
def get_story(
    session: SessionDep,
    journey: JourneyDep,
    date_from: Annotated[str | None, Query(alias="from", description="date or datetime")] = None,
    date_to: Annotated[
        str | None, Query(alias="to", description="date (inclusive) or datetime")
    ] = None,
    source: str | None = None,
    channel: str | None = None,
) -> Story:
    start, stop = parse_range(date_from, date_to)
    return service.build_story(
        session, journey=journey, date_from=start, date_to=stop, source=source, channel=channel
    )
