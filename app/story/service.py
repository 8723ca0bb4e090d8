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
from dataclasses import dataclass, fields, replace
from datetime import UTC, date, datetime, time, timedelta
from statistics import median

from sqlmodel import Session

from app.errors import BadRequestError
from app.models import ITEM_LEVEL
from app.readmodel.facts import shown_form, theme_key
from app.story import repository
from app.story.domain import (
    Ces,
    Change,
    Comparison,
    Csat,
    DayFigures,
    Driver,
    Expressions,
    Nps,
    Phrase,
    Quote,
    RatingSummary,
    SentimentMix,
    StagePage,
    StageStory,
    Story,
)
from app.story.repository import Slice
from nlp.journey import Journey

TOP_PHRASES = 8
QUOTE_SAMPLE = 51
DRIVER_MIN_ANSWERS = 20


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


def expressions_from(m: Mapping[str, int]) -> Expressions:
    return Expressions(
        favourites=m.get("favourites", 0), boosts=m.get("boosts", 0), replies=m.get("replies", 0)
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
        """The comparison period: the same length just before, or a year earlier.

        Raises `BadRequestError` where the calendar has no such period (a period
        from year 1, or one running to its last day)."""
        if self.day_from is None or self.day_to is None:
            raise BadRequestError("'compare' needs a period that ends before 9999-12-31")
        try:
            if how == "year":
                start, stop = _year_back(self.day_from), _year_back(self.day_to)
            elif self.day_from.day == 1 and self.day_to.day == 1:  # whole calendar months
                months = (self.day_to.year - self.day_from.year) * 12 + (
                    self.day_to.month - self.day_from.month
                )
                start, stop = _months_back(self.day_from, months), self.day_from
            else:
                length = self.day_to - self.day_from
                start, stop = self.day_from - length, self.day_from
            shown_stop = stop - timedelta(days=1)
        except (OverflowError, ValueError) as exc:
            raise BadRequestError(
                "'compare' needs a period with one before it in the calendar "
                f"(from {self.day_from.isoformat()} there is none)"
            ) from exc
        return Period(start, stop, start.isoformat(), shown_stop.isoformat())


def _next(day: date) -> date | None:
    return None if day == date.max else day + timedelta(days=1)


def _months_back(day: date, months: int) -> date:
    """The first of the month `months` before `day` (itself a first of the month)."""
    index = day.year * 12 + day.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


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
    driver_min_answers: int = DRIVER_MIN_ANSWERS,
) -> Story:
    return _story(
        session,
        journey=journey,
        period=Period.of(date_from, date_to, asked_from=asked_from, asked_to=asked_to),
        source=source,
        channel=channel,
        compare=compare,
        attrs=attrs,
        driver_min_answers=driver_min_answers,
    )[0]


@dataclass(frozen=True, slots=True)
class _Told:
    """A story and what it was told from, for a page that says more about one stage."""

    story: Story
    numbers: repository.RollupReader | repository.FactReader
    more_quotes: list[Quote]  # the page stage's further typical voices


QUOTES_PER_PAGE = 3


def _story(
    session: Session,
    *,
    journey: Journey,
    period: Period,
    source: str | None,
    channel: str | None,
    compare: str | None,
    attrs: Mapping[str, Sequence[str]] | None,
    driver_min_answers: int,
    page_stage: str | None = None,
) -> tuple[Story, _Told | None]:
    """The story; with `page_stage`, also what its stage page needs (the readers are
    built and the quotes sampled once, not again by the page)."""
    asked_from, asked_to = period.asked_from, period.asked_to
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
    ranked = rank_phrases(numbers.themes())
    overall = nps_of(top.metrics)
    page_groups: list[list[Quote]] = []
    if page_stage is not None:  # sampled once: the story's quote, then the page's others
        page_groups = _quote_groups(
            session, slice_, page_stage, stages[page_stage].metrics, attrs, QUOTES_PER_PAGE
        )
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
                expressions=expressions_from(m),
                top_phrases=_phrases(ranked.get(stage.key, []), m.get("voices", 0)),
                drivers=_drivers(m, ranked.get(stage.key, []), overall, driver_min_answers),
                quotes=[group[0] for group in page_groups]
                if stage.key == page_stage
                else _quotes(session, slice_, stage.key, m, attrs),
                compare=_comparison(figures, before[1][stage.key], before_period)
                if before is not None and before_period is not None
                else None,
            )
        )
    story = Story(
        date_from=asked_from,
        date_to=asked_to,
        voices=top.metrics.get("voices", 0),
        customers=top.customers,
        nps=nps_of(top.metrics),
        csat=csat_of(top.metrics),
        ces=ces_of(top.metrics),
        channels=dict(sorted(channels.items())),
        expressions=expressions_from(top.metrics),
        stages=stage_stories,
        unassigned=top.metrics.get("unassigned", 0),
        compare=_comparison(top, before[0], before_period)
        if before is not None and before_period is not None
        else None,
    )
    told = None
    if page_stage is not None:
        shown = {group[0].text for group in page_groups}
        more = [q for group in page_groups for q in group[1:] if q.text not in shown]
        told = _Told(story, numbers, more)
    return story, told


