from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query

from app.deps import JourneyDep, SessionDep, SettingsDep
from app.errors import BadRequestError
from app.items import service
from app.items.filters import ItemFilters
from app.items.schemas import ItemDetail, ItemPage
from app.params import MAX_ID, AttrsDep, check_stage, parse_range

router = APIRouter(prefix="/api/v1/items", tags=["items"])


@router.get(
    "",
    response_model=ItemPage,
    summary="Feedback items, newest first, filtered",
    description="Besides the named filters: `attr.NAME=VALUE` on item attributes "
    "(repeatable; names AND-ed, values of one name OR-ed).",
)
def list_items(
    attrs: AttrsDep,
    session: SessionDep,
    journey: JourneyDep,
    settings: SettingsDep,
    stage: Annotated[str | None, Query(description="a journey stage key or 'unassigned'")] = None,
    channel: str | None = None,
    source: str | None = None,
    sentiment: Literal["negative", "neutral", "positive"] | None = None,
    customer: str | None = None,
    date_from: Annotated[str | None, Query(alias="from", description="date or datetime")] = None,
    date_to: Annotated[
        str | None, Query(alias="to", description="date (inclusive) or datetime")
    ] = None,
    q: Annotated[str | None, Query(max_length=200, description="text contains")] = None,
    rating_min: Annotated[float | None, Query(allow_inf_nan=False)] = None,
    rating_max: Annotated[float | None, Query(allow_inf_nan=False)] = None,
    rating_scale: Annotated[str | None, Query(max_length=32)] = None,
    limit: Annotated[int, Query(ge=1)] = 50,
    cursor: str | None = None,
) -> ItemPage:
    if rating_min is not None and rating_max is not None and rating_min > rating_max:
        raise BadRequestError(f"'rating_min' ({rating_min}) is above 'rating_max' ({rating_max})")
    if limit > settings.page_size_max:
        raise BadRequestError(f"'limit' may be at most {settings.page_size_max}")
    start, stop = parse_range(date_from, date_to)
    filters = ItemFilters(
        stage=check_stage(journey, stage),
        channel=channel,
        source=source,
        sentiment=sentiment,
        date_from=start,
        date_to=stop,
        contains=q,
        customer=customer,
        attrs=attrs,
        rating_min=rating_min,
        rating_max=rating_max,
        rating_scale=rating_scale,
    )
    return service.list_items(session, filters=filters, limit=limit, cursor=cursor)


@router.get("/{item_id}", response_model=ItemDetail, summary="One item with its sentences")
def get_item(session: SessionDep, item_id: Annotated[int, Path(ge=1, le=MAX_ID)]) -> ItemDetail:
    return service.get_item(session, item_id=item_id)
