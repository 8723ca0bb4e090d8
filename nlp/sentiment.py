"""Sentiment per sentence and per item, tuned to how customers talk.

`lp_sentiment` scores tokens with VADER's lexicon (the `vaderSentiment` package's
own word list, boosters and negations) overlaid with a customer-talk lexicon
(`data/customer_lexicon.tsv`): delays, cancellations, being on hold, lost or
missing things, refunds that never arrive and "still waiting" are negative even
with no sentiment word; thanks and praise are positive. On top of the lexicon:

- negation (a negator in the three tokens before flips and damps, as VADER does);
- intensity (boosters, ALL-CAPS words in mixed-case text, "!" emphasis);
- contrast: inside a segment the words before "but" weigh `contrast_before`
  and those after it `contrast_after`; across segments, one opened by a contrast
  word ("but", "however") weighs `contrast_after` and the one before it
  `contrast_before`;
- questions are mostly neutral: a segment ending in "?" is damped by
  `question_factor`.

The raw sum is normalised to [-1, 1] with VADER's x / sqrt(x^2 + 15).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator, Sequence
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, NamedTuple

from spacy.language import Language
from spacy.tokens import Doc
from spacy.util import SimpleFrozenList, ensure_path
from vaderSentiment import vaderSentiment as _vader

from nlp import thresholds as T
from nlp.docview import DocView, doc_view, run_batched
from nlp.enrichment import SentimentLabel
from nlp.errors import Errors, PipelineError
from nlp.lemma import light_lemma
from nlp.short_answers import short_answer_kind
from nlp.word_weights import (
    NEGATOR,
    SCOPE,
    SKIP,
    WORD,
    WeightScorer,
    read_weights,
    sentiment_features,
)

CONTRAST_WORDS = frozenset({"but", "however"})
_NEGATORS = frozenset(
    {w for w in _vader.NEGATE if "'" not in w}
    | {"n't", "not", "no", "never", "cannot", "nothing", "nobody", "none", "without", "nt", "zero"}
    | {"n’t"}  # "don’t", "can’t" with a typographic apostrophe (phones type it)
)
_BOOSTERS: dict[str, float] = dict(_vader.BOOSTER_DICT)
_CAPS_INCR = float(_vader.C_INCR)
_NEGATION_SCALAR = float(_vader.N_SCALAR)
_ALPHA_NORM = 15.0
_MAX_PHRASE = 4
_MAX_LEXEMES = 50_000  # words memoised (not those with a digit: `has_digit`)


def has_digit(word: str) -> bool:
    """Not worth a memo entry: a word with a digit (an order number, a price, a
    date) seldom comes back, and a backfill of them filled the memos to no use."""
    return any(ch.isdigit() for ch in word)


Lexeme = tuple[
    float | None, int, bool, bool, int, str, float | None, bool, str, float | None, bool, str, bool
]
"""What `CustomerSentiment` knows about one lower-cased word (see `_lexeme`)."""


def _is_question(lower: Sequence[str]) -> bool:
    """Ends in "?" (or "?" then one closing token) and has no "!"."""
    if not lower or "!" in "".join(lower[-3:]):
        return False
    return "?" in lower[-1] or (len(lower) > 1 and "?" in lower[-2])


def normalise_score(raw: float) -> float:
    """VADER's squashing of a raw valence sum into (-1, 1)."""
    return raw / math.sqrt(raw * raw + _ALPHA_NORM)


def raw_for_score(score: float) -> float:
    """The raw valence sum whose `normalise_score` is `score` (|score| < 1): where a
    label threshold lies on the raw scale, which the learned weights are trained on."""
    return score * math.sqrt(_ALPHA_NORM / (1.0 - score * score))


def label_for(score: float, *, positive: float, negative: float) -> SentimentLabel:
    """The label a score falls under, given the two thresholds."""
    if score >= positive:
        return "positive"
    if score <= negative:
        return "negative"
    return "neutral"