def _merge_forms(forms: Mapping[str, Counter[str]]) -> dict[str, tuple[str, Counter[str]]]:
    """Themes that differ only by inflection are one entry, shown in the form most
    voices used; each voice says a theme once (`app.readmodel.facts`), so counts add."""
    groups: dict[str, dict[str, Counter[str]]] = {}
    for form, counts in forms.items():
        groups.setdefault(theme_key(form), {})[form] = counts
    merged: dict[str, tuple[str, Counter[str]]] = {}
    for key, variants in groups.items():
        shown = shown_form({form: counts["voices"] for form, counts in variants.items()})
        merged[key] = (shown, _sum(variants.values()))
    return merged


def rank_phrases(
    by_stage: Mapping[str, Mapping[str, Counter[str]]],
) -> dict[str, list[tuple[str, Counter[str]]]]:
    """Each stage's phrases, most distinctive first: class-based TF-IDF over the
    stages (as BERTopic weighs words per topic), so a word every stage repeats (the
    brand, "service") leads none of them. tf = the phrase's voices in the stage over
    all phrase voices there; idf = log(1 + mean phrase voices per stage / the
    phrase's voices in every stage). With four or more stages talking, a phrase of
    more than half of them is left out altogether."""
    merged = {stage: _merge_forms(forms) for stage, forms in by_stage.items()}
    everywhere: Counter[str] = Counter()
    totals: dict[str, int] = {}
    for stage, phrases in merged.items():
        totals[stage] = sum(c["voices"] for _, c in phrases.values())
        for key, (_, counts) in phrases.items():
            everywhere[key] += counts["voices"]
    present = [t for t in totals.values() if t]
    average = sum(present) / len(present) if present else 0.0
    spread: Counter[str] = Counter(key for phrases in merged.values() for key in phrases)
    talking = sum(1 for phrases in merged.values() if phrases)
    ranked: dict[str, list[tuple[str, Counter[str]]]] = {}
    for stage, phrases in merged.items():
        if talking >= 4:
            # Said in more than half of the stages (the brand, "service"): a word of
            # the whole journey, telling a reader nothing about any one stage.
            phrases = {k: v for k, v in phrases.items() if spread[k] * 2 <= talking}
        total = totals[stage] or 1

        def weight(
            key: str, total: int = total, phrases: dict[str, tuple[str, Counter[str]]] = phrases
        ) -> float:
            voices = phrases[key][1]["voices"]
            return (voices / total) * math.log(1 + average / max(everywhere[key], 1))

        order = sorted(phrases, key=lambda k: (-weight(k), -phrases[k][1]["voices"], phrases[k][0]))
        ranked[stage] = [phrases[k] for k in order]
    return ranked


def _phrases(ranked: list[tuple[str, Counter[str]]], stage_voices: int) -> list[Phrase]:
    return [
        Phrase(phrase=phrase, count=counts["voices"], sentiment=mix_of(counts))
        for phrase, counts in ranked
        if counts["voices"] > 1 or stage_voices < 10
    ][:TOP_PHRASES]


def _drivers(
    stage_metrics: Mapping[str, int],
    ranked: list[tuple[str, Counter[str]]],
    overall: Nps | None,
    min_answers: int,
) -> list[Driver]:
    """The stage's NPS, then each top phrase's, against all voices' NPS in the period;
    nothing below `min_answers` NPS answers (a figure from a handful is noise)."""
    if overall is None or overall.score is None:
        return []
    drivers: list[Driver] = []
    stage_nps = nps_of(stage_metrics)
    if stage_nps is not None and stage_nps.score is not None and stage_nps.answers >= min_answers:
        drivers.append(
            Driver(
                phrase=None,
                answers=stage_nps.answers,
                nps=stage_nps.score,
                overall=overall.score,
                impact=stage_nps.score - overall.score,
            )
        )
    for phrase, counts in ranked[:TOP_PHRASES]:
        answers = counts["nps_answers"]
        if answers < min_answers:
            continue
        score = whole(100 * (counts["promoters"] - counts["detractors"]) / answers)
        drivers.append(
            Driver(
                phrase=phrase,
                answers=answers,
                nps=score,
                overall=overall.score,
                impact=score - overall.score,
            )
        )
    return drivers


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
    return [group[0] for group in _quote_groups(session, slice_, stage, m, attrs, 1)]


