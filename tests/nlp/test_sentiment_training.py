"""The learned table is trained on the scores the pipeline actually labels."""

from __future__ import annotations

from pathlib import Path

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
from nlp.training.sentiment_table import (
    StaticVectors,
    add_weights,
    centre_vectors,
    dense_design,
    fold_vectors,
    read_vectors,
    train_residual,
    train_weights,
)


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
        "ok thanks",
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
    short = sentiment.short_factor(view.lower)  # a short answer's damping (nlp.short_answers)
    weights, sentiment.weights = sentiment.weights, {}
    try:  # an empty table: segment_raw scores the rules only
        rules = sentiment.combine(
            [
                SegmentScore(raw, normalise_score(raw), view.lower[a] in CONTRAST_WORDS)
                for a, b in view.segments
                for raw in [short * sentiment.segment_raw(view.words[a:b], view.lower[a:b], caps)]
            ]
        ).raw
    finally:
        sentiment.weights = weights
    values = sentiment.item_features(view.lower, view.segments)
    learned = sum(value * weights.get(feature, 0.0) for feature, value in values.items())
    if short:
        assert learned != 0.0
    else:  # a non-answer ("ok") scores nothing, learned weights included
        assert learned == 0.0
        assert view.sentiment.raw == 0.0
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


def _toy_vectors() -> StaticVectors:
    """Two directions: "good"-like words along x, "bad"-like along y, "the" near 0."""
    import numpy as np

    words = ["good", "great", "superb", "bad", "awful", "dreadful", "the"]
    matrix = np.array(
        [[1.0, 0.0], [0.9, 0.1], [1.0, 0.05], [0.0, 1.0], [0.1, 0.9], [0.05, 1.0], [0.1, 0.1]]
    )
    return StaticVectors(words, matrix)


def test_dense_design_sums_vectors_of_plain_and_negated_words() -> None:
    vectors = _toy_vectors()
    design = dense_design(
        [{"good": 1.0, "not_bad": 0.5, "the good": 1.0, "unknown": 1.0}, {}], vectors
    )
    assert design.shape == (2, 4)
    assert list(design[0]) == pytest.approx([1.0, 0.0, 0.0, 0.5])
    assert list(design[1]) == [0.0, 0.0, 0.0, 0.0]


def test_folded_vectors_score_exactly_as_the_dense_part() -> None:
    """W . sum(e_w) == sum(W . e_w): the folded table gives each row the dense score."""
    import numpy as np

    vectors = _toy_vectors()
    u = np.array([0.7, -0.4, -0.2, 0.3])
    row = {"good": 1.0, "awful": 2.0, "not_superb": 0.5}
    table = fold_vectors(u, vectors)
    assert set(table) == set(vectors.words) | {"not_" + w for w in vectors.words}
    dense = float(dense_design([row], vectors)[0] @ u)
    assert sum(v * table[f] for f, v in row.items()) == pytest.approx(dense)


def test_static_vectors_give_weights_to_words_training_never_showed() -> None:
    """Trained on "good"/"great" vs "bad"/"awful" only, the table also scores their
    vector neighbours "superb" (positive) and "dreadful" (negative); a table without
    vectors knows nothing of them."""
    docs = [["good"], ["great"], ["bad"], ["awful"]] * 10
    labels = [1, 1, 0, 0] * 10
    plain = train_weights(docs, labels, epochs=200)
    assert "superb" not in plain
    assert "dreadful" not in plain
    table = train_weights(docs, labels, epochs=200, vectors=_toy_vectors(), dense_l2=1e-3)
    assert table["superb"] > 0.1 > -0.1 > table["dreadful"]
    assert abs(table.get("the", 0.0)) < table["superb"]


def test_residual_with_vectors_moves_unseen_neighbours_too() -> None:
    rows: list[dict[str, float]] = [{"good": 1.0}] * 6 + [{"bad": 1.0}] * 6
    low, high = raw_for_score(-0.1), raw_for_score(0.5)
    weights = train_residual(
        rows,
        [0.0] * 12,
        [2] * 6 + [0] * 6,
        ["a"] * 12,
        negative_raw=low,
        positive_raw=high,
        epochs=300,
        vectors=_toy_vectors(),
        dense_l2=1e-4,
    )
    assert weights["superb"] > 0 > weights["dreadful"]


def test_add_weights_drops_small_sums_when_asked() -> None:
    assert add_weights({"a": 0.1, "b": 0.2}, {"b": -0.19, "c": 0.3}, 0.02) == {"a": 0.1, "c": 0.3}


def test_read_vectors_round_trips_an_npz(tmp_path: Path) -> None:
    import numpy as np

    vectors = _toy_vectors()
    path = tmp_path / "static.npz"
    np.savez_compressed(path, words=np.array(vectors.words), vectors=vectors.matrix)
    back = read_vectors(path)
    assert list(back.words) == list(vectors.words)
    assert back.matrix.shape == (7, 2)


def test_centred_vectors_average_to_zero_over_the_tokens() -> None:
    """Centred on a corpus, the folded weights of its tokens sum to zero for any fit:
    the static part adds nothing that grows with a text's length."""
    import numpy as np

    vectors = _toy_vectors()
    docs = [["the", "good", "not_bad", "the good"], ["the", "awful"]]
    centred = centre_vectors(vectors, docs)
    tokens = ["the", "good", "bad", "the", "awful"]
    index = {w: i for i, w in enumerate(centred.words)}
    total = sum(centred.matrix[index[w]] for w in tokens)
    assert np.allclose(total, 0.0)
    assert np.allclose(centred.matrix[1] - centred.matrix[0], vectors.matrix[1] - vectors.matrix[0])
