"""Query parameters shared by several routes, validated with messages a person can act on."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated

from fastapi import Depends, Request
from sqlmodel import Session, select

from app.errors import BadRequestError, NotFoundError
from app.models import Source
from nlp.enrichment import UNASSIGNED
from nlp.journey import Journey


def parse_moment(value: str | None, *, name: str, end: bool = False) -> datetime | None:
    """Accept `YYYY-MM-DD` or an ISO 8601 datetime (naive = UTC).

    A date alone as the end of a range includes that whole day (`to=2026-10-31`
    means up to midnight after it), which is what a person typing dates means."""
    if value is None or value == "":
        return None
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            moment = datetime.combine(day, time.min, tzinfo=UTC)
            if end:
                return (
                    moment + timedelta(days=1)
                    if day < date.max
                    else datetime.max.replace(tzinfo=UTC)
                )
            return moment
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except (ValueError, OverflowError) as exc:
        raise BadRequestError(
            f"'{name}' must be a date (2026-10-31) or an ISO 8601 datetime; got {value!r}"
        ) from exc
    parsed = parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    if utc_or_none(parsed) is None:
        raise BadRequestError(
            f"'{name}' {value!r} lies outside the years 1 to 9999 once converted to UTC"
        )
    return parsed


def utc_or_none(moment: datetime) -> datetime | None:
    """`moment` in UTC, or None when the conversion leaves the years 1-9999
    (`9999-12-31T23:59:59-23:00` is a valid ISO string that no store can hold)."""
    try:
        return moment.astimezone(UTC)
    except (OverflowError, ValueError):
        return None


MAX_ID = 2**31 - 1
"""Ids are 32-bit integers in the store; larger ones are refused before they reach it."""


def parse_range(
    date_from: str | None, date_to: str | None
) -> tuple[datetime | None, datetime | None]:
    start = parse_moment(date_from, name="from")
    stop = parse_moment(date_to, name="to", end=True)
    if start is not None and stop is not None and start >= stop:
        raise BadRequestError(f"'from' ({date_from}) must be before 'to' ({date_to})")
    return start, stop


def check_stage(journey: Journey, stage: str | None) -> str | None:
    if stage is None or stage == UNASSIGNED or journey.get(stage) is not None:
        return stage
    known = ", ".join([*journey.keys, UNASSIGNED])
    raise BadRequestError(f"unknown stage {stage!r}; the journey's stages are: {known}")


def check_source(session: Session, source: str | None) -> None:
    """An unknown source is a 404 naming the known ones, not a story of zeros."""
    if source is None:
        return
    known = list(session.exec(select(Source.id).order_by(Source.id)).all())
    if source not in known:
        raise NotFoundError(f"no source {source!r}; the sources are: {', '.join(known) or 'none'}")


def check_channel(session: Session, channel: str | None) -> None:
    if channel is None:
        return
    known = sorted(set(session.exec(select(Source.channel)).all()))
    if channel not in known:
        raise NotFoundError(
            f"no channel {channel!r}; the sources' channels are: {', '.join(known) or 'none'}"
        )


ATTR_PREFIX = "attr."
MAX_ATTR_FILTERS = 10


def parse_attrs(params: Iterable[tuple[str, str]]) -> dict[str, tuple[str, ...]]:
    """`attr.NAME=VALUE` query parameters: names AND-ed, repeated values of one name
    OR-ed (`attr.plan=fibre&attr.plan=copper&attr.region=north`)."""
    found: dict[str, list[str]] = {}
    for key, value in params:
        if not key.startswith(ATTR_PREFIX):
            continue
        name = key[len(ATTR_PREFIX) :]
        if not name or len(name) > 64 or not all(ch.isalnum() or ch in "_- " for ch in name):
            raise BadRequestError(
                f"{key!r}: attribute names are letters, digits, '_', '-' or spaces "
                "(e.g. attr.touchpoint=First%20bill)"
            )
        if len(value) > 200:
            raise BadRequestError(f"{key!r}: a value may be at most 200 characters")
        found.setdefault(name, []).append(value)
    if len(found) > MAX_ATTR_FILTERS:
        raise BadRequestError(f"at most {MAX_ATTR_FILTERS} attribute filters at once")
    return {name: tuple(values) for name, values in found.items()}


def attr_filters(request: Request) -> dict[str, tuple[str, ...]]:
    """A route's `attr.NAME=VALUE` filters, as a dependency (a route that has it is
    one that takes them: the unknown-parameter guard lets them through)."""
    return parse_attrs(request.query_params.multi_items())


AttrsDep = Annotated[dict[str, tuple[str, ...]], Depends(attr_filters)]
