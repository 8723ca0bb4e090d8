"""What a page shows, built from the story service's domain objects only
(`build_story`, `build_stage_page`), so every number on a page is the API's number
for the same parameters. Besides those the pages read the items service (a quote's
day, the newest item's day) and the sources service (the filter's choices).

The journey strip's sparklines are each stage's page for the twelve weeks ending on
the period's last day (or the anchor day, when the period is open or ends later),
summed by week: `GET /api/v1/stages/{key}?from=..&to=..` gives the same days.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from markupsafe import Markup
from sqlmodel import Session, col, select

from app.errors import BadRequestError
from app.models import Item
from app.outcomes.pages import OutcomesBand, outcomes_band
from app.sources.service import list_sources
from app.story.domain import Quote, SentimentMix, StagePage, StageStory, Story
from app.story.service import Period, build_stage_page, build_story, whole
from app.web.alerts import AlertRow, open_alerts
from app.web.charts import DayBar, WeekBar, channel_bars, daily_chart, sparkline
from app.web.periods import PageQuery, Preset, presets, utc_day
from nlp.journey import Journey

SPARK_WEEKS = 12
WEEKLY_AFTER_DAYS = 180
"""A daily chart of more days than this is drawn per week (bars stay readable)."""


@dataclass(frozen=True, slots=True)
class Tone:
    """A stage's feeling in one word and a colour class: net = (positive - negative) / voices."""

    key: str
    label: str

    @classmethod
    def of(cls, mix: SentimentMix, voices: int) -> Tone:
        if not voices:
            return cls("quiet", "no voices")
        net = (mix.positive - mix.negative) / voices
        if net <= -0.4:
            return cls("neg2", "mostly negative")
        if net <= -0.15:
            return cls("neg1", "leaning negative")
        if net < 0.15:
            return cls("mixed", "mixed")
        if net < 0.4:
            return cls("pos1", "leaning positive")
        return cls("pos2", "mostly positive")


def share(part: int, total: int) -> int:
    return whole(100 * part / total) if total else 0


@dataclass(frozen=True, slots=True)
class Choices:
    """What the filter form offers: the sources (id, name) and their channels."""

    sources: list[tuple[str, str]]
    channels: list[str]


def choices(session: Session) -> Choices:
    rows = list_sources(session)
    return Choices(
        sources=[(row.id, row.name) for row in rows],
        channels=sorted({row.channel for row in rows}),
    )


@dataclass(frozen=True, slots=True)
class StageCard:
    stage: StageStory
    tone: Tone
    weeks: list[WeekBar]
    spark: Markup


@dataclass(frozen=True, slots=True)
class Frame:
    """What every page has around its numbers."""

    query: PageQuery
    anchor: date
    presets: list[Preset]
    choices: Choices
    alerts: Sequence[AlertRow]
    compare: bool


@dataclass(frozen=True, slots=True)
class JourneyView:
    frame: Frame
    story: Story
    cards: list[StageCard]
    weeks_from: date
    weeks_to: date
    outcomes: OutcomesBand | None = None


@dataclass(frozen=True, slots=True)
class QuoteView:
    quote: Quote
    day: date | None
    item_url: str


@dataclass(frozen=True, slots=True)
class StageView:
    frame: Frame
    page: StagePage
    tone: Tone
    bars: list[DayBar]
    per_week: bool
    chart: Markup
    channels_chart: Markup
    quotes: list[QuoteView]
    more_quotes: list[QuoteView]
    stages: list[tuple[str, str]]  # the journey's (key, name), for the stage menu


def _frame(session: Session, query: PageQuery, anchor: date, *, stage: str | None = None) -> Frame:
    return Frame(
        query=query,
        anchor=anchor,
        presets=presets(query, anchor),
        choices=choices(session),
        alerts=open_alerts(session, stage=stage),
        compare=compare_with(query) is not None,
    )


def _period(query: PageQuery) -> Period:
    return Period.of(query.start, query.stop)


def compare_with(query: PageQuery) -> str | None:
    """ "previous" when the period has a period before it that a date can hold (not
    one starting in year 1, nor one running to the end of 9999): the story service's
    `Period.before` refuses those, so the page shows them without the change."""
    period = _period(query)
    if period.day_from is None or period.day_to is None:
        return None
    try:
        period.before("previous")
    except BadRequestError:  # the calendar has no period before this one
        return None
    return "previous"


def spark_window(query: PageQuery, anchor: date) -> tuple[date, date]:
    """The twelve weeks (first and last day) the sparklines show."""
    day_to = _period(query).day_to
    last = anchor if day_to is None else min(day_to - timedelta(days=1), anchor)
    span = timedelta(days=7 * SPARK_WEEKS - 1)
    first = last - span if last - date.min >= span else date.min
    return first, last