def _quote_groups(
    session: Session,
    slice_: Slice,
    stage: str,
    m: Mapping[str, int],
    attrs: Mapping[str, Sequence[str]] | None,
    per_label: int,
) -> list[list[Quote]]:
    """Per polarity present (the commonest first), up to `per_label` distinct
    sentences, nearest the sample's median first."""
    labels = sorted(
        (label for label in ("negative", "neutral", "positive") if m.get(label, 0)),
        key=lambda label: (-m.get(label, 0), label),
    )
    groups: list[list[Quote]] = []
    conn = session.connection()
    for label in labels[:3]:
        sample = repository.quote_candidates(
            conn, slice_, stage=stage, label=label, limit=QUOTE_SAMPLE, attrs=attrs
        )
        if not sample:
            continue
        middle = median(row.quote_score for row in sample)
        nearest = sorted(sample, key=lambda row: (abs(row.quote_score - middle), row.quote_key))
        group: list[Quote] = []
        for row in nearest:
            if len(group) == per_label:
                break
            if all(q.text != row.quote for q in group):
                group.append(
                    Quote(
                        item_id=row.item_id,
                        text=row.quote,
                        sentiment=label,
                        score=row.quote_score,
                        channel=row.channel,
                    )
                )
        groups.append(group)
    return groups


def build_stage_page(
    session: Session,
    *,
    journey: Journey,
    key: str,
    date_from: datetime | None,
    date_to: datetime | None,
    source: str | None = None,
    channel: str | None = None,
    compare: str | None = None,
    attrs: Mapping[str, Sequence[str]] | None = None,
    asked_from: str | None = None,
    asked_to: str | None = None,
    driver_min_answers: int = DRIVER_MIN_ANSWERS,
) -> StagePage:
    """One stage: the story's figures for it, its days, more quotes, and a summary."""
    period = Period.of(date_from, date_to, asked_from=asked_from, asked_to=asked_to)
    _, told = _story(
        session,
        journey=journey,
        period=period,
        source=source,
        channel=channel,
        compare=compare,
        attrs=attrs,
        driver_min_answers=driver_min_answers,
        page_stage=key,
    )
    assert told is not None
    figures = next(stage for stage in told.story.stages if stage.key == key)
    days = told.numbers.stage_days(key)
    more = told.more_quotes
    return StagePage(
        **{f.name: getattr(figures, f.name) for f in fields(figures)},
        date_from=asked_from,
        date_to=asked_to,
        summary=summarise(figures, period),
        daily=[
            DayFigures(
                day=day.isoformat(),
                voices=c["voices"],
                negative=c["negative"],
                neutral=c["neutral"],
                positive=c["positive"],
                nps_answers=c["nps_answers"],
                promoters=c["promoters"],
                detractors=c["detractors"],
            )
            for day, c in days.items()
        ],
        more_quotes=more,
    )


def _period_words(period: Period) -> str:
    start, stop = period.day_from, period.day_to
    if start is None and stop is None:
        return "so far"
    if start is not None and stop is not None:
        last = stop - timedelta(days=1)
        if (
            start.day == 1
            and last.month == start.month
            and last.year == start.year
            and (stop.day == 1)
        ):
            return f"in {start:%B %Y}"
        if start == last:
            return f"on {start.day} {start:%B %Y}"
        if start.year == last.year:
            return f"from {start.day} {start:%b} to {last.day} {last:%b %Y}"
        return f"from {start.day} {start:%b %Y} to {last.day} {last:%b %Y}"
    if start is not None:
        return f"since {start.day} {start:%B %Y}"
    assert stop is not None
    last = stop - timedelta(days=1)
    return f"up to {last.day} {last:%B %Y}"


def _share(part: int, whole_: int) -> int:
    return whole(100 * part / whole_) if whole_ else 0


def summarise(stage: StageStory, period: Period) -> str:
    """The stage's figures in a paragraph a leader reads in ten seconds, written by a
    fixed template from the numbers (no model, no service: the same numbers give the
    same words)."""
    when = _period_words(period)
    if not stage.voices:
        return f"{stage.name}: no one spoke of this stage {when}."
    who, count, compared = (
        ("customers", stage.customers, "customers")
        if stage.customers is not None
        else ("voices", stage.voices, "voices")
    )
    verb = "spoke up" if who == "customers" else "were heard"
    text = f"{stage.name}: {count:,} {who} {verb} {when}"
    mix = stage.sentiment
    negative = _share(mix.negative, stage.voices)
    if stage.compare is not None:
        change = getattr(stage.compare, compared).change
        before_voices = stage.compare.voices.before or 0
        if change is not None:
            earlier = (
                _period_words(
                    Period(
                        date.fromisoformat(stage.compare.date_from),
                        date.fromisoformat(stage.compare.date_to) + timedelta(days=1),
                    )
                )
                .replace("from ", "between ", 1)
                .replace(" to ", " and ", 1)
            )
            if change:
                more = "more" if change > 0 else "fewer"
                text += f", {abs(change):,} {more} than {earlier}"
            else:
                text += f", as many as {earlier}"
        before_negative = stage.compare.negative.before or 0
        text += f"; {negative}% negative"
        if before_voices:
            text += f" ({_share(before_negative, before_voices)}% before)"
    else:
        text += f"; {negative}% negative, {_share(mix.positive, stage.voices)}% positive"
    text += "."
    if stage.nps is not None and stage.nps.score is not None:
        text += f" NPS {stage.nps.score:+d} from {stage.nps.answers:,} answers."
    said = [f"{p.phrase} ({p.count:,})" for p in stage.top_phrases[:3]]
    if said:
        text += f" Most said: {', '.join(said)}."
    return text