def default_weights_path() -> Path:
    return Path(str(resources.files("nlp") / "data" / "sentiment_weights.json"))


def default_lexicon_path() -> Path:
    return Path(str(resources.files("nlp") / "data" / "customer_lexicon.tsv"))


def read_lexicon(path: Path) -> dict[str, float]:
    """Read a `phrase<TAB>valence` file ('#' starts a comment line)."""
    entries: dict[str, float] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        phrase, sep, value = line.rpartition("\t")
        if not sep or not phrase.strip():
            raise PipelineError(Errors.E023, path=path, line=number, text=line)
        entries[phrase.strip().lower()] = float(value)
    return entries


@cache
def vader_lexicon() -> dict[str, float]:
    """VADER's word list (read once per process)."""
    lexicon: dict[str, float] = dict(_vader.SentimentIntensityAnalyzer().lexicon)
    return lexicon


_EMOJI_JOINERS = frozenset("\ufe0f\ufe0e\u200d")
"""Variation selectors and the zero-width joiner: part of an emoji, no meaning alone."""
_EMOJI_CAP = 3.0


def emoji_valences(by_lower: dict[tuple[str, ...], float]) -> dict[str, float]:
    """A valence for each emoji VADER knows, read as VADER reads it: its description's
    words scored by the lexicon ("crying face" -2.1, "face with tears of joy" 1.9),
    capped at +-3; emoji whose description holds no scored word are left out (a
    lexicon entry for the emoji itself wins over this)."""
    analyzer = _vader.SentimentIntensityAnalyzer()
    emojis: dict[str, str] = dict(getattr(analyzer, "emojis", {}) or {})
    out: dict[str, float] = {}
    for emoji, description in emojis.items():
        total = sum(by_lower.get((w,), 0.0) for w in description.lower().split())
        if total:
            out[emoji] = max(-_EMOJI_CAP, min(_EMOJI_CAP, total))
    return out


def emoji_valence(word: str, valences: dict[str, float]) -> float | None:
    """The valence of a token made only of emoji ("😡", "😂😂"): the sum of its
    emoji's (capped at +-3), or None when it holds anything else or no scored emoji."""
    known = valences.get(word)
    if known is not None:
        return known
    total = 0.0
    for char in word:
        if char in _EMOJI_JOINERS:
            continue
        value = valences.get(char)
        if value is None:
            if char.isalnum() or char.isascii():
                return None
            continue
        total += value
    return max(-_EMOJI_CAP, min(_EMOJI_CAP, total)) if total else None


class SegmentScore(NamedTuple):
    """Sentiment of one segment (or of the item): raw valence sum and score in [-1, 1].

    A NamedTuple (immutable, built in C) rather than a frozen dataclass: one is made
    per segment, and a frozen dataclass's `__init__` costs several times more."""

    raw: float
    score: float
    contrast_opened: bool = False


