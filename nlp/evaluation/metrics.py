"""Classification metrics in plain Python: per-class precision/recall/F1, macro-F1,
accuracy, coverage and a confusion matrix.

Conventions (the same as scikit-learn's with `zero_division=0`):
- macro-F1 averages F1 over the *gold* classes (`labels`), so a prediction outside
  them (`unassigned`, or a stage the set never uses) only costs recall;
- precision of a class never predicted is 0, F1 is 0 when precision + recall is 0;
- coverage is the share of predictions that are not `unassigned`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from nlp.enrichment import UNASSIGNED


@dataclass(frozen=True, slots=True)
class ClassScores:
    label: str
    precision: float
    recall: float
    f1: float
    support: int
    """Gold examples of this class."""
    predicted: int
    """Predictions of this class."""


@dataclass(frozen=True, slots=True)
class ClassificationReport:
    n: int
    labels: tuple[str, ...]
    """The gold classes macro-F1 averages over, in display order."""
    per_class: tuple[ClassScores, ...]
    macro_f1: float
    accuracy: float
    coverage: float
    confusion_columns: tuple[str, ...]
    """Predicted labels: `labels`, then any other predicted label, `unassigned` last."""
    confusion: tuple[tuple[int, ...], ...]
    """`confusion[i][j]`: gold `labels[i]` predicted as `confusion_columns[j]`."""


def _ratio(numerator: int, denominator: int) -> float:
    return numerator / denominator if denominator else 0.0


def classification_report(
    gold: Sequence[str],
    predicted: Sequence[str],
    *,
    labels: Sequence[str] | None = None,
    order: Sequence[str] = (),
) -> ClassificationReport:
    """Score `predicted` against `gold` (same length). `labels` fixes the gold classes
    and their order; by default, the sorted classes that occur in `gold`. Predicted
    labels outside them are confusion columns in `order` (then alphabetical)."""
    if len(gold) != len(predicted):
        raise ValueError(f"{len(gold)} gold labels but {len(predicted)} predictions")
    classes = tuple(labels) if labels is not None else tuple(sorted(set(gold)))
    outside = sorted(set(gold) - set(classes))
    if outside:
        raise ValueError(f"gold labels {outside} are not in labels {list(classes)}")
    pairs = Counter(zip(gold, predicted, strict=True))
    gold_counts = Counter(gold)
    pred_counts = Counter(predicted)
    per_class: list[ClassScores] = []
    for label in classes:
        tp = pairs[(label, label)]
        precision = _ratio(tp, pred_counts[label])
        recall = _ratio(tp, gold_counts[label])
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class.append(
            ClassScores(label, precision, recall, f1, gold_counts[label], pred_counts[label])
        )
    rank = {label: i for i, label in enumerate(order)}
    extra = sorted(
        set(predicted) - set(classes) - {UNASSIGNED},
        key=lambda label: (rank.get(label, len(rank)), label),
    )
    columns = (*classes, *extra, *([UNASSIGNED] if UNASSIGNED in pred_counts else []))
    confusion = tuple(tuple(pairs[(row, col)] for col in columns) for row in classes)
    n = len(gold)
    return ClassificationReport(
        n=n,
        labels=classes,
        per_class=tuple(per_class),
        macro_f1=sum(s.f1 for s in per_class) / len(per_class) if per_class else 0.0,
        accuracy=_ratio(sum(pairs[(g, g)] for g in gold_counts), n),
        coverage=_ratio(n - pred_counts[UNASSIGNED], n),
        confusion_columns=columns,
        confusion=confusion,
    )
