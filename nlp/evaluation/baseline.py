"""The bare VADER baseline: compound score, +-0.05 band, the way the issue measured it."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from nlp.enrichment import SentimentLabel

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
