"""The learned word/bigram weight table at run time: its features and its scorer.

`lp_sentiment` adds `model_weight` x the table's score to the rules' raw score of
each segment. This module holds what that needs: `sentiment_features(lower)` (the
features of one segment's lower-cased tokens: unigrams and bigrams of word tokens,
words in the scope of a negator marked `not_`, e.g. "not_worth"), `WeightScorer`
(the sum of a table's weights over those features in one pass, each token's role
memoised) and `read_weights`. How the shipped table `data/sentiment_weights.json`
is trained is `nlp.training.sentiment_table`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path

_NEGATORS = frozenset(
    "not n't n’t no never nothing nobody none cannot without nor neither nt".split()
)
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


__all__ = [
    "NEGATOR",
    "SCOPE",
    "SKIP",
    "WORD",
    "LearnedEntry",
    "LearnedToken",
    "WeightScorer",
    "read_weights",
    "score_features",
    "sentiment_features",
]
