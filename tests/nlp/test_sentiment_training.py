"""The learned table is trained on the scores the pipeline actually labels."""

from __future__ import annotations

import pytest

from nlp.docview import doc_view
from nlp.pipeline import PipelineEnricher
from nlp.sentiment import (
    CONTRAST_WORDS,
    CustomerSentiment,
    SegmentScore,
    normalise_score,
    raw_for_score,
)
from nlp.sentiment_model import add_weights, train_residual


@pytest.mark.parametrize("score", [-0.9, -0.1, 0.0, 0.05, 0.5, 0.99])
def test_raw_for_score_inverts_normalise(score: float) -> None:
    assert normalise_score(raw_for_score(score)) == pytest.approx(score)


@pytest.mark.parametrize(
    "text",
    [
        "I wanted to love this jacket. The colour is lovely, but it runs small and I sent it back.",
        "Great fit! Would buy again. Is there a larger size?",
        "The staff were not helpful. However, the refund came quickly. Thanks!",
        "ok",
    ],
)
def test_item_raw_is_rules_plus_item_features_times_weights(
    enricher: PipelineEnricher, text: str
) -> None:
    """Training relies on this identity: it fits the weights to item raw scores
    computed as rules-only raw + sum(item_features x weight)."""
    sentiment = enricher.nlp.get_pipe("lp_sentiment")
    assert isinstance(sentiment, CustomerSentiment)
    assert sentiment.weights
    view = doc_view(enricher.nlp(text))
    assert view.sentiment is not None
    caps = view.text.isupper()
    weights, sentiment.weights = sentiment.weights, {}
    try:  # an empty table: segment_raw scores the rules only
        rules = sentiment.combine(
            [
                SegmentScore(raw, normalise_score(raw), view.lower[a] in CONTRAST_WORDS)
                for a, b in view.segments
                for raw in [sentiment.segment_raw(view.words[a:b], view.lower[a:b], caps)]
            ]
        ).raw
    finally:
        sentiment.weights = weights
    values = sentiment.item_features(view.lower, view.segments)
    learned = sum(value * weights.get(feature, 0.0) for feature, value in values.items())
    assert learned != 0.0
    assert view.sentiment.raw == pytest.approx(rules + learned, abs=1e-9)


def test_residual_moves_items_across_the_thresholds() -> None:
    """Rules call every row positive (offset 3); the gold says the rows with "return"
    are negative and those with "but" neutral: the correction learns exactly that."""
    rows = [{"return": 1.0, "nice": 1.0}] * 6 + [{"but": 1.0, "nice": 1.0}] * 6
    rows += [{"nice": 1.0}] * 6
    labels = [0] * 6 + [1] * 6 + [2] * 6
    low, high = raw_for_score(-0.1), raw_for_score(0.5)
    weights = train_residual(
        rows, [3.0] * 18, labels, ["a"] * 18, negative_raw=low, positive_raw=high, epochs=300
    )

    def raw(row: dict[str, float]) -> float:
        return 3.0 + sum(v * weights.get(f, 0.0) for f, v in row.items())

    assert raw(rows[0]) <= low
    assert low < raw(rows[6]) < high
    assert raw(rows[12]) >= high


def test_residual_binary_groups_are_fitted_at_zero() -> None:
    rows = [{"good": 1.0}] * 5 + [{"bad": 1.0}] * 5
    weights = train_residual(
        rows,
        [0.0] * 10,
        [2] * 5 + [0] * 5,
        ["uci"] * 10,
        negative_raw=-5.0,
        positive_raw=5.0,
        binary_groups=["uci"],
        epochs=200,
    )
    assert weights["good"] > 0 > weights["bad"]
    assert abs(weights["good"]) < 5.0  # no pull towards the far 3-class thresholds


def test_add_weights_sums_feature_wise() -> None:
    assert add_weights({"a": 0.1, "b": 0.2}, {"b": -0.2, "c": 0.3}) == {
        "a": 0.1,
        "b": 0.0,
        "c": 0.3,
    }
