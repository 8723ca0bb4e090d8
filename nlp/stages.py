"""Journey stage per segment and per item, from the configured journey.

`lp_journey_stage` reads nothing but the `Journey` it is given (stage keys are
never hard-coded here) and collects evidence for each segment of `doc._.lp.segments`:

- **phrase**: the stage's `phrases`, matched with a spaCy `PhraseMatcher` on
  `LOWER`, each phrase expanded to the inflections that share its light lemma
  (`nlp.lemma.inflections`), so "signed up" matches "sign up" with no lemma
  written on any token. A longer match hides the shorter ones inside it
  ("cancel my subscription" beats "cancel"). Weight `phrase_weight` +
  `phrase_length_bonus` per extra token.
- **pattern**: the stage's regular expressions, case-insensitive, on the text;
  a match counts for the segment it starts in. Weight `pattern_weight`.
- **example**: content words that occur in the stage's example sentences and in
  no more than two stages' examples. Weight `example_weight` each; 0 (off) by
  default, because on the tune splits it lowered macro-F1 (airline 0.474 -> 0.461,
  Bitext 0.443 -> 0.427): a journey with very distinctive examples may turn it on.

- **request**: the action right after one of the journey's `request_frames` ("I'd
  like to *book* a room", "how do I *cancel*", "help me *set up*") looked up in the
  stages' `requests` (light lemmas, two words before one): the stage of what is
  asked for, weight `request_weight` (2.0, more than any one phrase), whatever nouns
  the request names. The frame and the action hide the phrases inside them (use's
  "cancel" in "how do I cancel"). Tune splits (airline tune, Bitext train+dev,
  banking77 train), before -> after the request rules and the frames of the
  default journey: airline 0.555 -> 0.553, Bitext 0.601 -> 0.641, banking77 0.377
  -> 0.367 (banking's "cancel a transfer" is use in the mapping).

- **complaint**: a text with no evidence at all whose sentiment score is at most
  `complaint_below` (a complaint that names no stage: "3 hours and counting, no
  word from anyone") gets `complaint_weight` for the journey's `complaint_stage`,
  on its most negative segment. The default journey files such complaints under
  "use": on the tune splits a negative text without stage words is most often
  about the product or service in use (stage macro-F1 without -> with: airline
  0.535 -> 0.548, banking77 0.357 -> 0.377, Bitext 0.580 -> 0.571, where requests
  rarely read negative; `complaint_below` -0.3 instead of the sentiment's own
  negative bound -0.1 gives 0.545 / 0.366 / 0.576). Weight 0.5 gives confidence
  0.39: above the default threshold, below any phrase's.

The best stage wins; confidence = share of the evidence * (1 - exp(-score)), in
[0, 1). Below `threshold`, or with no evidence at all, the decision is
`unassigned` (never forced). The item decision pools the evidence of all its
segments. Source hints and a trained classifier's call (`doc.cats`) are applied
later, by the enricher (`nlp.pipeline`).
"""

from __future__ import annotations

import itertools
import json
import math
import os
import re
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from spacy.lang.en.stop_words import STOP_WORDS
from spacy.language import Language
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc
from spacy.util import SimpleFrozenList, ensure_path

from nlp import thresholds as T
from nlp.docview import DocView, doc_view, run_batched
from nlp.enrichment import UNASSIGNED, StageDecision
from nlp.journey import Journey, parse_journey, resolve_journey
from nlp.lemma import inflections, light_lemma

_MAX_VARIANTS = 256


@dataclass(slots=True)
class StageEvidence:
    """Evidence gathered for one piece of text: score, words and rules per stage."""

    scores: dict[str, float] = field(default_factory=dict)
    evidence: dict[str, list[str]] = field(default_factory=dict)
    methods: dict[str, set[str]] = field(default_factory=dict)

    def add(self, stage: str, weight: float, what: str, method: str) -> None:
        self.scores[stage] = self.scores.get(stage, 0.0) + weight
        words = self.evidence.setdefault(stage, [])
        if what not in words:
            words.append(what)
        self.methods.setdefault(stage, set()).add(method)

    def merge(self, other: StageEvidence) -> None:
        for stage, score in other.scores.items():
            self.scores[stage] = self.scores.get(stage, 0.0) + score
            words = self.evidence.setdefault(stage, [])
            words.extend(w for w in other.evidence.get(stage, []) if w not in words)
            self.methods.setdefault(stage, set()).update(other.methods.get(stage, set()))