class CustomerSentiment:
    """spaCy component: `doc._.lp.segment_sentiment` (one `SegmentScore` per
    segment of `doc._.lp.segments`, in order) and `doc._.lp.sentiment` (the item)."""

    def __init__(
        self,
        nlp: Language,
        name: str,
        *,
        positive_threshold: float,
        negative_threshold: float,
        question_factor: float,
        contrast_before: float,
        contrast_after: float,
        negation_valence: float,
        lexicon_path: str,
        model_weight: float,
        weights_path: str,
        short_answer_words: int = T.SHORT_ANSWER_WORDS,
        faint_factor: float = T.FAINT_FACTOR,
    ) -> None:
        self.name = name
        self.short_answer_words = short_answer_words
        self.faint_factor = faint_factor
        self.positive_threshold = positive_threshold
        self.negative_threshold = negative_threshold
        self.question_factor = question_factor
        self.contrast_before = contrast_before
        self.contrast_after = contrast_after
        self.negation_valence = negation_valence
        self.model_weight = model_weight
        self.weights: dict[str, float] = (
            read_weights(Path(weights_path) if weights_path else default_weights_path())
            if model_weight
            else {}
        )
        self._scorer = WeightScorer(self.weights)
        path = Path(lexicon_path) if lexicon_path else default_lexicon_path()
        self.custom: dict[str, float] = read_lexicon(path)
        self._make_doc = nlp.make_doc
        self._by_lower: dict[tuple[str, ...], float] = {}
        self._by_lemma: dict[tuple[str, ...], float] = {}
        self._form_starts: frozenset[str] = frozenset()
        self._lemma_starts: frozenset[str] = frozenset()
        self._form_pairs: frozenset[tuple[str, str]] = frozenset()
        self._lemma_pairs: frozenset[tuple[str, str]] = frozenset()
        self._lexemes: dict[str, Lexeme] = {}
        self._emoji: dict[str, float] = {}
        self._build()

    def _build(self) -> None:
        by_lower: dict[tuple[str, ...], float] = {}
        by_lemma: dict[tuple[str, ...], float] = {}
        for phrase, valence in self.custom.items():
            words = tuple(t.lower_ for t in self._make_doc(phrase))
            if not words or len(words) > _MAX_PHRASE:
                continue
            by_lemma.setdefault(tuple(light_lemma(w) for w in words), valence)
            by_lower[words] = valence
        vader = vader_lexicon()
        for word, valence in vader.items():
            by_lower.setdefault((word,), valence)
        self._by_lower = by_lower
        self._by_lemma = by_lemma
        self._form_starts = frozenset(k[0] for k in by_lower if len(k) > 1)
        self._lemma_starts = frozenset(k[0] for k in by_lemma if len(k) > 1)
        self._form_pairs = frozenset((k[0], k[1]) for k in by_lower if len(k) > 1)
        self._lemma_pairs = frozenset((k[0], k[1]) for k in by_lemma if len(k) > 1)
        self._lexemes = {}
        self._emoji = emoji_valences(by_lower)

    def _lexeme(self, word: str) -> Lexeme:
        """What the scorer needs to know about one lower-cased word, memoised:
        its own valence (by form, else by lemma), whether a lexicon phrase starts
        with it (bit 1: by form, bit 2: by lemma), whether it negates, whether it
        marks contrast, its learned weights (`WeightScorer.token_entry`), its light
        lemma (so phrase lookups by lemma need no `light_lemma` call) and, last,
        whether the lexicon rules can do anything with it at all."""
        lemma = light_lemma(word)
        value = self._by_lower.get((word,))
        if value is None:
            value = self._by_lemma.get((lemma,))
        if value is None and not word.isascii():
            value = emoji_valence(word, self._emoji)
        # One flat tuple of plain values per word: the memo adds one GC-tracked object
        # per new word (none once the collector untracks it).
        starts = (1 if word in self._form_starts else 0) | (2 if lemma in self._lemma_starts else 0)
        negator = word in _NEGATORS
        contrast = word in CONTRAST_WORDS
        info: Lexeme = (
            value,
            starts,
            negator,
            contrast,
            *self._scorer.token_entry(word),
            lemma,
            bool(value) or bool(starts) or negator or contrast,
        )
        if len(self._lexemes) < _MAX_LEXEMES and not has_digit(word):
            self._lexemes[word] = info
        return info

    def _lemma_of(self, word: str) -> str:
        """The light lemma of `word`, from its memo entry."""
        info = self._lexemes.get(word)
        return (info if info is not None else self._lexeme(word))[11]

    def segment_raw(self, texts: Sequence[str], lower: Sequence[str], all_caps_text: bool) -> float:
        """The raw valence of one segment: the lexicon rules plus `model_weight` x
        the learned score (`WeightScorer.score`, damped for a question), in one pass
        over the tokens with one memo lookup per token. Same floats, added in the same
        order, as the two plain passes kept in the tests as oracles
        (`tests/nlp/oracles.py`: `score_words` + `score_text`)."""
        n = len(lower)
        by_lower = self._by_lower
        by_lemma = self._by_lemma
        lexicon = self._lexemes
        valences = [0.0] * n
        pending: list[int] = []
        contrast_at = -1
        skip_to = 0
        learned = 0.0
        negated = 0
        form_pairs = self._form_pairs
        lemma_pairs = self._lemma_pairs
        bigrams = self._scorer.bigrams
        follow: str | None = None  # the previous feature, when bigrams start with it
        for i, word in enumerate(lower):
            info = lexicon.get(word)
            if info is None:
                info = self._lexeme(word)
            # the learned weights (WeightScorer.score, fused); the commonest kind first
            kind = info[4]
            if kind == WORD:
                if negated:
                    feature, weight, leads = info[8], info[9], info[10]
                    negated -= 1
                else:
                    feature, weight, leads = info[5], info[6], info[7]
            elif kind == SKIP:
                feature = None
            elif kind == SCOPE:
                negated = 0
                follow = feature = None
            else:  # a negator, or "!" / "?"
                if kind == NEGATOR:
                    negated = 3
                feature, weight, leads = info[5], info[6], info[7]
            if feature is not None:
                if weight is not None:
                    learned += weight
                if follow is not None:
                    weight = bigrams[follow].get(feature)
                    if weight is not None:
                        learned += weight
                follow = feature if leads else None
            # the lexicon rules (the tests' `score_words` oracle); most words take none
            if i < skip_to or not info[12]:
                continue
            value: float | None = None
            starts = info[1]
            if starts and i + 1 < n:
                # A phrase of this form (lemma) can only start here if its first two
                # words (lemmas) are a known pair: one set lookup rules most out.
                following = lower[i + 1]
                by_form = starts & 1 and (word, following) in form_pairs
                by_lemmas = False
                if starts & 2:
                    second = lexicon.get(following)
                    if second is None:
                        second = self._lexeme(following)
                    by_lemmas = (info[11], second[11]) in lemma_pairs
                if by_form or by_lemmas:
                    widest = min(_MAX_PHRASE, n - i)
                    window: list[str] | None = None
                    for w in range(widest, 1, -1):
                        if by_form:
                            value = by_lower.get(tuple(lower[i : i + w]))
                        if value is None and by_lemmas:
                            if window is None:
                                window = [self._lemma_of(t) for t in lower[i : i + widest]]
                            value = by_lemma.get(tuple(window[:w]))
                        if value is not None:
                            skip_to = i + w
                            break
            if value is None:
                value = info[0]
            if value:
                valences[i] = self._modify(value, i, texts, lower, all_caps_text)
            elif info[2] and self.negation_valence:
                if not (i and valences[i - 1]):
                    pending.append(i)
            elif info[3] and 0 < i < n - 1:
                contrast_at = i
        for k in pending:
            if not any(valences[k + 1 : k + 4]):
                valences[k] = self.negation_valence
        if contrast_at > 0:
            before, after = self.contrast_before, self.contrast_after
            for k in range(n):
                valences[k] *= before if k < contrast_at else after
        raw = sum(valences)
        question = _is_question(lower)
        if raw:
            # most segments have no "!" at all: one C-level search rules them out
            bangs = (
                min(sum(t.count("!") for t in lower if t[0] == "!"), 4)
                if "!" in "".join(lower)
                else 0
            )
            if bangs:
                raw += math.copysign(bangs * 0.292, raw)
            elif question:
                raw *= self.question_factor
        if self.weights:
            learned = self.model_weight * learned
            if question:
                learned *= self.question_factor
            raw += learned
        return raw

    def label(self, score: float) -> SentimentLabel:
        return label_for(score, positive=self.positive_threshold, negative=self.negative_threshold)

    @staticmethod
    def _modify(
        value: float, i: int, texts: Sequence[str], lower: Sequence[str], all_caps_text: bool
    ) -> float:
        sign = 1.0 if value > 0 else -1.0
        text = texts[i]
        if not all_caps_text and len(text) > 1 and text.isupper() and text.isalpha():
            value += sign * _CAPS_INCR
        negated = False
        for back in (1, 2, 3):
            j = i - back
            if j < 0:
                break
            prev = lower[j]
            boost = _BOOSTERS.get(prev)
            if boost is not None:
                value += sign * boost * (1.0, 0.95, 0.9)[back - 1]
            if prev in _NEGATORS:
                negated = True
        if negated:
            value *= _NEGATION_SCALAR
        return value

    def pipe(self, stream: Iterable[Doc], *, batch_size: int = 256) -> Iterator[Doc]:
        """`nlp.pipe` runs this component batch by batch (`nlp.docview.run_batched`)."""
        return run_batched(self, stream, batch_size)

    def short_factor(self, lower: Sequence[str]) -> float:
        """What a whole text's raw score is multiplied by as a short answer
        (`nlp.short_answers`): 0 for a non-answer or a typed score, `faint_factor`
        for faint praise or complaint, else 1."""
        limit = self.short_answer_words
        # tokens include punctuation: a cheap bound before counting words (8 words
        # and up to 6 marks or emoji; the short-answer set has at most 4)
        if limit <= 0 or len(lower) > limit + 6:
            return 1.0
        kind = short_answer_kind(lower, max_words=limit)
        if not kind:
            return 1.0
        return self.faint_factor if kind == "faint" else 0.0

    def __call__(self, doc: Doc) -> Doc:
        view = doc_view(doc)
        all_caps_text = view.text.isupper()
        words, lower = view.words, view.lower
        segment_raw = self.segment_raw
        raws = [
            segment_raw(words[start:end], lower[start:end], all_caps_text)
            for start, end in view.segments
        ]
        self.assign(view, raws)
        return doc

    def assign(self, view: DocView, raws: Sequence[float]) -> None:
        """Write each segment's score (from its raw valence) and the item's on `view`:
        the short-answer factor, squashing, contrast flags and `combine`. Shared by
        `__call__` and the fused pass (`nlp.fused`)."""
        lower = view.lower
        segments: list[SegmentScore] = []
        factor = self.short_factor(lower) if view.segments else 1.0
        for (start, _end), raw in zip(view.segments, raws, strict=True):
            if factor != 1.0:
                raw *= factor
            segments.append(SegmentScore(raw, normalise_score(raw), lower[start] in CONTRAST_WORDS))
        view.segment_sentiment = segments
        view.sentiment = self.combine(segments)

    def combine(self, segments: Sequence[SegmentScore]) -> SegmentScore:
        """The item's score: contrast-weighted segment sums over sqrt(total weight),
        so a long review is not more extreme than a sentence just for its length."""
        total = 0.0
        weights = 0.0
        for index, segment in enumerate(segments):
            weight = 1.0
            if segment.contrast_opened and index > 0:
                weight = self.contrast_after
            elif index + 1 < len(segments) and segments[index + 1].contrast_opened:
                weight = self.contrast_before
            total += weight * segment.raw
            weights += weight
        if weights > 1.0:
            total /= math.sqrt(weights)
        return SegmentScore(total, normalise_score(total))

    def item_features(
        self, lower: Sequence[str], segments: Sequence[tuple[int, int]]
    ) -> dict[str, float]:
        """How much each learned feature adds to the item's raw score, per unit weight.

        The item raw is linear in the learned weights: `combine` sums the segment raws
        with contrast weights over sqrt(total weight), and each segment adds
        `model_weight` x its feature weights (x `question_factor` for a question). So the
        item raw = rules-only raw + sum(feature value x weight), with the values given
        here; training on them (`nlp.training.sentiment_table.train_residual`) fits the item
        scores the pipeline actually labels (tests check the identity)."""
        values: dict[str, float] = {}
        n = len(segments)
        opened = [lower[start] in CONTRAST_WORDS for start, _ in segments]
        factors: list[float] = []
        for index in range(n):
            factor = 1.0
            if opened[index] and index > 0:
                factor = self.contrast_after
            elif index + 1 < n and opened[index + 1]:
                factor = self.contrast_before
            factors.append(factor)
        total = sum(factors)
        scale = self.model_weight / math.sqrt(total) if total > 1.0 else self.model_weight
        scale *= self.short_factor(lower) if segments else 1.0
        for (start, end), factor in zip(segments, factors, strict=True):
            words = lower[start:end]
            value = factor * scale * (self.question_factor if _is_question(words) else 1.0)
            for feature in sentiment_features(words):
                values[feature] = values.get(feature, 0.0) + value
        return values

    # -- serialisation -------------------------------------------------------------
    def _cfg(self) -> dict[str, Any]:
        return {
            "positive_threshold": self.positive_threshold,
            "negative_threshold": self.negative_threshold,
            "question_factor": self.question_factor,
            "contrast_before": self.contrast_before,
            "contrast_after": self.contrast_after,
            "negation_valence": self.negation_valence,
            "model_weight": self.model_weight,
            "short_answer_words": self.short_answer_words,
            "faint_factor": self.faint_factor,
        }

    def to_disk(self, path: str | Path, *, exclude: Iterable[str] = SimpleFrozenList()) -> None:  # noqa: ARG002
        target = ensure_path(path)
        target.mkdir(parents=True, exist_ok=True)
        (target / "lexicon.json").write_text(
            json.dumps(self.custom, sort_keys=True, indent=0), encoding="utf-8"
        )
        (target / "cfg.json").write_text(json.dumps(self._cfg(), sort_keys=True), encoding="utf-8")
        (target / "weights.json").write_text(
            json.dumps({"weights": self.weights}, sort_keys=True, indent=0), encoding="utf-8"
        )

    def from_disk(
        self,
        path: str | Path,
        *,
        exclude: Iterable[str] = SimpleFrozenList(),  # noqa: ARG002
    ) -> CustomerSentiment:
        source = ensure_path(path)
        self.custom = {
            str(k): float(v)
            for k, v in json.loads((source / "lexicon.json").read_text("utf-8")).items()
        }
        for key, value in json.loads((source / "cfg.json").read_text("utf-8")).items():
            setattr(self, key, int(value) if key == "short_answer_words" else float(value))
        self.weights = read_weights(source / "weights.json")
        self._scorer = WeightScorer(self.weights)
        self._build()
        return self


