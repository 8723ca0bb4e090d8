"""How a trained classifier's `doc.cats` meet the rules' evidence.

`listening-path nlp train` adds a `textcat` pipe to a saved pipeline; this module is
the one place that reads its probabilities into `StageDecision` / `Sentiment`, so the
rules (`nlp.stages`, `nlp.sentiment`) and a team's own model meet in one spot.

The model does not replace the rules, it is blended with them: a classifier trained
on ten tweets a stage is worse than the journey's rules alone, one trained on
thousands is better, and the two make different mistakes. Per class the model was
trained on (the team's labels name the stages its texts are decided among),

    rules(c) = their share of the evidence * (1 - exp(-total evidence))
               + exp(-total evidence) * model(c)
    blend(c) = w * model(c) + (1 - w) * rules(c)

so the rules' own doubt (little or no evidence) is handed to the model, and `w`
says how far the model is trusted where the rules do have evidence. Sentiment reads
the rule score the same way: |score| of the mass on the rule's label, the rest on
the model. `w` is stored in the model's `meta.json` at training time: fitted on the
held-out dev rows of the team's own data when there are enough of them, else
`few_label_weight(n)` from the number of labels per class (`nlp.training.textcat`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from spacy.language import Language
from spacy.tokens import Doc

from nlp.enrichment import Sentiment, SentimentLabel, StageDecision

STAGE_MODEL_PIPE = "lp_textcat_stage"
"""A trained `textcat` (labels: stage keys) added by `listening-path nlp train`."""
SENTIMENT_MODEL_PIPE = "lp_textcat_sentiment"
"""A trained `textcat` (labels: negative / neutral / positive)."""

META_KEY = "listening_path"
"""Where `nlp train` records what it trained, in the pipeline's `meta.json`."""

FEW_LABEL_PRIOR = 10.0
FEW_LABEL_CAP = 0.5
"""`few_label_weight(n) = min(n / (n + FEW_LABEL_PRIOR), FEW_LABEL_CAP)`: the model's
weight when no dev rows were held out to fit it. Chosen on halves of the airline tune
split (`bench/nlp_blend.py`, stage, mean of 3 draws; rules alone 0.492 macro-F1,
the classifier alone 0.414 / 0.437 / 0.482 at K = 10 / 20 / 50 a class): the blend at
w = 0 / 0.3 / 0.5 / 0.7 / 1 scores, K = 10: 0.551 / 0.551 / 0.552 / 0.527 / 0.434;
K = 20: 0.550 / 0.554 / 0.553 / 0.524 / 0.437; K = 50: 0.564 / 0.564 / 0.570 / 0.537 /
0.482; all 2,719 rows (before the blend kept to the model's labels): 0.564 / 0.588 /
0.607 / 0.601 / 0.587. The best weight stays near 0.5 from ten labels a class to
thousands, hence the cap; fewer labels than ten trust the model less."""

_SENTIMENT_LABELS: tuple[SentimentLabel, ...] = ("negative", "neutral", "positive")


def few_label_weight(per_class: float) -> float:
    """The model's blend weight for `per_class` labels per class (no dev rows)."""
    if per_class <= 0:
        return 0.0
    return min(per_class / (per_class + FEW_LABEL_PRIOR), FEW_LABEL_CAP)


def blend_weight(nlp: Language, pipe: str) -> float:
    """The weight `nlp train` stored for `pipe`; 1.0 (the model alone, as before blends
    existed) for a pipe with no record of how it was trained."""
    info = nlp.meta.get(META_KEY, {}).get("textcat", {}).get(pipe)
    if not isinstance(info, Mapping):
        return 1.0
    weight = info.get("blend_weight")
    if isinstance(weight, int | float) and 0.0 <= weight <= 1.0:
        return float(weight)
    per_class = info.get("per_class_min")
    if isinstance(per_class, int | float):
        return few_label_weight(float(per_class))
    return 1.0


def rule_stage_shares(scores: Mapping[str, float]) -> tuple[dict[str, float], float]:
    """The rules' evidence as (confidence per stage, the mass they leave open)."""
    total = sum(scores.values())
    if total <= 0:
        return {}, 1.0
    sure = 1.0 - math.exp(-total)
    return {stage: sure * score / total for stage, score in scores.items()}, 1.0 - sure


def blend_stage_probs(
    cats: Mapping[str, float], keys: frozenset[str], scores: Mapping[str, float], weight: float
) -> dict[str, float]:
    """Blended stage probabilities (see the module docstring); empty without a model."""
    probs = {k: float(p) for k, p in cats.items() if k in keys}
    if not probs:
        return {}
    # The stages the team labelled are the ones this text is decided among: the rules'
    # evidence for a stage the model was never given labels for is left out.
    shares, open_mass = rule_stage_shares({k: v for k, v in scores.items() if k in probs})
    rule_w = 1.0 - weight
    return {
        stage: weight * p + rule_w * (shares.get(stage, 0.0) + open_mass * p)
        for stage, p in probs.items()
    }


def model_stage(
    doc: Doc,
    keys: frozenset[str],
    threshold: float,
    scores: Mapping[str, float] | None = None,
    weight: float = 1.0,
    evidence: Mapping[str, Any] | None = None,
) -> StageDecision | None:
    """The blended call of the trained stage classifier and the rules' evidence
    (`scores`: stage -> evidence score of the item), if its top probability reaches
    the stage threshold; None leaves the rules' decision in place."""
    blended = blend_stage_probs(doc.cats, keys, scores or {}, weight)
    if not blended:
        return None
    label = max(sorted(blended), key=blended.__getitem__)
    p = blended[label]
    if p < threshold:
        return None
    words: tuple[str, ...] = ()
    method = "model"
    if scores and scores.get(label, 0.0) > 0 and weight < 1.0:
        method = "model+rules"
        words = tuple((evidence or {}).get(label, ()))
    return StageDecision(label, round(p, 4), method, (f"model:{STAGE_MODEL_PIPE}", *words))


def blend_sentiment_probs(
    cats: Mapping[str, float], rule_score: float | None, rule_label: str | None, weight: float
) -> dict[str, float] | None:
    """Blended sentiment probabilities; None without all three classes from the model."""
    probs: dict[str, float] = {
        label: float(cats[label]) for label in _SENTIMENT_LABELS if label in cats
    }
    if len(probs) != len(_SENTIMENT_LABELS):
        return None
    if rule_score is None or rule_label is None or weight >= 1.0:
        return probs
    sure = min(1.0, abs(rule_score))
    rule_w = 1.0 - weight
    return {
        label: weight * p + rule_w * ((sure if label == rule_label else 0.0) + (1.0 - sure) * p)
        for label, p in probs.items()
    }


def model_sentiment(
    doc: Doc,
    rule: Sentiment | None = None,
    weight: float = 1.0,
) -> Sentiment | None:
    """The blended sentiment call: argmax label, score p(pos) - p(neg)."""
    probs = blend_sentiment_probs(
        doc.cats,
        rule.score if rule is not None else None,
        rule.label if rule is not None else None,
        weight,
    )
    if probs is None:
        return None
    score = round(max(-1.0, min(1.0, probs["positive"] - probs["negative"])), 4)
    label: SentimentLabel = max(_SENTIMENT_LABELS, key=probs.__getitem__)
    if (label == "positive" and score <= 0) or (label == "negative" and score >= 0):
        label = "neutral"
    return Sentiment(score, label)
