"""Run an `Enricher` over labelled examples and score it.

Only `Enricher.enrich_many` is timed (wall clock), so items per second measure the
enrichment alone, not file reading or scoring. No stage hint is ever passed: the
pipeline must find the stage from the text.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from nlp.enrichment import UNASSIGNED, Enricher, Enrichment, EnrichRequest
from nlp.evaluation.datasets import SENTIMENT_LABELS, Example
from nlp.evaluation.metrics import ClassificationReport, classification_report

Task = Literal["sentiment", "stage", "both"]


@dataclass(frozen=True, slots=True)
class TaskResult:
    task: Literal["sentiment", "stage"]
    report: ClassificationReport
    strict_accuracy: float | None = None
    """Binary gold only: accuracy when every predicted `neutral` counts wrong."""
    note: str = ""


@dataclass(frozen=True, slots=True)
class EvalResult:
    dataset: str
    split: str
    n_examples: int
    seconds: float
    items_per_second: float
    stage_coverage_all: float
    """Share of all enriched examples (labelled or not) with a stage."""
    sentiment: TaskResult | None
    stage: TaskResult | None
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Predictions:
    enrichments: tuple[Enrichment, ...]
    seconds: float


def enrich_timed(enricher: Enricher, texts: Sequence[str], *, batch_size: int = 256) -> Predictions:
    """Enrich `texts` in order; `seconds` is the wall-clock time of the enrichment alone."""
    requests = [EnrichRequest(text=text) for text in texts]
    start = time.perf_counter()
    enrichments = tuple(enricher.enrich_many(requests, batch_size=batch_size))
    seconds = time.perf_counter() - start
    if len(enrichments) != len(texts):
        raise RuntimeError(f"enricher returned {len(enrichments)} results for {len(texts)} texts")
    return Predictions(enrichments, seconds)


def resolve_binary(label: str, score: float) -> str:
    """A predicted `neutral` against binary gold takes the side of its score's sign."""
    if label != "neutral":
        return label
    return "positive" if score >= 0 else "negative"


def score_sentiment(
    gold: Sequence[str],
    labels: Sequence[str],
    scores: Sequence[float],
    *,
    binary: bool = False,
) -> TaskResult:
    """Score sentiment predictions; binary gold resolves predicted neutrals by sign."""
    if not binary:
        return TaskResult("sentiment", classification_report(gold, labels, labels=SENTIMENT_LABELS))
    resolved = [resolve_binary(label, score) for label, score in zip(labels, scores, strict=True)]
    report = classification_report(gold, resolved, labels=("negative", "positive"))
    strict = sum(g == p for g, p in zip(gold, labels, strict=True)) / len(gold) if gold else 0.0
    return TaskResult(
        "sentiment",
        report,
        strict_accuracy=strict,
        note="binary gold: a predicted neutral counts as positive if its score >= 0, else negative",
    )


def score_stage(
    gold: Sequence[str], predicted: Sequence[str], *, stage_order: Sequence[str] = ()
) -> TaskResult:
    """Macro-F1 over the gold stages present, ordered as in the journey."""
    present = set(gold)
    order = [key for key in stage_order if key in present]
    order += sorted(present - set(order))
    return TaskResult(
        "stage", classification_report(gold, predicted, labels=order, order=stage_order)
    )


def evaluate(
    enricher: Enricher,
    examples: Sequence[Example],
    *,
    dataset: str,
    split: str,
    task: Task = "both",
    binary_sentiment: bool = False,
    stage_order: Sequence[str] = (),
    batch_size: int = 256,
    progress: Callable[[str], None] | None = None,
) -> EvalResult:
    """Enrich every example that has a gold label for `task`, once, and score it."""
    want_sentiment = task in ("sentiment", "both")
    want_stage = task in ("stage", "both")
    used = [
        ex
        for ex in examples
        if (want_sentiment and ex.sentiment is not None) or (want_stage and ex.stage is not None)
    ]
    notes: list[str] = []
    if want_sentiment and not any(ex.sentiment is not None for ex in examples):
        notes.append(f"{dataset}: no sentiment labels in this split")
    if want_stage and not any(ex.stage is not None for ex in examples):
        notes.append(f"{dataset}: no stage labels in this split")
    if progress is not None:
        progress(f"enriching {len(used)} examples")
    predictions = enrich_timed(enricher, [ex.text for ex in used], batch_size=batch_size)
    pairs = list(zip(used, predictions.enrichments, strict=True))

    sentiment_result = None
    sentiment_pairs = [(ex, en) for ex, en in pairs if ex.sentiment is not None]
    if want_sentiment and sentiment_pairs:
        sentiment_result = score_sentiment(
            [str(ex.sentiment) for ex, _ in sentiment_pairs],
            [en.sentiment.label for _, en in sentiment_pairs],
            [en.sentiment.score for _, en in sentiment_pairs],
            binary=binary_sentiment,
        )

    stage_result = None
    stage_pairs = [(ex, en) for ex, en in pairs if ex.stage is not None]
    if want_stage and stage_pairs:
        known = set(stage_order)
        unknown = sorted({str(ex.stage) for ex, _ in stage_pairs} - known) if known else []
        if unknown:
            notes.append(
                f"gold stages {', '.join(unknown)} are not keys of the journey in use: "
                "they can never be predicted"
            )
        stage_result = score_stage(
            [str(ex.stage) for ex, _ in stage_pairs],
            [en.stage.stage for _, en in stage_pairs],
            stage_order=stage_order,
        )

    n = len(used)
    staged = sum(en.stage.stage != UNASSIGNED for en in predictions.enrichments)
    return EvalResult(
        dataset=dataset,
        split=split,
        n_examples=n,
        seconds=predictions.seconds,
        items_per_second=n / predictions.seconds if predictions.seconds > 0 else 0.0,
        stage_coverage_all=staged / n if n else 0.0,
        sentiment=sentiment_result,
        stage=stage_result,
        notes=tuple(notes),
    )
