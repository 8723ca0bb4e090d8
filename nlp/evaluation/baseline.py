"""The bare VADER baseline: compound score, +-0.05 band, the way the issue measured it."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from nlp.enrichment import (
    UNASSIGNED,
    Enrichment,
    EnrichRequest,
    SegmentEnrichment,
    Sentiment,
    SentimentLabel,
    StageDecision,
)

VADER_COMPOUND_BAND = 0.05


def vader_label(compound: float) -> SentimentLabel:
    if compound >= VADER_COMPOUND_BAND:
        return "positive"
    if compound <= -VADER_COMPOUND_BAND:
        return "negative"
    return "neutral"


@dataclass(frozen=True, slots=True)
class BaselinePredictions:
    labels: tuple[SentimentLabel, ...]
    scores: tuple[float, ...]
    seconds: float
    """Wall clock of scoring alone (the analyzer is built before the clock starts)."""


def vader_baseline(texts: Sequence[str]) -> BaselinePredictions:
    analyzer = SentimentIntensityAnalyzer()
    start = time.perf_counter()
    scores = tuple(float(analyzer.polarity_scores(text)["compound"]) for text in texts)
    seconds = time.perf_counter() - start
    return BaselinePredictions(tuple(vader_label(s) for s in scores), scores, seconds)


class VaderEnricher:
    """The bare baseline behind the `Enricher` protocol: VADER compound for the item, one
    segment spanning the text, no stage (`unassigned`). For sanity runs of the harness
    (`bench/nlp_eval.py --enricher vader` must reproduce the VADER baseline column)."""

    def __init__(self) -> None:
        self._analyzer = SentimentIntensityAnalyzer()

    @property
    def version(self) -> str:
        return "vader-baseline"

    def enrich(self, text: str, *, stage_hint: str | None = None) -> Enrichment:
        compound = float(self._analyzer.polarity_scores(text)["compound"])
        sentiment = Sentiment(compound, vader_label(compound))
        stage = (
            StageDecision(stage_hint, 1.0, "hint")
            if stage_hint
            else StageDecision(UNASSIGNED, 0.0, "none")
        )
        segment = SegmentEnrichment(0, 0, len(text), text, sentiment, stage)
        return Enrichment(text=text, sentiment=sentiment, stage=stage, segments=(segment,))

    def enrich_many(
        self,
        requests: Iterable[EnrichRequest],
        *,
        batch_size: int = 256,  # noqa: ARG002 - one text at a time
    ) -> Iterator[Enrichment]:
        for request in requests:
            yield self.enrich(request.text, stage_hint=request.stage_hint)
