"""A small learned word/bigram weight table that complements the sentiment rules.

The rules (`nlp.sentiment`) know customer talk; review language ("waste of
money", "fits perfectly", "runs small") is better learned. This module holds
both halves of that learning:

- `sentiment_features(lower)`: the features of one segment (lower-cased tokens):
  unigrams and bigrams of word tokens, with words in the scope of a negator
  marked `not_` (e.g. "not_worth").
- `train_weights(...)`: binary logistic regression (positive vs negative) in
  NumPy, full-batch gradient descent with L2, on presence features.

The shipped table `data/sentiment_weights.json` is trained ONLY on data whose
licence allows it (UCI sentiment sentences, CC BY 4.0; women's clothing reviews,
CC0; VADER ground truth, MIT), never on the test split of any of them (see
`data/README.md`). Rebuild it with `python -m nlp.sentiment_model EVAL_DIR`.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

_NEGATORS = frozenset("not n't no never nothing nobody none cannot without nor neither nt".split())
_SCOPE_END = frozenset(". , ; : ! ? but however".split())


def sentiment_features(lower: Sequence[str]) -> list[str]:
    """Unigram and bigram features of one segment's lower-cased tokens."""
    words: list[str] = []
    negated = 0
    for token in lower:
        if token in _SCOPE_END:
            negated = 0
            words.append("|")
            continue
        if token in _NEGATORS:
            negated = 3
            words.append("not")
            continue
        if not token.isalpha() or token.startswith(("@", "#", "http")):
            if token in ("!", "?"):
                words.append(token)
            continue
        words.append(f"not_{token}" if negated > 0 else token)
        if negated:
            negated -= 1
    feats = [w for w in words if w != "|"]
    feats.extend(f"{a} {b}" for a, b in zip(words, words[1:], strict=False) if "|" not in (a, b))
    return feats


def train_weights(
    docs: Sequence[Sequence[str]],
    labels: Sequence[int],
    *,
    l2: float = 1e-3,
    epochs: int = 300,
    learning_rate: float = 0.5,
    min_count: int = 2,
    min_weight: float = 0.02,
    sample_weights: Sequence[float] | None = None,
) -> dict[str, float]:
    """Logistic regression weights (positive = 1) for features seen `min_count`+ times;
    `sample_weights` scale each example's loss (default 1). Needs NumPy (installed
    with spaCy); only training imports it, the pipeline never does."""
    import numpy as np

    counts: dict[str, int] = {}
    for feats in docs:
        for f in set(feats):
            counts[f] = counts.get(f, 0) + 1
    vocab = {f: i for i, f in enumerate(sorted(f for f, c in counts.items() if c >= min_count))}
    rows: list[int] = []
    cols: list[int] = []
    for r, feats in enumerate(docs):
        for c in sorted({vocab[f] for f in feats if f in vocab}):
            rows.append(r)
            cols.append(c)
    row = np.asarray(rows, dtype=np.int64)
    col = np.asarray(cols, dtype=np.int64)
    y = np.asarray(labels, dtype=np.float64)
    n, d = len(docs), len(vocab)
    sw = np.ones(n) if sample_weights is None else np.asarray(sample_weights, dtype=np.float64)
    sw = sw * (n / sw.sum())
    w = np.zeros(d)
    b = 0.0
    # Adam on the mean log-loss + l2 * |w|^2 / 2
    m_w = np.zeros(d)
    v_w = np.zeros(d)
    m_b = v_b = 0.0
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    for step in range(1, epochs + 1):
        z = np.bincount(row, weights=w[col], minlength=n) + b
        p = 1.0 / (1.0 + np.exp(-z))
        g = sw * (p - y) / n
        grad_w = np.bincount(col, weights=g[row], minlength=d) + l2 * w
        grad_b = float(g.sum())
        m_w = beta1 * m_w + (1 - beta1) * grad_w
        v_w = beta2 * v_w + (1 - beta2) * grad_w * grad_w
        m_b = beta1 * m_b + (1 - beta1) * grad_b
        v_b = beta2 * v_b + (1 - beta2) * grad_b * grad_b
        corr1 = 1 - beta1**step
        corr2 = 1 - beta2**step
        w -= learning_rate * (m_w / corr1) / (np.sqrt(v_w / corr2) + eps) * 0.1
        b -= learning_rate * (m_b / corr1) / (math.sqrt(v_b / corr2) + eps) * 0.1
    names = sorted(vocab, key=vocab.__getitem__)
    return {
        name: round(float(weight), 4)
        for name, weight in zip(names, w, strict=True)
        if abs(weight) >= min_weight
    }


def score_text(weights: dict[str, float], lower: Sequence[str]) -> float:
    """`score_features(weights, sentiment_features(lower))` in one pass, without
    building the feature list (the pipeline's hot path)."""
    get = weights.get
    total = 0.0
    negated = 0
    prev = "|"
    for token in lower:
        if token in _SCOPE_END:
            negated = 0
            prev = "|"
            continue
        if token in _NEGATORS:
            negated = 3
            word = "not"
        elif not token.isalpha() or token.startswith(("@", "#", "http")):
            if token != "!" and token != "?":
                continue
            word = token
        else:
            word = f"not_{token}" if negated > 0 else token
            if negated:
                negated -= 1
        total += get(word, 0.0)
        if prev != "|":
            total += get(f"{prev} {word}", 0.0)
        prev = word
    return total


