from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Response
from sqlmodel import Session

from app.alerts.schemas import AlertPublic
from app.alerts.service import open_alerts
from app.deps import JourneyDep, SessionDep, SettingsDep
from app.errors import BadRequestError, NotFoundError
from app.outcomes.pages import OutcomesBand, outcomes_band
from app.outcomes.present import asset_part, stage_outcome
from app.params import AttrsDep, check_channel, check_source, parse_range
from app.readmodel.answers import Answers, age_headers, of_the_story
from app.readmodel.shared import BYTES
from app.settings import Settings
from app.story import service
from app.story.schemas import StagePage, Story
from nlp.journey import Journey

router = APIRouter(prefix="/api/v1", tags=["story"])

FromQ = Annotated[str | None, Query(alias="from", description="date or datetime")]
ToQ = Annotated[str | None, Query(alias="to", description="date (inclusive) or datetime")]
CompareQ = Annotated[
    Literal["previous", "year"] | None,
    Query(description="also give every whole number for the period before, or a year earlier"),
]
ATTR_DOC = (
    "Filter on item attributes with `attr.NAME=VALUE` (repeatable: names are AND-ed, "
    "repeated values of one name OR-ed), e.g. `attr.touchpoint=First%20bill`. Periods are "
    "whole UTC days."
)


def _checked(
    session: SessionDep,
    date_from: str | None,
    date_to: str | None,
    source: str | None,
    channel: str | None,
    compare: str | None,
) -> tuple[datetime | None, datetime | None]:
    start, stop = parse_range(date_from, date_to)
    if compare is not None and (start is None or stop is None):
        raise BadRequestError("'compare' needs both 'from' and 'to' (a period to compare with)")
    check_source(session, source)
    check_channel(session, channel)
    return start, stop


@router.get(
    "/story",
    response_model=Story,
    response_model_by_alias=True,
    summary="The stage-by-stage story of the customer journey",
    description=ATTR_DOC,
)
def get_story(
    attrs: AttrsDep,
    session: SessionDep,
    journey: JourneyDep,
    settings: SettingsDep,
    date_from: FromQ = None,
    date_to: ToQ = None,
    source: str | None = None,
    channel: str | None = None,
    compare: CompareQ = None,
) -> Response:
    start, stop = _checked(session, date_from, date_to, source, channel, compare)
    asked = (date_from, date_to, source, channel, compare, tuple(sorted(attrs.items())))

    def make() -> bytes:
        story = service.build_story(
            session,
            journey=journey,
            date_from=start,
            date_to=stop,
            source=source,
            channel=channel,
            compare=compare,
            attrs=attrs,
            asked_from=date_from,
            asked_to=date_to,
            driver_min_answers=settings.driver_min_answers,
        )
        out = Story.model_validate(story, from_attributes=True)
        band = _outcomes(session, journey, start, stop)
        if band is not None:
            out.asset = asset_part(band.asset)
            shown = {s.key: s for s in band.said_did.stages}
            for stage in out.stages:
                stage.outcome = stage_outcome(shown[stage.key]) if stage.key in shown else None
        out.alerts = [AlertPublic.of(a) for a in open_alerts(session)]
        return out.model_dump_json(by_alias=True).encode()

    return _answer(session, journey, settings, ("story", *asked), make)


def _outcomes(
    session: SessionDep, journey: JourneyDep, start: datetime | None, stop: datetime | None
) -> OutcomesBand | None:
    """The story period's outcomes, as the leadership page shows them (none imported: None)."""
    period = service.Period.of(start, stop)
    return outcomes_band(
        session.connection(),
        journey,
        day_from=period.day_from,
        day_to=period.day_to,
        anchor=datetime.now(UTC).date(),
    )


@router.get(
    "/stages/{key}",
    response_model=StagePage,
    response_model_by_alias=True,
    summary="One stage: its figures, days, channel mix, drivers, quotes and a summary",
    description=ATTR_DOC,
)
def get_stage(
    attrs: AttrsDep,
    session: SessionDep,
    journey: JourneyDep,
    settings: SettingsDep,
    key: Annotated[str, Path(max_length=40)],
    date_from: FromQ = None,
    date_to: ToQ = None,
    source: str | None = None,
    channel: str | None = None,
    compare: CompareQ = None,
) -> Response:
    if journey.get(key) is None:
        raise NotFoundError(
            f"no stage {key!r}; the journey's stages are: {', '.join(journey.keys)}"
        )
    start, stop = _checked(session, date_from, date_to, source, channel, compare)
    asked = (key, date_from, date_to, source, channel, compare, tuple(sorted(attrs.items())))

    def make() -> bytes:
        page = service.build_stage_page(
            session,
            journey=journey,
            key=key,
            date_from=start,
            date_to=stop,
            source=source,
            channel=channel,
            compare=compare,
            attrs=attrs,
            asked_from=date_from,
            asked_to=date_to,
            driver_min_answers=settings.driver_min_answers,
        )
        out = StagePage.model_validate(page, from_attributes=True)
        band = _outcomes(session, journey, start, stop)
        if band is not None:
            found = next((s for s in band.said_did.stages if s.key == key), None)
            out.outcome = stage_outcome(found) if found is not None else None
        out.alerts = [AlertPublic.of(a) for a in open_alerts(session, stage=key)]
        return out.model_dump_json(by_alias=True).encode()

    return _answer(session, journey, settings, ("stage", *asked), make)


ANSWERS: Answers[bytes] = Answers(kept=64)


def _answer(
    session: Session,
    journey: Journey,
    settings: Settings,
    asked: tuple[object, ...],
    make: Callable[[], bytes],
) -> Response:
    """The answer as JSON, made once per state of what it is counted from
    (`app.readmodel.answers`): a request that finds it made costs one small read."""
    kept = of_the_story(
        ANSWERS,
        session.connection(),
        (journey, settings.driver_min_answers, *asked),
        make,
        stale_for=settings.answer_stale_seconds,
        codec=BYTES,
    )
    return Response(kept.value, media_type="application/json", headers=age_headers(kept))
