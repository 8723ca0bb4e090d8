"""The contract between the NLP pipeline and the rest of Listening Path.

`app/ingest` hands text (and an optional stage hint) to an `Enricher` and stores
what comes back. These frozen dataclasses are that contract: the store's columns
mirror them, so a field renamed here is a migration there. Keep them plain data
(no spaCy objects) so they cross process and thread boundaries freely.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

SentimentLabel = Literal["negative", "neutral", "positive"]

UNASSIGNED = "unassigned"
"""Stage key for text with no evidence of any journey stage. Never forced."""


@dataclass(frozen=True, slots=True)
class Sentiment:
    """Polarity in [-1, 1] and the label it falls under."""

    score: float
    label: SentimentLabel


@dataclass(frozen=True, slots=True)
class StageDecision:
    """Where in the journey a piece of text sits, and why we think so.

    `stage` is a key of the configured journey or `UNASSIGNED`. `method` names
    what decided it ("hint", "phrase", "pattern", "model", "none", ...) and
    `evidence` the words or rules that did, so an analyst can audit any call.
    """

    stage: str
    confidence: float
    method: str
    evidence: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SegmentEnrichment:
    """One sentence (or sentence group) of an item, with its own stage and sentiment.

    `start`/`end` are character offsets into `Enrichment.text` (the redacted text).
    `themes` are the item's themes that this segment's own words say.
    """

    index: int
    start: int
    end: int
    text: str
    sentiment: Sentiment
    stage: StageDecision
    themes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Enrichment:
    """Everything the pipeline says about one item.

    `text` is the item's text after PII redaction: the only form ever stored.
    `redactions` counts what was removed, by kind ("email", "phone", "card", ...).
    `themes` are the key phrases of the item (lower-case, lemmatised where possible).
    """

    text: str
    sentiment: Sentiment
    stage: StageDecision
    segments: tuple[SegmentEnrichment, ...]
    themes: tuple[str, ...] = ()
    redactions: dict[str, int] = field(default_factory=dict)
    nlp_version: str = ""


@dataclass(frozen=True, slots=True)
class EnrichRequest:
    """One text to enrich. `stage_hint` is a journey stage key given by the source
    (a survey question, a call reason, a ticket category mapped in config); when it
    is a known key it wins for the item, and for any sentence without evidence of
    its own."""

    text: str
    stage_hint: str | None = None


class Enricher(Protocol):
    """What `app` needs from the NLP side. `nlp.pipeline.build_enricher` returns one."""

    @property
    def version(self) -> str:
        """Identifies pipeline + journey + model; stored with every item."""
        ...

    def enrich(self, text: str, *, stage_hint: str | None = None) -> Enrichment: ...

    def enrich_many(
        self, requests: Iterable[EnrichRequest], *, batch_size: int = 256
    ) -> Iterator[Enrichment]:
        """Yields one `Enrichment` per request, in order (uses `nlp.pipe`)."""
        ...


__all__: Sequence[str] = (
    "UNASSIGNED",
    "EnrichRequest",
    "Enricher",
    "Enrichment",
    "SegmentEnrichment",
    "Sentiment",
    "SentimentLabel",
    "StageDecision",
)