_SKIP, _SCOPE, _NEGATOR, _WORD, _MARK = range(5)
SKIP, SCOPE, NEGATOR, WORD = _SKIP, _SCOPE, _NEGATOR, _WORD
LearnedEntry = tuple[str, float | None, bool]
LearnedToken = tuple[int, str, float | None, bool, str, float | None, bool]
_MAX_KINDS = 200_000


class WeightScorer:
    """`score_text` for one weight table, faster: each token's role (scope end,
    negator, word, skipped) memoised, and bigrams looked up in a nested dict instead
    of building "prev word" strings. Same sums, added in the same order."""

    def __init__(self, weights: dict[str, float]) -> None:
        self.unigrams: dict[str, float] = {}
        self.bigrams: dict[str, dict[str, float]] = {}
        for feature, weight in weights.items():
            parts = feature.split(" ")
            if len(parts) == 1:
                self.unigrams[feature] = weight
            elif len(parts) == 2:
                self.bigrams.setdefault(parts[0], {})[parts[1]] = weight
        self._kinds: dict[str, int] = {}

    @staticmethod
    def kind(token: str) -> int:
        if token in _SCOPE_END:
            return _SCOPE
        if token in _NEGATORS:
            return _NEGATOR
        if not token.isalpha() or token.startswith(("@", "#", "http")):
            return _MARK if token in ("!", "?") else _SKIP
        return _WORD

    def entry(self, feature: str) -> LearnedEntry:
        """A feature, its unigram weight (or None) and whether bigrams start with it.
        Plain values only: memo tables of these stay untracked by the cyclic GC."""
        return (feature, self.unigrams.get(feature), feature in self.bigrams)

    def token_entry(self, token: str) -> LearnedToken:
        """What `score` needs about one token, for scorers that fuse it into another
        pass (`nlp.sentiment`), flat (one tuple per word in their memo): its kind, its
        `entry` as it stands ("not" for a negator), and its `entry` when negated
        ("not_" + token, for words only)."""
        kind = self.kind(token)
        plain = self.entry("not" if kind == _NEGATOR else token)
        negated = self.entry("not_" + token) if kind == _WORD else plain
        return (kind, *plain, *negated)

    def score(self, lower: Sequence[str]) -> float:
        kinds = self._kinds
        unigrams = self.unigrams
        bigrams = self.bigrams
        total = 0.0
        negated = 0
        prev: str | None = None
        for token in lower:
            kind = kinds.get(token)
            if kind is None:
                kind = self.kind(token)
                if len(kinds) < _MAX_KINDS:
                    kinds[token] = kind
            if kind == _SKIP:
                continue
            if kind == _SCOPE:
                negated = 0
                prev = None
                continue
            if kind == _NEGATOR:
                negated = 3
                word = "not"
            elif kind == _WORD and negated:
                word = "not_" + token
                negated -= 1
            else:
                word = token
            weight = unigrams.get(word)
            if weight is not None:
                total += weight
            if prev is not None:
                following = bigrams.get(prev)
                if following is not None:
                    weight = following.get(word)
                    if weight is not None:
                        total += weight
            prev = word
        return total


def score_features(weights: dict[str, float], feats: Iterable[str]) -> float:
    """Sum of the learned weights of `feats` (no bias: no words, no opinion)."""
    get = weights.get
    return sum(get(f, 0.0) for f in feats)


def read_weights(path: Path) -> dict[str, float]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return {str(k): float(v) for k, v in data["weights"].items()}


DATASET_WEIGHTS = {"clothing": 3.0}
"""Multi-sentence reviews are few (about 600 rows) next to 5,000 short texts: weigh
them up. 5-fold CV on the non-test rows: clothing macro-F1 0.548 -> 0.561."""


def _training_set(eval_dir: Path) -> tuple[list[list[str]], list[int], list[float]]:
    """Non-test rows of the licence-OK sets, polar labels only."""
    import spacy

    from nlp.evaluation.datasets import read_examples

    tokenizer = spacy.blank("en").tokenizer
    docs: list[list[str]] = []
    labels: list[int] = []
    weights: list[float] = []
    sources = {
        "uci": "uci-sentiment-labelled-sentences",
        "clothing": "womens-clothing-reviews",
        "vader": "vader-ground-truth",
    }
    for dataset, folder in sources.items():
        for example in read_examples(dataset, eval_dir / folder, split="tune"):
            if example.sentiment not in ("positive", "negative"):
                continue
            lower = [t.lower_ for t in tokenizer(example.text)]
            docs.append(sentiment_features(lower))
            labels.append(1 if example.sentiment == "positive" else 0)
            weights.append(DATASET_WEIGHTS.get(dataset, 1.0))
    return docs, labels, weights


def main(argv: Sequence[str]) -> int:
    if len(argv) != 1:
        sys.stderr.write("usage: python -m nlp.sentiment_model EVAL_DIR\n")
        return 2
    docs, labels, sample_weights = _training_set(Path(argv[0]))
    weights = train_weights(docs, labels, sample_weights=sample_weights)
    target = Path(__file__).parent / "data" / "sentiment_weights.json"
    payload = {
        "trained_on": "non-test rows of UCI sentiment sentences (CC BY 4.0), women's clothing "
        "reviews (CC0), VADER ground truth (MIT); polar labels only; clothing rows weighted x3",
        "examples": len(docs),
        "weights": weights,
    }
    target.write_text(json.dumps(payload, sort_keys=True, indent=0), encoding="utf-8")
    sys.stdout.write(f"{len(weights)} weights from {len(docs)} examples -> {target}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