def required_literals(pattern: str) -> tuple[str, ...] | None:
    """Lower-cased strings of which every match of `pattern` contains at least one,
    or None when we cannot tell. Used to skip a regex on texts that cannot match:
    `"in" in text` costs a fraction of a regex scan.

    Reads the pattern with the stdlib's own regex parser (`re._parser`); any
    surprise there just turns the pre-check off for that pattern."""
    try:
        from re import _parser  # type: ignore[attr-defined]

        parsed = _parser.parse(pattern, re.IGNORECASE)
        literal, subpattern, branch = _parser.LITERAL, _parser.SUBPATTERN, _parser.BRANCH
    except Exception:  # an optional optimisation: never fatal
        return None

    def leading(items: Any) -> str:
        chars: list[str] = []
        for op, arg in items:
            if op is not literal:
                break
            chars.append(chr(arg))
        return "".join(chars).lower()

    candidates: list[tuple[str, ...]] = []
    run: list[str] = []
    for op, arg in list(parsed.data) + [(None, None)]:
        if op is literal:
            run.append(chr(arg))
            continue
        if run:
            candidates.append(("".join(run).lower(),))
            run = []
        if op is subpattern:
            body = list(arg[-1].data if hasattr(arg[-1], "data") else arg[-1])
            if len(body) == 1 and body[0][0] is branch:
                alternatives = tuple(leading(alt) for alt in body[0][1][1])
                if all(alternatives):
                    candidates.append(alternatives)
            elif leading(body):
                candidates.append((leading(body),))
    usable = [c for c in candidates if min(len(a) for a in c) >= 3]
    if not usable:
        return None
    return max(usable, key=lambda c: min(len(a) for a in c))


def required_chars(pattern: str) -> tuple[str, ...] | None:
    """For a pattern `required_literals` cannot gate: the characters of a top-level
    class of caseless literal characters (`[$€£]`), one of which every match
    contains; None when there is no such class."""
    try:
        from re import _parser  # type: ignore[attr-defined]

        parsed = _parser.parse(pattern, re.IGNORECASE)
        literal, in_ = _parser.LITERAL, _parser.IN
    except Exception:  # an optional optimisation: never fatal
        return None
    for op, arg in parsed.data:
        if op is in_ and arg and all(item_op is literal for item_op, _ in arg):
            chars = tuple(chr(code) for _, code in arg)
            if all(c.lower() == c == c.upper() for c in chars):
                return chars
    return None


def pattern_gate(pattern: str) -> tuple[str, ...] | None:
    """Strings one of which the lower-cased text must contain for `pattern` to match
    (`required_literals`, else `required_chars`, then `compact_gate`), or None to
    always run it."""
    literals = required_literals(pattern)
    gate = literals if literals is not None else required_chars(pattern)
    return compact_gate(gate) if gate is not None else None


def compact_gate(gate: Sequence[str]) -> tuple[str, ...]:
    """Fewer strings for the same gate: literals sharing a prefix of 4+ characters
    become that prefix ("close", "closing" -> "clos"), and a literal that contains
    another one is dropped. Each result is a substring of a literal it replaces, so
    a text holding any of `gate` still holds one of the result (it may let a few more
    texts through to the regex; never fewer)."""
    merged: list[str] = []
    for literal in sorted(set(gate)):
        if merged:
            prefix = os.path.commonprefix([merged[-1], literal])
            if len(prefix) >= 4:
                merged[-1] = prefix
                continue
        merged.append(literal)
    return tuple(a for a in merged if not any(b != a and b in a for b in merged))