@Language.factory(
    "lp_sentiment",
    # Every number from nlp.thresholds (chosen on the tune splits), as in PIPELINE_CONFIG.
    default_config={
        "positive_threshold": T.POSITIVE_THRESHOLD,
        "negative_threshold": T.NEGATIVE_THRESHOLD,
        "question_factor": T.QUESTION_FACTOR,
        "contrast_before": T.CONTRAST_BEFORE,
        "contrast_after": T.CONTRAST_AFTER,
        "negation_valence": T.NEGATION_VALENCE,
        "lexicon_path": "",
        "model_weight": T.MODEL_WEIGHT,
        "weights_path": "",
        "short_answer_words": T.SHORT_ANSWER_WORDS,
        "faint_factor": T.FAINT_FACTOR,
    },
    requires=["doc._.lp_segments"],
    assigns=["doc._.lp", "doc._.lp_sentiment"],
)
def make_sentiment(
    nlp: Language,
    name: str,
    positive_threshold: float,
    negative_threshold: float,
    question_factor: float,
    contrast_before: float,
    contrast_after: float,
    negation_valence: float,
    lexicon_path: str,
    model_weight: float,
    weights_path: str,
    short_answer_words: int,
    faint_factor: float,
) -> CustomerSentiment:
    return CustomerSentiment(
        nlp,
        name,
        positive_threshold=positive_threshold,
        negative_threshold=negative_threshold,
        question_factor=question_factor,
        contrast_before=contrast_before,
        contrast_after=contrast_after,
        negation_valence=negation_valence,
        lexicon_path=lexicon_path,
        model_weight=model_weight,
        weights_path=weights_path,
        short_answer_words=short_answer_words,
        faint_factor=faint_factor,
    )
