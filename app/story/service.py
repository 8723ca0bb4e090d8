"""The stage-by-stage story, from the read model (daily rollups and voice facts).

A voice counts once for every stage any of its sentences speaks of (see
`app.readmodel.facts`). Numbers are whole: voices, customers, promoters,
detractors; NPS, CSAT and CES are given with the counts behind them.

Periods are whole UTC days: the rollups are daily. A datetime bound is taken to
its day (`from`: the day it falls in; `to`: up to the end of the day it falls in,
or exactly to a midnight), and echoed as asked.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from statistics import median

from sqlmodel import Session

from app.models import ITEM_LEVEL
from app.readmodel.facts import theme_key
from app.story import repository
from app.story.repository import Slice
from app.story.schemas import (
    Ces,
    Change,
    Comparison,
    Csat,
    Nps,
    Phrase,
    Quote,
    RatingSummary,
    SentimentMix,
    StageStory,
    Story,
)
from nlp.journey import Journey

TOP_PHRASES = 8
QUOTE_SAMPLE = 51


def whole(value: float) -> int:
    """Half away from zero, as people round ("41.5%" is 42, "-41.5" is -42)."""
    return int(math.copysign(math.floor(abs(value) + 0.5), value))


def nps_of(m: Mapping[str, int]) -> Nps | None:
    answers = m.get("nps_answers", 0)
    if not answers:
        return None
    promoters, detractors = m.get("promoters", 0), m.get("detractors", 0)
    return Nps(
        answers=answers,
        promoters=promoters,
        passives=m.get("passives", 0),
        detractors=detractors,
        score=whole(100 * (promoters - detractors) / answers),
    )


def csat_of(m: Mapping[str, int]) -> Csat | None:
    answers = m.get("csat_answers", 0)
    if not answers:
        return None
    satisfied = m.get("csat_satisfied", 0)
    return Csat(answers=answers, satisfied=satisfied, score=whole(100 * satisfied / answers))


def ces_of(m: Mapping[str, int]) -> Ces | None:
    answers = m.get("ces_answers", 0)
    if not answers:
        return None
    return Ces(answers=answers, mean=round(m.get("ces_milli", 0) / 1000 / answers, 2))


def mix_of(m: Mapping[str, int]) -> SentimentMix:
    voices = m.get("voices", 0)
    return SentimentMix(
        mean=round(m.get("sentiment_milli", 0) / 1000 / voices, 3) if voices else None,
        negative=m.get("negative", 0),
        neutral=m.get("neutral", 0),
        positive=m.get("positive", 0),
    )


def _sum(counters: Iterable[Counter[str]]) -> Counter[str]:
    total: Counter[str] = Counter()
    for counter in counters:
        total.update(counter)
    return total


@dataclass(frozen=True, slots=True)
class Period:
    """Whole UTC days [day_from, day_to), and the bounds as the caller wrote them."""

    day_from: date | None
    day_to: date | None
    asked_from: str | None = None
    asked_to: str | None = None

    @classmethod
    def of(
        cls,
        start: datetime | None,
        stop: datetime | None,
        *,
        asked_from: str | None = None,
        asked_to: str | None = None,
    ) -> Period:
        day_from = start.astimezone(UTC).date() if start is not None else None
        day_to = None
        if stop is not None:
            moment = stop.astimezone(UTC)
            day_to = moment.date() if moment.time() == time.min else _next(moment.date())
        return cls(day_from, day_to, asked_from, asked_to)

    def before(self, how: str) -> Period:
        """The comparison period: the same length just before, or a year earlier."""
        assert self.day_from is not None
        assert self.day_to is not None
        if how == "year":
            start, stop = _year_back(self.day_from), _year_back(self.day_to)
        else:
            length = self.day_to - self.day_from
            start, stop = self.day_from - length, self.day_from
        return Period(start, stop, start.isoformat(), (stop - timedelta(days=1)).isoformat())


def _next(day: date) -> date | None:
    return None if day == date.max else day + timedelta(days=1)


def _year_back(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


@dataclass(frozen=True, slots=True)
class _Numbers:
    """The whole numbers one period gives for a stage (or the whole story)."""

    metrics: Counter[str]
    customers: int | None


def _numbers(
    journey: Journey, numbers: repository.RollupReader | repository.FactReader
) -> tuple[_Numbers, dict[str, _Numbers], dict[str, dict[str, Counter[str]]], Counter[str]]:
    by_stage = numbers.stage_metrics()
    items = numbers.item_metrics()
    known = numbers.customers()
    total = _sum(items.values())
    top = _Numbers(total, known.get(ITEM_LEVEL) or None)
    stages = {
        stage.key: _Numbers(
            _sum(by_stage.get(stage.key, {}).values()), known.get(stage.key) or None
        )
        for stage in journey.stages
    }
    channels = Counter({channel: m["voices"] for channel, m in items.items()})
    return top, stages, by_stage, channels


def _comparison(now: _Numbers, before: _Numbers, period: Period) -> Comparison:
    def change(a: int | None, b: int | None) -> Change:
        return Change(before=b, change=None if a is None or b is None else a - b)

    def metric(name: str) -> Change:
        return change(now.metrics.get(name, 0), before.metrics.get(name, 0))

    now_nps, before_nps = nps_of(now.metrics), nps_of(before.metrics)
    return Comparison(
        date_from=period.asked_from or "",
        date_to=period.asked_to or "",
        voices=metric("voices"),
        customers=change(now.customers, before.customers),
        negative=metric("negative"),
        neutral=metric("neutral"),
        positive=metric("positive"),
        nps_answers=metric("nps_answers"),
        promoters=metric("promoters"),
        detractors=metric("detractors"),
        nps_score=change(
            now_nps.score if now_nps else None, before_nps.score if before_nps else None
        ),
    )


def build_story(
    session: Session,
    *,
    journey: Journey,
    date_from: datetime | None,
    date_to: datetime | None,
    source: str | None = None,
    channel: str | None = None,
    compare: str | None = None,
    attrs: Mapping[str, Sequence[str]] | None = None,
    asked_from: str | None = None,
    asked_to: str | None = None,
) -> Story:
    period = Period.of(date_from, date_to, asked_from=asked_from, asked_to=asked_to)
    slice_ = Slice(period.day_from, period.day_to, source, channel)
    conn = session.connection()
    numbers = repository.reader(conn, slice_, attrs)
    top, stages, by_stage, channels = _numbers(journey, numbers)
    before: tuple[_Numbers, dict[str, _Numbers]] | None = None
    before_period: Period | None = None
    if compare is not None:
        before_period = period.before(compare)
        earlier = replace(slice_, day_from=before_period.day_from, day_to=before_period.day_to)
        b_top, b_stages, _, _ = _numbers(journey, repository.reader(conn, earlier, attrs))
        before = (b_top, b_stages)
    rated = numbers.ratings()
    themes = numbers.themes()
    stage_stories = []
    for order, stage in enumerate(journey.stages):
        figures = stages[stage.key]
        m = figures.metrics
        stage_stories.append(
            StageStory(
                key=stage.key,
                name=stage.name,
                description=stage.description,
                order=order,
                voices=m.get("voices", 0),
                customers=figures.customers,
                sentiment=mix_of(m),
                ratings=[
                    RatingSummary(
                        scale=scale, answers=answers, mean=round(total / 1000 / answers, 2)
                    )
                    for scale, (answers, total) in sorted(rated.get(stage.key, {}).items())
                    if answers
                ],
                nps=nps_of(m),
                csat=csat_of(m),
                ces=ces_of(m),
                channels={c: v["voices"] for c, v in sorted(by_stage.get(stage.key, {}).items())},
                top_phrases=_phrases(themes.get(stage.key, {}), m.get("voices", 0)),
                quotes=_quotes(session, slice_, stage.key, m, attrs),
                compare=_comparison(figures, before[1][stage.key], before_period)
                if before is not None and before_period is not None
                else None,
            )
        )
    return Story(
        date_from=asked_from,
        date_to=asked_to,
        voices=top.metrics.get("voices", 0),
        customers=top.customers,
        nps=nps_of(top.metrics),
        csat=csat_of(top.metrics),
        ces=ces_of(top.metrics),
        channels=dict(sorted(channels.items())),
        stages=stage_stories,
        unassigned=top.metrics.get("unassigned", 0),
        compare=_comparison(top, before[0], before_period)
        if before is not None and before_period is not None
        else None,
    )


def _phrases(forms: Mapping[str, Counter[str]], stage_voices: int) -> list[Phrase]:
    """Themes that differ only by inflection are one entry, shown in the form most
    voices used; each voice says a theme once (`app.readmodel.facts`), so counts add."""
    groups: dict[str, dict[str, Counter[str]]] = {}
    for form, counts in forms.items():
        groups.setdefault(theme_key(form), {})[form] = counts
    merged: list[tuple[str, Counter[str]]] = []
    for variants in groups.values():
        shown = min(variants, key=lambda f: (-variants[f]["voices"], len(f), f))
        merged.append((shown, _sum(variants.values())))
    merged.sort(key=lambda kv: (-kv[1]["voices"], kv[0]))
    return [
        Phrase(phrase=phrase, count=counts["voices"], sentiment=mix_of(counts))
        for phrase, counts in merged
        if counts["voices"] > 1 or stage_voices < 10
    ][:TOP_PHRASES]


def _quotes(
    session: Session,
    slice_: Slice,
    stage: str,
    m: Mapping[str, int],
    attrs: Mapping[str, Sequence[str]] | None,
) -> list[Quote]:
    """The most *typical* voice of each polarity present, not the most extreme: from
    a fixed sample of the stage's quotable voices of that polarity, the sentence
    nearest the sample's median score."""
    labels = sorted(
        (label for label in ("negative", "neutral", "positive") if m.get(label, 0)),
        key=lambda label: (-m.get(label, 0), label),
    )
    quotes: list[Quote] = []
    conn = session.connection()
    for label in labels[:3]:
        sample = repository.quote_candidates(
            conn, slice_, stage=stage, label=label, limit=QUOTE_SAMPLE, attrs=attrs
        )
        if not sample:
            continue
        middle = median(row.quote_score for row in sample)
        best = min(sample, key=lambda row: (abs(row.quote_score - middle), row.quote_key))
        quotes.append(
            Quote(
                item_id=best.item_id,
                text=best.quote,
                sentiment=label,
                score=best.quote_score,
                channel=best.channel,
            )
        )
    return quotes
