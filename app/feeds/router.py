"""Feed routes: validate, pick the format (suffix, else `Accept`, else CSV), stream."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC
from typing import Annotated, Literal

from fastapi import APIRouter, Header, Query
from fastapi.responses import StreamingResponse

from app.deps import JourneyDep, RuntimeDep, SessionDep
from app.feeds import repository
from app.feeds.formats import MEDIA_TYPES, Format, format_from_accept, stream
from app.outcomes.daily import COLUMNS as OUTCOME_COLUMNS
from app.outcomes.daily import rows as outcomes_daily_rows
from app.params import (
    AttrsDep,
    check_channel,
    check_source,
    check_stage,
    parse_moment,
    parse_range,
)
from app.readmodel.answers import Answers, age_headers, of_the_story
from app.readmodel.shared import BYTES
from app.story.service import Period

router = APIRouter(prefix="/api/v1/feeds", tags=["feeds"])

FeedFormat = Literal["csv", "ndjson", "parquet"]
FromQ = Annotated[str | None, Query(alias="from", description="date or datetime")]
ToQ = Annotated[str | None, Query(alias="to", description="date (inclusive) or datetime")]
UpdatedQ = Annotated[
    str | None,
    Query(description="only rows changed at or after this moment (incremental pulls)"),
]
AcceptH = Annotated[str | None, Header()]


def _format(suffix: FeedFormat | None, accept: str | None) -> Format:
    return suffix or format_from_accept(accept) or "csv"


def _filters(
    session: SessionDep,
    journey: JourneyDep,
    date_from: str | None,
    date_to: str | None,
    source: str | None,
    channel: str | None,
    stage: str | None,
    updated_since: str | None,
    attrs: dict[str, tuple[str, ...]],
) -> repository.FeedFilters:
    start, stop = parse_range(date_from, date_to)
    check_source(session, source)
    check_channel(session, channel)
    period = Period.of(start, stop)
    since = parse_moment(updated_since, name="updated_since")
    return repository.FeedFilters(
        day_from=period.day_from,
        day_to=period.day_to,
        moment_from=start,
        moment_to=stop,
        source=source,
        channel=channel,
        stage=check_stage(journey, stage),
        updated_since=since.astimezone(UTC) if since is not None else None,
        attrs=attrs,
    )


def _response(
    chunks: Iterator[bytes], fmt: Format, name: str, headers: dict[str, str] | None = None
) -> StreamingResponse:
    return StreamingResponse(
        chunks,
        media_type=MEDIA_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{name}.{fmt}"', **(headers or {})},
    )


STAGE_DAILY_DOC = (
    "One row per day x stage x channel x source: voices, distinct customers, sentiment "
    "counts and sum, NPS/CSAT/CES counts, rating answers and sums per scale. Whole UTC days. "
    "The format is the suffix (.csv, .ndjson, .parquet), else the Accept header "
    "(text/csv, application/x-ndjson, application/vnd.apache.parquet), else CSV. "
    "`attr.NAME=VALUE` filters on item attributes as on the story (repeatable)."
)
ITEMS_DOC = (
    "One row per item (or per sentence with grain=segment), in id order, streamed. "
    "Format as for the stage-daily feed."
)
GrainQ = Annotated[Literal["item", "segment"], Query(description="item or segment")]


# One function per feed, at two paths: with a format suffix, and without (Accept decides).
@router.get("/stage-daily.{fmt}", summary="Journey-stage daily feed", description=STAGE_DAILY_DOC)
@router.get("/stage-daily", summary="Journey-stage daily feed", description=STAGE_DAILY_DOC)
def stage_daily(
    attrs: AttrsDep,
    session: SessionDep,
    journey: JourneyDep,
    runtime: RuntimeDep,
    fmt: FeedFormat | None = None,
    accept: AcceptH = None,
    date_from: FromQ = None,
    date_to: ToQ = None,
    source: str | None = None,
    channel: str | None = None,
    stage: str | None = None,
    updated_since: UpdatedQ = None,
) -> StreamingResponse:
    chosen = _format(fmt, accept)
    f = _filters(session, journey, date_from, date_to, source, channel, stage, updated_since, attrs)
    scales = runtime.policy.scales
    columns = repository.stage_daily_columns(scales)

    def rows() -> Iterator[bytes]:
        return stream(repository.stage_daily_rows(runtime.engine, f, scales), columns, chosen)

    if not _keepable(f):
        return _response(rows(), chosen, "stage-daily")
    kept = of_the_story(
        FEEDS,
        session.connection(),
        ("stage-daily", chosen, repr(f), tuple(c.name for c in columns), journey),
        lambda: b"".join(rows()),
        codec=BYTES,
    )
    return _response(iter([kept.value]), chosen, "stage-daily", age_headers(kept))


FEEDS: Answers[bytes] = Answers(kept=16)
KEEP_DAYS_AT_MOST = 400


def _keepable(f: repository.FeedFilters) -> bool:
    """A stage-daily feed of a bounded period (a BI tool's usual pull: the last
    quarter, the last year) is kept per state of the rollups, as the story is: many
    dashboards pull the same one. An open or longer period, or an incremental pull,
    streams from the database each time, so memory stays bounded."""
    if f.day_from is None or f.day_to is None or f.updated_since is not None:
        return False
    return (f.day_to - f.day_from).days <= KEEP_DAYS_AT_MOST


@router.get("/items.{fmt}", summary="Items feed", description=ITEMS_DOC)
@router.get("/items", summary="Items feed", description=ITEMS_DOC)
def items(
    attrs: AttrsDep,
    session: SessionDep,
    journey: JourneyDep,
    runtime: RuntimeDep,
    fmt: FeedFormat | None = None,
    accept: AcceptH = None,
    grain: GrainQ = "item",
    date_from: FromQ = None,
    date_to: ToQ = None,
    source: str | None = None,
    channel: str | None = None,
    stage: str | None = None,
    updated_since: UpdatedQ = None,
) -> StreamingResponse:
    chosen = _format(fmt, accept)
    f = _filters(session, journey, date_from, date_to, source, channel, stage, updated_since, attrs)
    if grain == "segment":
        segments = repository.segment_rows(runtime.engine, f)
        return _response(stream(segments, repository.SEGMENT_COLUMNS, chosen), chosen, "segments")
    rows = repository.item_rows(runtime.engine, f)
    return _response(stream(rows, repository.ITEM_COLUMNS, chosen), chosen, "items")


OUTCOMES_DOC = (
    "What customers did, per day, event and segment: the events and the money they "
    "moved, the figures `GET /api/v1/customers/asset` adds up. Columns: docs/feeds.md."
)


@router.get("/outcomes-daily.{fmt}", summary="Outcomes daily feed", description=OUTCOMES_DOC)
@router.get("/outcomes-daily", summary="Outcomes daily feed", description=OUTCOMES_DOC)
def outcomes_daily(
    runtime: RuntimeDep,
    fmt: FeedFormat | None = None,
    accept: AcceptH = None,
    date_from: FromQ = None,
    date_to: ToQ = None,
    group_by: Annotated[str, Query(max_length=64, description="the segment attribute")] = "segment",
) -> StreamingResponse:
    chosen = _format(fmt, accept)
    start, stop = parse_range(date_from, date_to)
    period = Period.of(start, stop)
    with runtime.engine.connect() as conn:
        found = list(
            outcomes_daily_rows(conn, start=period.day_from, stop=period.day_to, group_by=group_by)
        )
    return _response(stream(iter(found), OUTCOME_COLUMNS, chosen), chosen, "outcomes-daily")
