"""The slow, plain twins of the pipeline's fused hot paths, kept as test oracles.

- `score_words(sentiment, texts)`: the lexicon rules of one segment (no learned
  table), token by token, phrases looked up at every position. `segment_raw` fuses
  it with the learned score and gates the phrase lookups; it must give the same
  floats (`test_sentiment.py`, `test_speed_sentiment.py`).
- `score_text(weights, lower)`: the learned table's score, building the feature
  strings as training does; `WeightScorer.score` (memoised kinds, nested bigram
  dicts) must give the same sums.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from nlp.lemma import light_lemma
from nlp.sentiment import _MAX_PHRASE, CustomerSentiment, _is_question
from nlp.word_weights import _NEGATORS, _SCOPE_END


def score_words(
    sentiment: CustomerSentiment,
    texts: Sequence[str],
    *,
    all_caps_text: bool = False,
    lower: Sequence[str] | None = None,
    lemmas: Sequence[str] | None = None,
) -> float:
    """Raw valence sum of one segment given its token texts."""
    if lower is None:
        lower = [t.lower() for t in texts]
    n = len(lower)
    by_lower = sentiment._by_lower
    by_lemma = sentiment._by_lemma
    lexicon = sentiment._lexemes
    valences = [0.0] * n
    pending: list[int] = []
    contrast_at = -1
    i = 0
    while i < n:
        word = lower[i]
        info = lexicon.get(word)
        if info is None:
            info = sentiment._lexeme(word)
        value: float | None = None
        width = 1
        starts = info[1]
        if starts:
            widest = min(_MAX_PHRASE, n - i)
            window: Sequence[str] | None = None
            for w in range(widest, 1, -1):
                if starts & 1:  # a phrase starts with this form
                    value = by_lower.get(tuple(lower[i : i + w]))
                if value is None and starts & 2:  # ... or with this lemma
                    if window is None:
                        window = (
                            lemmas[i : i + widest]
                            if lemmas is not None
                            else [light_lemma(t) for t in lower[i : i + widest]]
                        )
                    value = by_lemma.get(tuple(window[:w]))
                if value is not None:
                    width = w
                    break
        if value is None:
            value = info[0]
        if value:
            valences[i] = sentiment._modify(value, i, texts, lower, all_caps_text)
        elif info[2] and sentiment.negation_valence:
            # "didn't get", "can't find", "never came": a bare negation in customer
            # talk is a complaint; it counts unless it negates a scored word.
            if not (i and valences[i - 1]):
                pending.append(i)
        elif info[3] and 0 < i < n - 1:
            contrast_at = i
        i += width
    for k in pending:
        if not any(valences[k + 1 : k + 4]):
            valences[k] = sentiment.negation_valence
    if contrast_at > 0:
        before, after = sentiment.contrast_before, sentiment.contrast_after
        for k in range(n):
            valences[k] *= before if k < contrast_at else after
    raw = sum(valences)
    if raw:
        bangs = min(sum(t.count("!") for t in lower if t[0] == "!"), 4)
        if bangs:
            raw += math.copysign(bangs * 0.292, raw)
        elif _is_question(lower):
            raw *= sentiment.question_factor
    return raw


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
