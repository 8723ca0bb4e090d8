"""Building the stage-by-stage story from segments.

A voice counts once for every stage any of its sentences speaks of, so "setup
was easy but the invoice was wrong" is one onboarding voice (positive) and one
billing voice (negative). Its sentiment in a stage is the mean of its sentences
in that stage. Numbers are whole: customers, not percentages.

This reads segments for the period directly; per-day rollups (so the story never
scans every item) are the next step, tracked in the story issue.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from statistics import fmean, median

from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from app.models import Item, Segment
from app.scales import Scales
from app.story.schemas import Phrase, Quote, RatingSummary, SentimentMix, StageStory, Story
from nlp.enrichment import UNASSIGNED
from nlp.journey import Journey
from nlp.lemma import light_lemma

TOP_PHRASES = 8
QUOTE_MIN_CHARS = 25
QUOTE_MAX_CHARS = 320


@dataclass
class _Voice:
    item_id: int
    channel: str
    customer: str | None
    rating: float | None
    rating_scale: str | None
    themes: list[str]
    scores: list[float] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    # segment id, text, score, label, whether the sentence has evidence of its own (not a hint)
    texts: list[tuple[int, str, float, str, bool]] = field(default_factory=list)

    @property
    def score(self) -> float:
        return fmean(self.scores)

    @property
    def label(self) -> str:
        """The voice's polarity in this stage, in the pipeline's own labels: the most
        common label of its sentences here; a tie goes to the strongest sentence."""
        counts = Counter(self.labels).most_common()
        if len(counts) == 1 or counts[0][1] > counts[1][1]:
            return counts[0][0]
        return max(zip(self.scores, self.labels, strict=True), key=lambda sl: abs(sl[0]))[1]


def _theme_in(theme: str, text: str) -> bool:
    """A theme belongs to a stage when its words appear in that stage's sentences
    (first five letters, so lemmatised themes still match inflected text)."""
    lowered = text.lower()
    return all(word[:5] in lowered for word in theme.lower().split())


def _theme_key(theme: str) -> str:
    """Themes that differ only by inflection ("double charge", "double charged") are
    one theme to a reader: they share this key."""
    return " ".join(light_lemma(word) for word in theme.split())


def _group_phrases(said_by: dict[str, list[_Voice]]) -> list[tuple[str, list[_Voice]]]:
    """Merge themes with one key: each voice counts once, and the group shows the form
    most voices used (ties: the shorter, then alphabetical)."""
    groups: dict[str, dict[str, list[_Voice]]] = defaultdict(dict)
    for theme, voices in said_by.items():
        groups[_theme_key(theme)][theme] = voices
    merged: list[tuple[str, list[_Voice]]] = []
    for forms in groups.values():
        shown = min(forms, key=lambda form: (-len(forms[form]), len(form), form))
        seen: dict[int, _Voice] = {}
        for voices in forms.values():
            for voice in voices:
                seen.setdefault(voice.item_id, voice)
        merged.append((shown, list(seen.values())))
    return merged


def build_story(
    session: Session,
    *,
    journey: Journey,
    date_from: datetime | None,
    date_to: datetime | None,
    source: str | None = None,
    channel: str | None = None,
) -> Story:
    query = sa_select(
        col(Segment.id),
        col(Segment.item_id),
        col(Segment.stage),
        col(Segment.sentiment_score),
        col(Segment.text),
        col(Item.channel),
        col(Item.author_ref),
        col(Item.rating),
        col(Item.rating_scale),
        col(Item.themes),
        col(Item.stage),
        col(Item.sentiment_score),
        col(Segment.stage_method),
        col(Segment.sentiment_label),
        col(Item.sentiment_label),
    ).join(Item, col(Item.id) == col(Segment.item_id))
    if date_from is not None:
        query = query.where(col(Segment.occurred_at) >= date_from)
    if date_to is not None:
        query = query.where(col(Segment.occurred_at) < date_to)
    if source is not None:
        query = query.where(col(Segment.source_id) == source)
    if channel is not None:
        query = query.where(col(Item.channel) == channel)

    by_stage: dict[str, dict[int, _Voice]] = defaultdict(dict)
    all_items: set[int] = set()
    all_customers: set[str] = set()
    item_level: dict[int, tuple[str, float, str, _Voice]] = {}
    rows = session.execute(query)
    for row in rows:
        (seg_id, item_id, stage, score, text, chan, customer, rating, scale, themes) = row[:10]
        item_stage, item_score, method, label, item_label = row[10:]
        all_items.add(item_id)
        if customer:
            all_customers.add(customer)
        voice = by_stage[stage].get(item_id)
        if voice is None:
            voice = _Voice(item_id, chan, customer, rating, scale, list(themes or []))
            by_stage[stage][item_id] = voice
        voice.scores.append(score)
        voice.labels.append(label)
        voice.texts.append((seg_id, text, score, label, method != "hint"))
        if item_id not in item_level:
            item_level[item_id] = (item_stage, item_score, item_label, voice)
    # A source hint (a call reason, a survey question) places the whole item even when
    # no single sentence names that stage: the item counts there with its own sentiment.
    for item_id, (item_stage, item_score, item_label, seen) in item_level.items():
        if item_stage != UNASSIGNED and item_id not in by_stage[item_stage]:
            by_stage[item_stage][item_id] = _Voice(
                item_id,
                seen.channel,
                seen.customer,
                seen.rating,
                seen.rating_scale,
                [],
                scores=[item_score],
                labels=[item_label],
            )

    placed: set[int] = set()
    for stage_key, voices in by_stage.items():
        if stage_key != UNASSIGNED:
            placed.update(voices)
    stages = [
        _stage_story(order, stage.key, stage.name, stage.description, by_stage.get(stage.key, {}))
        for order, stage in enumerate(journey.stages)
    ]
    return Story(
        date_from=date_from,
        date_to=date_to,
        voices=len(all_items),
        customers=len(all_customers),
        stages=stages,
        unassigned=len(all_items - placed),
    )


def _mix(voices: list[_Voice]) -> SentimentMix:
    labels = Counter(v.label for v in voices)
    return SentimentMix(
        mean=round(fmean(v.score for v in voices), 3) if voices else None,
        negative=labels["negative"],
        neutral=labels["neutral"],
        positive=labels["positive"],
    )


def _stage_story(
    order: int, key: str, name: str, description: str, voices: dict[int, _Voice]
) -> StageStory:
    ratings: dict[str, list[float]] = defaultdict(list)
    phrases: dict[str, list[_Voice]] = defaultdict(list)
    for voice in voices.values():
        if (
            voice.rating is not None
            and voice.rating_scale
            and _countable(voice.rating, voice.rating_scale)
        ):
            ratings[voice.rating_scale].append(voice.rating)
        stage_text = " ".join(text for _, text, *_ in voice.texts)
        for theme in set(voice.themes):
            if _theme_in(theme, stage_text):
                phrases[theme].append(voice)
    return StageStory(
        key=key,
        name=name,
        description=description,
        order=order,
        voices=len(voices),
        customers=len({v.customer for v in voices.values() if v.customer}),
        sentiment=_mix(list(voices.values())),
        ratings=[
            RatingSummary(scale=scale, answers=len(values), mean=round(fmean(values), 2))
            for scale, values in sorted(ratings.items())
        ],
        top_phrases=[
            Phrase(phrase=phrase, count=len(said), sentiment=_mix(said))
            for phrase, said in sorted(_group_phrases(phrases), key=lambda kv: (-len(kv[1]), kv[0]))
            if len(said) > 1 or len(voices) < 10
        ][:TOP_PHRASES],
        quotes=_quotes(voices),
    )


_BUILTIN = Scales()
MAX_RATING_MAGNITUDE = 1e12


def _countable(rating: float, scale: str) -> bool:
    """Ingest refuses scores outside their scale; rows stored before it did must not
    break the sums (two NPS answers of 1e308 overflowed `fmean` into a 500)."""
    if _BUILTIN.get(scale) is not None:
        return _BUILTIN.admits(rating, scale)
    return math.isfinite(rating) and abs(rating) <= MAX_RATING_MAGNITUDE


def _quotable(text: str) -> bool:
    """A quote a reader can take in alone: a whole sentence, not a clause fragment."""
    return QUOTE_MIN_CHARS <= len(text) <= QUOTE_MAX_CHARS and text[:1].isupper()


def _quotes(voices: dict[int, _Voice]) -> list[Quote]:
    """The most *typical* voice of each polarity present, not the most extreme:
    the sentence whose score is nearest the median of its polarity group, taken
    from sentences that name the stage themselves when there are any."""
    groups: dict[str, list[tuple[int, int, str, float, str]]] = defaultdict(list)
    candidates = [
        (voice, seg_id, text, score, label, own)
        for voice in voices.values()
        for seg_id, text, score, label, own in voice.texts
        if _quotable(text)
    ]
    if any(own for *_, own in candidates):
        candidates = [c for c in candidates if c[5]]
    for voice, seg_id, text, score, label, _ in candidates:
        groups[label].append((voice.item_id, seg_id, text, score, voice.channel))
    quotes: list[Quote] = []
    ranked = sorted(groups, key=lambda label: (-len(groups[label]), label))
    for label in ranked[:3]:
        group = groups[label]
        middle = median(score for *_, score, _ in group)
        item_id, _, text, score, chan = min(group, key=lambda g: (abs(g[3] - middle), g[1]))
        quotes.append(Quote(item_id=item_id, text=text, sentiment=label, score=score, channel=chan))
    return quotes
