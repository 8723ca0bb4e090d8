"""From a stored item and its segments to voices: one fact per (item, stage).

A voice counts once for every stage any of its sentences speaks of, so "setup
was easy but the invoice was wrong" is one onboarding voice (positive) and one
billing voice (negative). Its score in a stage is the mean of its sentences
there, its label the commonest label among them (a tie goes to the strongest
sentence). A source hint that places the whole item in a stage no sentence
names adds a voice there with the item's own sentiment.

Pure functions of stored rows, so ingest (incrementally) and `rollups rebuild`
(from scratch) cannot disagree.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from statistics import fmean
from typing import Any

from nlp.enrichment import UNASSIGNED
from nlp.lemma import light_lemma

QUOTE_MIN_CHARS = 25
QUOTE_MAX_CHARS = 320


@dataclass(frozen=True, slots=True)
class ItemRecord:
    """What the read model needs of a stored item (a row of `items`)."""

    id: int
    source_id: str
    channel: str
    occurred_at: datetime
    customer: str | None
    rating: float | None
    rating_scale: str | None
    attributes: Mapping[str, Any]
    stage: str
    score: float
    label: str
    themes: Sequence[str]
    day: date  # the UTC day of `occurred_at`: the rollups' day

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> ItemRecord:
        """`id` 0 for a row not stored yet (its facts' rows then name no item)."""
        return cls(
            id=int(row.get("id") or 0),
            source_id=row["source_id"],
            channel=row["channel"],
            occurred_at=row["occurred_at"],
            customer=row["author_ref"],
            rating=row["rating"],
            rating_scale=row["rating_scale"],
            attributes=row["attributes"] or {},
            stage=row["stage"],
            score=float(row["sentiment_score"]),
            label=row["sentiment_label"],
            themes=list(row["themes"] or []),
            day=row["occurred_at"].astimezone(UTC).date(),
        )


@dataclass(frozen=True, slots=True)
class SentenceRecord:
    """What the read model needs of a stored segment."""

    stage: str
    score: float
    label: str
    text: str
    own_evidence: bool  # the sentence names the stage itself (not only the source's hint)
    themes: tuple[str, ...] = ()  # the themes the NLP found in this sentence

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> SentenceRecord:
        return cls(
            stage=row["stage"],
            score=float(row["sentiment_score"]),
            label=row["sentiment_label"],
            text=row["text"],
            own_evidence=row["stage_method"] != "hint",
            themes=tuple(row.get("themes") or ()),
        )


@dataclass(frozen=True, slots=True)
class Fact:
    item: ItemRecord
    stage: str
    score: float
    label: str
    themes: tuple[str, ...]
    quote: str | None
    quote_score: float | None

    @property
    def day(self) -> date:
        return self.item.day

    def row(self) -> dict[str, Any]:
        item = self.item
        return {
            "item_id": item.id or None,
            "stage": self.stage,
            "day": self.day,
            "source_id": item.source_id,
            "channel": item.channel,
            "customer": item.customer,
            "label": self.label,
            "score": self.score,
            "rating": item.rating,
            "rating_scale": item.rating_scale,
            "themes": list(self.themes),
            "attributes": item.attributes,
            "quote": self.quote,
            "quote_score": self.quote_score,
            "quote_key": quote_key(item.id, self.stage) if item.id else None,
        }


def quote_key(item_id: int, stage: str) -> int:
    """A fixed pseudo-random order of voices: the story samples quotes in it, so a
    sample is the same on every request and after every rebuild."""
    digest = hashlib.sha256(f"{item_id}:{stage}".encode()).digest()
    return int.from_bytes(digest[:4], "big") >> 1


def voice_label(scores: Sequence[float], labels: Sequence[str]) -> str:
    counts = Counter(labels).most_common()
    if len(counts) == 1 or counts[0][1] > counts[1][1]:
        return counts[0][0]
    return max(zip(scores, labels, strict=True), key=lambda sl: abs(sl[0]))[1]


def theme_in(theme: str, text: str) -> bool:
    """A theme belongs to a stage when its words appear in that stage's sentences
    (first five letters, so lemmatised themes still match inflected text)."""
    lowered = text.lower()
    return all(word[:5] in lowered for word in theme.lower().split())


def theme_key(theme: str) -> str:
    """Themes that differ only by inflection ("double charge", "double charged") are
    one theme to a reader: they share this key."""
    return " ".join(light_lemma(word) for word in theme.split())


def shown_form(forms: Mapping[str, int]) -> str:
    """The form a theme key is shown in: the one most voices used (then the shortest)."""
    return min(forms, key=lambda f: (-forms[f], len(f), f))


def _one_form_each(themes: Iterable[str]) -> tuple[str, ...]:
    """A voice says a theme once, in the first form it used ("double charged" and
    "double charge" in one answer are one theme said once)."""
    kept: dict[str, str] = {}
    for theme in themes:
        kept.setdefault(theme_key(theme), theme)
    return tuple(kept.values())


def quotable(text: str) -> bool:
    """A quote a reader can take in alone: a whole sentence, not a clause fragment."""
    return QUOTE_MIN_CHARS <= len(text) <= QUOTE_MAX_CHARS and text[:1].isupper()


def _quote(sentences: Sequence[SentenceRecord], label: str, score: float) -> SentenceRecord | None:
    """The voice's sentence to quote in this stage: quotable, of the voice's polarity,
    naming the stage itself where one does, nearest the voice's score."""
    pool = [s for s in sentences if quotable(s.text)]
    own = [s for s in pool if s.own_evidence]
    pool = own or pool
    same = [s for s in pool if s.label == label]
    pool = same or pool
    if not pool:
        return None
    return min(pool, key=lambda s: abs(s.score - score))


def facts_for(item: ItemRecord, sentences: Sequence[SentenceRecord]) -> list[Fact]:
    # Items enriched before the NLP gave themes per sentence have none on their
    # segments: their item themes are matched to a stage's sentences by their words
    # (`reenrich` brings them up to date).
    legacy = bool(item.themes) and not any(s.themes for s in sentences)
    by_stage: dict[str, list[SentenceRecord]] = {}
    for sentence in sentences:
        by_stage.setdefault(sentence.stage, []).append(sentence)
    facts: list[Fact] = []
    for stage, said in by_stage.items():
        scores = [s.score for s in said]
        labels = [s.label for s in said]
        score = fmean(scores)
        label = voice_label(scores, labels)
        if legacy:
            text = " ".join(s.text for s in said)
            themes = _one_form_each(t for t in item.themes if theme_in(t, text))
        else:
            themes = _one_form_each(t for s in said for t in s.themes)
        quote = _quote(said, label, score)
        facts.append(
            Fact(
                item=item,
                stage=stage,
                score=score,
                label=label,
                themes=themes if stage != UNASSIGNED else (),
                quote=quote.text if quote is not None else None,
                quote_score=quote.score if quote is not None else None,
            )
        )
    if item.stage != UNASSIGNED and item.stage not in by_stage:
        facts.append(Fact(item, item.stage, item.score, item.label, (), None, None))
    return facts