def build_journey_view(
    session: Session,
    *,
    journey: Journey,
    query: PageQuery,
    anchor: date,
    driver_min_answers: int,
) -> JourneyView:
    story = build_story(
        session,
        journey=journey,
        date_from=query.start,
        date_to=query.stop,
        source=query.source,
        channel=query.channel,
        compare=compare_with(query),
        attrs=query.attrs,
        asked_from=query.api_from,
        asked_to=query.api_to,
        driver_min_answers=driver_min_answers,
    )
    first, last = spark_window(query, anchor)
    window = query.with_period(first.isoformat(), last.isoformat())
    cards = []
    for stage in story.stages:
        page = build_stage_page(
            session,
            journey=journey,
            key=stage.key,
            date_from=window.start,
            date_to=window.stop,
            source=query.source,
            channel=query.channel,
            attrs=query.attrs,
            asked_from=window.api_from,
            asked_to=window.api_to,
            driver_min_answers=driver_min_answers,
        )
        weeks = _weeks(page, first, last)
        cards.append(
            StageCard(stage, Tone.of(stage.sentiment, stage.voices), weeks, sparkline(weeks))
        )
    period = Period.of(query.start, query.stop)
    band = outcomes_band(
        session.connection(),
        journey,
        day_from=period.day_from,
        day_to=period.day_to,
        anchor=anchor,
    )
    return JourneyView(_frame(session, query, anchor), story, cards, first, last, band)


def _weeks(page: StagePage, first: date, last: date) -> list[WeekBar]:
    count = (last - first).days // 7 + 1
    voices, negative = [0] * count, [0] * count
    for day in page.daily:
        i = (date.fromisoformat(day.day) - first).days // 7
        if 0 <= i < count:
            voices[i] += day.voices
            negative[i] += day.negative
    return [
        WeekBar(
            start=first + timedelta(days=7 * i),
            end=min(first + timedelta(days=7 * i + 6), last),
            voices=voices[i],
            negative=negative[i],
        )
        for i in range(count)
    ]


def build_stage_view(
    session: Session,
    *,
    journey: Journey,
    key: str,
    query: PageQuery,
    anchor: date,
    driver_min_answers: int,
) -> StageView:
    page = build_stage_page(
        session,
        journey=journey,
        key=key,
        date_from=query.start,
        date_to=query.stop,
        source=query.source,
        channel=query.channel,
        compare=compare_with(query),
        attrs=query.attrs,
        asked_from=query.api_from,
        asked_to=query.api_to,
        driver_min_answers=driver_min_answers,
    )
    bars, per_week = _bars(page, _period(query), anchor)
    said = said_on(session, [*page.quotes, *page.more_quotes])
    return StageView(
        frame=_frame(session, query, anchor, stage=key),
        page=page,
        tone=Tone.of(page.sentiment, page.voices),
        bars=bars,
        per_week=per_week,
        chart=daily_chart(bars),
        channels_chart=channel_bars(page.channels),
        quotes=_quotes(page.quotes, said),
        more_quotes=_quotes(page.more_quotes, said),
        stages=[(s.key, s.name) for s in journey.stages],
    )


def _bars(page: StagePage, period: Period, anchor: date) -> tuple[list[DayBar], bool]:
    """Every day of the period (days without voices as zeros), per week past
    `WEEKLY_AFTER_DAYS`. An open bound is the first (last) day with voices; the chart
    never runs past the anchor day or the last voice into the future, nor spends
    bars on years of silence before the first voice."""
    seen = {date.fromisoformat(d.day): d for d in page.daily}
    data_first, data_last = (min(seen), max(seen)) if seen else (anchor, anchor)
    first = period.day_from or data_first
    last = period.day_to - timedelta(days=1) if period.day_to is not None else data_last
    last = min(last, max(anchor, data_last))
    if (last - first).days > 3 * 366:
        first = max(first, data_first)
    if last < first:
        return [], False
    span = (last - first).days + 1
    step = 7 if span > WEEKLY_AFTER_DAYS else 1
    buckets: list[DayBar] = []
    for start in range(0, span, step):
        day = first + timedelta(days=start)
        days = [seen[d] for d in (day + timedelta(days=k) for k in range(step)) if d in seen]
        buckets.append(
            DayBar(
                day=day,
                negative=sum(d.negative for d in days),
                neutral=sum(d.neutral for d in days),
                positive=sum(d.positive for d in days),
            )
        )
    return buckets, step == 7


def said_on(session: Session, quotes: Sequence[Quote]) -> dict[int, date]:
    """The day each quoted item was said, in one read (the story's quote carries no
    day); an item erased since is not in it."""
    ids = sorted({q.item_id for q in quotes})
    if not ids:
        return {}
    found = session.exec(select(Item.id, Item.occurred_at).where(col(Item.id).in_(ids)))
    return {int(item_id): utc_day(when) for item_id, when in found if item_id is not None}


def _quotes(quotes: Sequence[Quote], said: dict[int, date]) -> list[QuoteView]:
    return [QuoteView(q, said.get(q.item_id), f"/api/v1/items/{q.item_id}") for q in quotes]