def _passes(gate: tuple[str, ...], lowered: str) -> bool:
    """Does `lowered` contain any of `gate`? (`in` is a C substring search, several
    times faster than one regex alternation over the text.) `_gather` inlines it."""
    for literal in gate:
        if literal in lowered:
            return True
    return False


_REQUEST_FILLERS = "please|pls|plz|just|also|kindly|quickly|to|me|us|you|with|on|how"
"""Words allowed between a request frame and the action ("help me *to* cancel")."""

_REQUEST_WINDOW = 50


def frame_words(frames: Sequence[str]) -> frozenset[str] | None:
    """Every word written in the request frames, plus the fillers: the word right
    before an action in any frame match is one of them (a frame ends in a word it
    spells out). None, so no gate, when a frame matches words it does not spell
    (`\\w`, `\\S`, `.`)."""
    words: set[str] = set(_REQUEST_FILLERS.split("|"))
    for frame in frames:
        if re.search(r"\\[wWSdD]|(?<!\\)\.", frame):
            return None
        plain = re.sub(r"\\.", " ", frame.lower())
        words.update(re.findall(r"[a-z0-9']+", plain))
        # "problems?", "don'?t": the word without its optional last letter too
        words.update(w[:-1] for w in re.findall(r"([a-z0-9']+)\?", plain) if len(w) > 1)
    return frozenset(words)


"""Characters before a candidate action searched for a request frame."""

_EMPTY = StageEvidence()
"""Shared placeholder for segments without evidence: never mutated."""


def pool(segments: Iterable[StageEvidence]) -> StageEvidence:
    """The evidence of a whole item: its segments' evidence added up."""
    pooled = StageEvidence()
    for found in segments:
        if found.scores:
            pooled.merge(found)
    return pooled


NO_EVIDENCE = StageDecision(UNASSIGNED, 0.0, "none")

_DECISIONS: dict[tuple[str, float, str, tuple[str, ...]], StageDecision] = {}
_MAX_DECISIONS = 50_000


def _decision(
    stage: str, confidence: float, method: str, evidence: tuple[str, ...]
) -> StageDecision:
    """A shared `StageDecision` (immutable) for these values: a frozen dataclass's
    `__init__` costs ~10x a dict lookup, and most decisions repeat one seen before."""
    key = (stage, confidence, method, evidence)
    known = _DECISIONS.get(key)
    if known is None:
        known = StageDecision(stage, confidence, method, evidence)
        if len(_DECISIONS) < _MAX_DECISIONS:
            _DECISIONS[key] = known
    return known


def decide(
    found: StageEvidence,
    *,
    order: Sequence[str],
    threshold: float,
    rank: dict[str, int] | None = None,
) -> StageDecision:
    """Turn evidence into a decision; `unassigned` when there is none or too little.
    `rank` (stage -> position in `order`) may be passed precomputed."""
    if rank is None:
        rank = {key: i for i, key in enumerate(order)}
    return decide_ranked(found, rank, threshold)


def decide_ranked(found: StageEvidence, rank: dict[str, int], threshold: float) -> StageDecision:
    """`decide` with the stage ranks given, called positionally: the enricher calls it
    once or twice per text, and keyword passing costs more than the rest of the call."""
    scores = found.scores
    if not scores:
        return NO_EVIDENCE
    best = _best(scores, rank)
    return _conclude(best, scores, found.evidence.get(best, ()), found.methods.get(best), threshold)


def _best(scores: dict[str, float], rank: dict[str, int]) -> str:
    """The highest-scoring stage; a tie goes to the earlier stage of the journey."""
    if len(scores) == 1:
        return next(iter(scores))
    return min(scores, key=lambda k: (-scores[k], rank.get(k, len(rank))))


def decide_pooled(
    segments: Sequence[StageEvidence], rank: dict[str, int], threshold: float
) -> StageDecision:
    """`decide_ranked(pool(segments), ...)` without pooling the words and rules of
    every stage: only the winner's are gathered (tests/nlp/test_speed_stages.py)."""
    scores: dict[str, float] = {}
    for found in segments:
        for stage, score in found.scores.items():
            scores[stage] = scores.get(stage, 0.0) + score
    if not scores:
        return NO_EVIDENCE
    best = _best(scores, rank)
    words: list[str] = []
    methods: set[str] = set()
    for found in segments:
        if best in found.scores:
            for word in found.evidence.get(best, ()):
                if word not in words:
                    words.append(word)
            methods.update(found.methods.get(best, ()))
    return _conclude(best, scores, words, methods, threshold)


