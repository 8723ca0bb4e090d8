"""How a trained classifier's `doc.cats` become stage and sentiment decisions.

`listening-path nlp train` adds a `textcat` pipe to a saved pipeline; this module is
the one place that reads its probabilities into `StageDecision` / `Sentiment`, so the
rules (`nlp.stages`, `nlp.sentiment`) and a team's own model meet in one spot.
"""

from __future__ import annotations

from spacy.tokens import Doc

from nlp.enrichment import Sentiment, SentimentLabel, StageDecision

STAGE_MODEL_PIPE = "lp_textcat_stage"
"""A trained `textcat` (labels: stage keys) added by `listening-path nlp train`."""
SENTIMENT_MODEL_PIPE = "lp_textcat_sentiment"
"""A trained `textcat` (labels: negative / neutral / positive)."""

_SENTIMENT_LABELS: tuple[SentimentLabel, ...] = ("negative", "neutral", "positive")


def model_stage(doc: Doc, keys: frozenset[str], threshold: float) -> StageDecision | None:
    """The trained stage classifier's call for the whole item, if its top probability
    reaches the stage threshold."""
    probs = {k: p for k, p in doc.cats.items() if k in keys}
    if not probs:
        return None
    label = max(probs, key=probs.__getitem__)
    p = float(probs[label])
    if p < threshold:
        return None
    return StageDecision(label, round(p, 4), "model", (f"model:{STAGE_MODEL_PIPE}",))


def model_sentiment(doc: Doc) -> Sentiment | None:
    """The trained sentiment classifier's call: argmax label, score p(pos) - p(neg)."""
    cats = doc.cats
    probs = {label: float(cats[label]) for label in _SENTIMENT_LABELS if label in cats}
    if len(probs) != len(_SENTIMENT_LABELS):
        return None
    score = round(probs["positive"] - probs["negative"], 4)
    label: SentimentLabel = max(_SENTIMENT_LABELS, key=probs.__getitem__)
    if (label == "positive" and score <= 0) or (label == "negative" and score >= 0):
        label = "neutral"
    return Sentiment(score, label)
