from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request

from app.deps import JourneyDep, SessionDep
from app.errors import BadRequestError
from app.params import check_channel, check_source, parse_attrs, parse_range
from app.story import service
from app.story.schemas import Story

router = APIRouter(prefix="/api/v1", tags=["story"])


@router.get(
    "/story",
    response_model=Story,
    response_model_by_alias=True,
    summary="The stage-by-stage story of the customer journey",
    description="Filter on item attributes with `attr.NAME=VALUE` (repeatable: names are "
    "AND-ed, repeated values of one name OR-ed), e.g. `attr.touchpoint=First%20bill`.",
)
def get_story(
    request: Request,
    session: SessionDep,
    journey: JourneyDep,
    date_from: Annotated[str | None, Query(alias="from", description="date or datetime")] = None,
    date_to: Annotated[
        str | None, Query(alias="to", description="date (inclusive) or datetime")
    ] = None,
    source: str | None = None,
    channel: str | None = None,
    compare: Annotated[
        Literal["previous", "year"] | None,
        Query(description="also give every whole number for the period before, or a year earlier"),
    ] = None,
) -> Story:
    start, stop = parse_range(date_from, date_to)
    if compare is not None and (start is None or stop is None):
        raise BadRequestError("'compare' needs both 'from' and 'to' (a period to compare with)")
    check_source(session, source)
    check_channel(session, channel)
    return service.build_story(
        session,
        journey=journey,
        date_from=start,
        date_to=stop,
        source=source,
        channel=channel,
        compare=compare,
        attrs=parse_attrs(request.query_params.multi_items()),
        asked_from=date_from,
        asked_to=date_to,
    )