def _conclude(
    best: str,
    scores: dict[str, float],
    evidence: Iterable[str],
    methods: set[str] | None,
    threshold: float,
) -> StageDecision:
    """The decision for `best` among `scores`, with its words and rules."""
    score = scores[best]
    total = sum(scores.values())
    confidence = round((score / total) * (1.0 - math.exp(-score)), 4)
    words = tuple(evidence)
    if confidence < threshold:
        return _decision(UNASSIGNED, confidence, "below_threshold", words)
    if methods is None:
        method = "phrase"
    elif len(methods) == 1:
        (method,) = methods
    else:
        method = "+".join(sorted(methods))
    return _decision(best, confidence, method, words)


def journey_to_data(journey: Journey) -> dict[str, Any]:
    data: dict[str, Any] = asdict(journey)
    return data


class JourneyStageMatcher:
    """spaCy component: `doc._.lp.segment_stages` (one `StageEvidence` per
    segment of `doc._.lp.segments`); `pool` gives the item's evidence.
    Use `decide` (or the enricher) to turn them into `StageDecision`s."""

    def __init__(
        self,
        nlp: Language,
        name: str,
        *,
        threshold: float,
        phrase_weight: float,
        phrase_length_bonus: float,
        pattern_weight: float,
        example_weight: float,
        journey_path: str,
        journey_ref: str = "",
        complaint_weight: float = T.COMPLAINT_WEIGHT,
        complaint_below: float = T.COMPLAINT_BELOW,
        request_weight: float = T.REQUEST_WEIGHT,
    ) -> None:
        self.name = name
        self.vocab = nlp.vocab
        self._make_doc = nlp.make_doc
        self.threshold = threshold
        self.phrase_weight = phrase_weight
        self.phrase_length_bonus = phrase_length_bonus
        self.pattern_weight = pattern_weight
        self.example_weight = example_weight
        self.complaint_weight = complaint_weight
        self.complaint_below = complaint_below
        self.request_weight = request_weight
        self._request_re: re.Pattern[str] | None = None
        self._requests: dict[tuple[str, ...], tuple[str, ...]] = {}
        self._action_forms: frozenset[str] = frozenset()
        # The journey comes from the config: an in-process reference (build_nlp), a
        # path, or the default (then a saved pipeline restores its own in from_disk).
        self.journey, self._configured = resolve_journey(ref=journey_ref, path=journey_path)
        self.matcher = PhraseMatcher(self.vocab, attr="LOWER")
        self._patterns: list[tuple[str, re.Pattern[str], tuple[str, ...] | None]] = []
        self._example_words: dict[str, tuple[str, ...]] = {}
        self._order: tuple[str, ...] = ()
        self._rank: dict[str, int] = {}
        self.set_journey(self.journey)

    @property
    def order(self) -> tuple[str, ...]:
        return self._order

    def _phrase_docs(self, phrase: str) -> list[Doc]:
        """`phrase` and its inflected variants as pattern docs for a LOWER matcher."""
        words = [t.lower_ for t in self._make_doc(phrase)]
        if not words:
            return []
        # Each word's own form first, so the phrase as written is always a variant.
        options = [[w, *sorted(inflections(w) - {w})] if len(w) > 1 else [w] for w in words]
        if math.prod(len(o) for o in options) <= _MAX_VARIANTS:
            combos: Iterable[Sequence[str]] = itertools.product(*options)
        else:
            # Too many combinations ("waiting for my refund" has 567): inflect one
            # word at a time. (Taking the first 256 of the product used to drop the
            # phrase's own form.)
            combos = [words] + [
                [*words[:i], alt, *words[i + 1 :]]
                for i, forms in enumerate(options)
                for alt in forms[1:]
            ]
        return [Doc(self.vocab, words=list(combo)) for combo in combos]

    def set_journey(self, journey: Journey) -> None:
        """(Re)build the matchers for `journey`."""
        self.journey = journey
        self._order = journey.keys
        self._rank = {key: i for i, key in enumerate(journey.keys)}
        self.matcher = PhraseMatcher(self.vocab, attr="LOWER")
        example_stages: dict[str, set[str]] = {}
        phrase_lemmas: set[str] = set()
        patterns: list[tuple[str, re.Pattern[str], tuple[str, ...] | None]] = []
        for stage in journey.stages:
            docs = [d for p in stage.phrases for d in self._phrase_docs(p)]
            if docs:
                self.matcher.add(stage.key, docs)
            for phrase in stage.phrases:
                phrase_lemmas.update(light_lemma(t.lower_) for t in self._make_doc(phrase))
            patterns.extend(
                (stage.key, re.compile(p, re.IGNORECASE), pattern_gate(p)) for p in stage.patterns
            )
            for example in stage.examples:
                for token in self._make_doc(example):
                    word = token.lower_
                    if word.isalpha() and len(word) > 2 and word not in STOP_WORDS:
                        example_stages.setdefault(light_lemma(word), set()).add(stage.key)
        self._patterns = patterns
        # A frame ending right before a candidate action (and the fillers after it).
        self._request_re = (
            re.compile(
                r"\b(?:"
                + "|".join(f"(?:{f})" for f in journey.request_frames)
                + rf")\b(?:\s+(?:{_REQUEST_FILLERS})\b)*\s*$",
                re.IGNORECASE,
            )
            if journey.request_frames
            else None
        )
        requests: dict[tuple[str, ...], list[str]] = {}
        for stage in journey.stages:
            for action in stage.requests:
                key = tuple(light_lemma(t.lower_) for t in self._make_doc(action))
                if stage.key not in requests.setdefault(key, []):
                    requests[key].append(stage.key)
        self._requests = {key: tuple(stages) for key, stages in requests.items()}
        # Lower-case forms an action's first word can take: a text with none of them
        # holds no request (one C-level set test per text).
        self._action_forms = frozenset(
            form
            for action in requests
            for stage in journey.stages
            for written in stage.requests
            if tuple(light_lemma(t.lower_) for t in self._make_doc(written)) == action
            for form in inflections(self._make_doc(written)[0].lower_) | {written.split()[0]}
        )
        self._frame_words = frame_words(journey.request_frames)
        rank = {key: i for i, key in enumerate(journey.keys)}
        self._example_words = {
            lemma: tuple(sorted(stages, key=rank.__getitem__))
            for lemma, stages in example_stages.items()
            if len(stages) <= 2 and lemma not in phrase_lemmas
        }

    def pipe(self, stream: Iterable[Doc], *, batch_size: int = 256) -> Iterator[Doc]:
        """`nlp.pipe` runs this component batch by batch (`nlp.docview.run_batched`)."""
        return run_batched(self, stream, batch_size)

    def __call__(self, doc: Doc) -> Doc:
        self.assign(doc, doc_view(doc))
        return doc

    def assign(self, doc: Doc, view: DocView, candidates: list[int] | None = None) -> None:
        """Write each segment's evidence on `view` (`view.segment_stages`).
        `candidates`: the token indices whose word is a request action's form
        (`_action_forms`), ascending, when the caller already knows them (the fused
        pass, `nlp.fused`); None finds them here."""
        segments = view.segments
        per_segment = [_EMPTY] * len(segments)
        view.segment_stages = per_segment

        def at(index: int) -> StageEvidence:
            found = per_segment[index]
            if found is _EMPTY:
                found = per_segment[index] = StageEvidence()
            return found

        if not segments:
            return
        self._gather(doc, view, at, candidates)
        complaint = self.journey.complaint_stage
        if (
            complaint is not None
            and self.complaint_weight > 0
            and view.sentiment is not None
            and view.sentiment.score <= self.complaint_below
            and all(found is _EMPTY for found in per_segment)
        ):
            scores = view.segment_sentiment
            worst = min(range(len(segments)), key=lambda i: scores[i].score) if scores else 0
            at(worst).add(complaint, self.complaint_weight, "complaint", "complaint")

    def _gather(
        self,
        doc: Doc,
        view: DocView,
        at: Callable[[int], StageEvidence],
        candidates: list[int] | None = None,
    ) -> None:
        """Phrase, pattern and example evidence, added to each segment through `at`."""
        segments = view.segments
        matches = self.matcher(doc)
        if (
            not matches
            and not self._patterns
            and self._request_re is None
            and self.example_weight <= 0
        ):
            return
        # segment starts in tokens and characters, for texts of several segments
        seg_starts: list[int] | None = None
        char_starts: list[int] | None = None
        if len(segments) > 1:
            seg_starts = [start for start, _end in segments]
            char_starts = [view.idx[start] for start in seg_starts]
        text = view.text
        # Pattern matches first: a phrase inside a longer pattern match is hidden by
        # it, as a shorter phrase is by a longer one ("cancel ... account" is one
        # renew cue, not also "cancel" and "account" for use).
        covers: list[tuple[int, int]] = []
        if self._request_re is not None and self.request_weight > 0:
            self._gather_requests(view, char_starts, at, covers, candidates)
        if self._patterns:
            lowered = text.lower()
            for key, pattern, gate in self._patterns:
                if gate is not None:  # `_passes`, inlined: one call less per pattern
                    for literal in gate:
                        if literal in lowered:
                            break
                    else:
                        continue
                for m in pattern.finditer(text):
                    if m.group(0):
                        segment = (
                            0
                            if char_starts is None
                            else max(bisect_right(char_starts, m.start()) - 1, 0)
                        )
                        at(segment).add(key, self.pattern_weight, m.group(0).lower(), "pattern")
                        covers.append(m.span())
        # Longest matches first; a token claimed by a longer span is not matched again,
        # but two stages sharing the very same span both count.
        claimed: list[tuple[int, int] | None] = (
            [None] * len(doc) if matches or self.example_weight > 0 else []
        )
        strings = self.vocab.strings
        lower = view.lower
        if len(matches) > 1:
            matches = sorted(matches, key=lambda m: (-(m[2] - m[1]), m[1]))
        for match_id, start, end in matches:
            span_id = (start, end)
            if any(c is not None and c != span_id for c in claimed[start:end]):
                continue
            for i in range(start, end):
                claimed[i] = span_id
            first, last = view.char_span(start, end)
            if covers and any(a <= first and last <= b and last - first < b - a for a, b in covers):
                continue
            weight = self.phrase_weight + self.phrase_length_bonus * (end - start - 1)
            segment = 0 if seg_starts is None else max(bisect_right(seg_starts, start) - 1, 0)
            words = text[first:last].lower()
            at(segment).add(strings[match_id], weight, words, "phrase")
        if self.example_weight > 0 and self._example_words:
            known = self._example_words
            lemmas = view.lemmas
            for index, (start, end) in enumerate(segments):
                for i in range(start, end):
                    stages = known.get(lemmas[i])
                    if stages and claimed[i] is None and lower[i].isalpha():
                        for key in stages:
                            at(index).add(key, self.example_weight, lower[i], "example")

    def _gather_requests(
        self,
        view: DocView,
        char_starts: list[int] | None,
        at: Callable[[int], StageEvidence],
        covers: list[tuple[int, int]],
        candidates: list[int] | None = None,
    ) -> None:
        """Requests and questions about doing something: the action right after a
        request frame ("I'd like to *book*", "how do I *cancel*", "help me *set up*")
        names the stage of what is asked for; the words of the frame and the action
        are covered, so a phrase inside them (use's "cancel") does not count too."""
        pattern = self._request_re
        assert pattern is not None
        lower = view.lower
        if candidates is None:
            forms = self._action_forms
            if forms.isdisjoint(lower):
                return
            candidates = [i for i, word in enumerate(lower) if word in forms]
        elif not candidates:
            return
        text = view.text
        idx = view.idx
        n = len(idx)
        requests = self._requests
        before = self._frame_words
        lemma = light_lemma
        for i in candidates:
            word = lower[i]
            first = lemma(word)
            width = 2
            stages = requests.get((first, lemma(lower[i + 1]))) if i + 1 < n else None
            if stages is None:
                width = 1
                stages = requests.get((first,))
            if not stages:
                continue
            if before is not None:
                # The word before the action must be a frame's (or a filler): most
                # candidates ("the use of", "my order") stop here, before any regex.
                j = i - 1
                while j >= 0 and lower[j].isspace():
                    j -= 1
                if j < 0 or lower[j] not in before:
                    continue
            begin = idx[i]
            window = max(0, begin - _REQUEST_WINDOW)
            m = pattern.search(text, window, begin)
            if m is None:
                continue
            last = i + width - 1
            end = idx[last] + len(lower[last])
            segment = 0 if char_starts is None else max(bisect_right(char_starts, m.start()) - 1, 0)
            words = " ".join(lower[i : last + 1])
            for key in stages:
                at(segment).add(key, self.request_weight, words, "request")
            covers.append((m.start(), end))

    def decide(self, found: StageEvidence) -> StageDecision:
        return decide_ranked(found, self._rank, self.threshold)

    def decide_pooled(self, segments: Sequence[StageEvidence]) -> StageDecision:
        """`decide(pool(segments))`, gathering only the winner's words and rules."""
        return decide_pooled(segments, self._rank, self.threshold)

    # -- serialisation -------------------------------------------------------------
    def to_disk(self, path: str | Path, *, exclude: Iterable[str] = SimpleFrozenList()) -> None:  # noqa: ARG002
        target = ensure_path(path)
        target.mkdir(parents=True, exist_ok=True)
        (target / "journey.json").write_text(
            json.dumps(journey_to_data(self.journey), indent=1), encoding="utf-8"
        )

    def from_disk(
        self,
        path: str | Path,
        *,
        exclude: Iterable[str] = SimpleFrozenList(),  # noqa: ARG002
    ) -> JourneyStageMatcher:
        if self._configured:
            return self  # the config named the journey: it wins over the saved one
        source = ensure_path(path) / "journey.json"
        data = json.loads(source.read_text(encoding="utf-8"))
        self.set_journey(parse_journey(data, source=str(source)))
        return self


@Language.factory(
    "lp_journey_stage",
    default_config={
        "threshold": T.STAGE_THRESHOLD,
        "phrase_weight": T.PHRASE_WEIGHT,
        "phrase_length_bonus": T.PHRASE_LENGTH_BONUS,
        "pattern_weight": T.PATTERN_WEIGHT,
        "example_weight": T.EXAMPLE_WEIGHT,
        "journey_path": "",
        "journey_ref": "",
        "complaint_weight": T.COMPLAINT_WEIGHT,
        "complaint_below": T.COMPLAINT_BELOW,
        "request_weight": T.REQUEST_WEIGHT,
    },
    # the complaint default reads the item's sentiment
    requires=["doc._.lp_segments", "doc._.lp_sentiment"],
    assigns=["doc._.lp", "doc._.lp_stages"],
)
def make_journey_stage(
    nlp: Language,
    name: str,
    threshold: float,
    phrase_weight: float,
    phrase_length_bonus: float,
    pattern_weight: float,
    example_weight: float,
    journey_path: str,
    journey_ref: str,
    complaint_weight: float,
    complaint_below: float,
    request_weight: float,
) -> JourneyStageMatcher:
    return JourneyStageMatcher(
        nlp,
        name,
        threshold=threshold,
        phrase_weight=phrase_weight,
        phrase_length_bonus=phrase_length_bonus,
        pattern_weight=pattern_weight,
        example_weight=example_weight,
        journey_path=journey_path,
        journey_ref=journey_ref,
        complaint_weight=complaint_weight,
        complaint_below=complaint_below,
        request_weight=request_weight,
    )
