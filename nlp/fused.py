"""The fused per-token pass: segmenter, sentiment, stages and themes in one call.

The default pipeline is four spaCy components (`lp_segmenter`, `lp_sentiment`,
`lp_journey_stage`, `lp_themes`), each with its own loop over the tokens and its own
memo lookup per token, run one after the other through `nlp.pipe`. They stay the
pipeline (its config, `analyze_pipes`, `to_disk`, trained pipes after them) and the
tested reference; `FusedPass` does what the four do to a `Doc` with:

- one memo lookup per token, keyed by the token's `orth`: its text, lower form,
  whether it may be part of a theme, whether it is a request action's form, and
  `lp_sentiment`'s own `Lexeme` for it, flat in one tuple. The `DocView` is built
  from these entries (no `token.text` string decoding);
- one loop over each segment's tokens that adds up the sentiment (the lexicon rules
  and the learned weights, as `CustomerSentiment.segment_raw`), cuts the runs of
  content words (as `ThemeExtractor.extract`) and notes the candidate request
  actions (as `JourneyStageMatcher._gather_requests`);
- the rest through the components' own code (`Segmenter.boundaries` and `mark`,
  `CustomerSentiment.assign`, `JourneyStageMatcher.assign`, `ThemeExtractor.phrases`),
  so the phrase matcher, the patterns, the complaint default and the theme phrases
  are the same code on both paths.

`fused_pass(nlp)` gives one only for the default pipe names and component classes
(anything else, e.g. a trained model's pipes, runs the separate components), and
`PipelineEnricher` uses it unless told not to. `tests/nlp/test_fused.py` checks that
both paths give identical `DocView`s and `Enrichment`s on the project's fixtures and
on generated text.
"""

from __future__ import annotations

import math
from typing import Any

from spacy.language import Language
from spacy.tokens import Doc

from nlp.docview import _KEY, DocView, spans_from_starts
from nlp.redaction import REDACTIONS_KEY, TEXT_KEY
from nlp.segmentation import Segmenter
from nlp.sentiment import _MAX_PHRASE, CustomerSentiment, _is_question, has_digit
from nlp.stages import JourneyStageMatcher
from nlp.themes import ThemeExtractor
from nlp.word_weights import NEGATOR, SCOPE, SKIP, WORD

FUSED_PIPES = ("lp_segmenter", "lp_sentiment", "lp_journey_stage", "lp_themes")
"""The pipe names (and order) the fused pass replaces."""

_MAX_ENTRIES = 50_000
"""Words memoised (not those with a digit: `nlp.sentiment.has_digit`)."""

_AT_HASH = ("@", "#")

# Offsets in an entry: text, lower, theme content, request action form, then the
# sentiment `Lexeme` (nlp.sentiment._lexeme) from offset 4.
_L = 4

Entry = tuple[Any, ...]


class FusedPass:
    """Segmenter + sentiment + stages + themes over one `Doc`, in one pass per token.

    Writes the same `DocView` (`doc._.lp`) and sentence starts as the four components."""

    def __init__(
        self,
        nlp: Language,
        segmenter: Segmenter,
        sentiment: CustomerSentiment,
        stages: JourneyStageMatcher,
        themes: ThemeExtractor,
    ) -> None:
        self.segmenter = segmenter
        self.sentiment = sentiment
        self.stages = stages
        self.themes = themes
        self._strings = nlp.vocab.strings
        self._entries: dict[int, Entry] = {}
        self._built_for: tuple[object, object, object] = (None, None, None)

    def _fresh(self) -> dict[int, Entry]:
        """The entry memo, emptied when a component rebuilt a table an entry copies
        (`CustomerSentiment._build`, `ThemeExtractor.set_never`, `set_journey`)."""
        tables = (self.sentiment._lexemes, self.themes._never, self.stages._action_forms)
        built = self._built_for
        if tables[0] is not built[0] or tables[1] is not built[1] or tables[2] is not built[2]:
            self._entries = {}
            self._built_for = tables
        return self._entries

    def _entry(self, orth: int, entries: dict[int, Entry]) -> Entry:
        word: str = self._strings[orth]
        lower = word.lower()
        info = self.sentiment._lexemes.get(lower)
        if info is None:
            info = self.sentiment._lexeme(lower)
        entry = (
            word,
            lower,
            self.themes.content_ok(lower),
            lower in self.stages._action_forms,
            *info,
        )
        if len(entries) < _MAX_ENTRIES and not has_digit(word):
            entries[orth] = entry
        return entry

    def __call__(self, doc: Doc) -> Doc:
        self.run([doc])
        return doc

    def run(self, docs: list[Doc]) -> None:
        """The pass over a batch of docs, in three steps each over the whole batch
        (tokens, then stage evidence, then theme phrases), as `nlp.pipe` runs the
        separate components batch by batch (`nlp.docview.run_batched`): each step's
        code and tables stay hot across the batch."""
        entries = self._fresh()
        found_runs = [self._tokens(doc, entries) for doc in docs]
        assign = self.stages.assign
        for doc, (view, _runs, _segments, candidates) in zip(docs, found_runs, strict=True):
            assign(doc, view, candidates)
        phrases = self.themes.phrases
        for view, runs, run_segment, _candidates in found_runs:
            view.themes, view.segment_themes = phrases(len(view.segments), runs, run_segment)

    def _tokens(
        self, doc: Doc, entries: dict[int, Entry]
    ) -> tuple[DocView, list[tuple[str, ...]], list[int], list[int]]:
        """The view, segments and sentiment of `doc`, with its theme runs (and the
        segment of each) and its request candidates for the later steps."""
        found: list[Entry] = []
        idx: list[int] = []
        add = found.append
        add_idx = idx.append
        for token in doc:
            entry = entries.get(token.orth)
            if entry is None:
                entry = self._entry(token.orth, entries)
            add(entry)
            add_idx(token.idx)
        words = [e[0] for e in found]
        lower = [e[1] for e in found]
        data = doc.user_data
        text = data.get(TEXT_KEY)
        if not isinstance(text, str):
            text = doc.text
        redactions = data.get(REDACTIONS_KEY)
        view = DocView(
            text,
            words,
            lower,
            idx,
            [],
            redactions if isinstance(redactions, dict) else {},
            [],
            None,
            [],
            (),
            [],
            None,
        )
        data[_KEY] = view
        if words:
            starts = self.segmenter.boundaries(words, lower)
            self.segmenter.mark(doc, starts)
            view.segments = spans_from_starts(starts, words)
        runs: list[tuple[str, ...]] = []
        run_segment: list[int] = []
        candidates: list[int] = []
        all_caps_text = text.isupper()
        raws = [
            self._segment(
                found, words, lower, start, end, index, all_caps_text, runs, run_segment, candidates
            )
            for index, (start, end) in enumerate(view.segments)
        ]
        self.sentiment.assign(view, raws)
        return view, runs, run_segment, candidates

    def _segment(
        self,
        found: list[Entry],
        words: list[str],
        lower: list[str],
        start: int,
        end: int,
        segment_index: int,
        all_caps_text: bool,
        runs: list[tuple[str, ...]],
        run_segment: list[int],
        candidates: list[int],
    ) -> float:
        """One segment's raw sentiment (`CustomerSentiment.segment_raw`: same floats,
        added in the same order), with its theme runs and request candidates noted
        on the way."""
        sentiment = self.sentiment
        texts = words[start:end]
        seg_lower = lower[start:end]
        n = end - start
        by_lower = sentiment._by_lower
        by_lemma = sentiment._by_lemma
        valences = [0.0] * n
        pending: list[int] = []
        contrast_at = -1
        skip_to = 0
        learned = 0.0
        negated = 0
        form_pairs = sentiment._form_pairs
        lemma_pairs = sentiment._lemma_pairs
        bigrams = sentiment._scorer.bigrams
        follow: str | None = None
        run: list[str] = []
        weight: float | None = None
        leads = False
        for i in range(n):
            a = start + i
            info = found[a]
            word = info[1]
            # themes: runs of content words (ThemeExtractor.extract)
            if info[2] and (a == 0 or lower[a - 1] not in _AT_HASH):
                run.append(word)
            elif run:
                runs.append(tuple(run))
                run_segment.append(segment_index)
                run = []
            # stages: a request action's form (JourneyStageMatcher._gather_requests)
            if info[3]:
                candidates.append(a)
            # sentiment: the learned weights, then the lexicon rules (segment_raw)
            kind = info[_L + 4]
            if kind == WORD:
                if negated:
                    feature, weight, leads = info[_L + 8], info[_L + 9], info[_L + 10]
                    negated -= 1
                else:
                    feature, weight, leads = info[_L + 5], info[_L + 6], info[_L + 7]
            elif kind == SKIP:
                feature = None
            elif kind == SCOPE:
                negated = 0
                follow = feature = None
            else:
                if kind == NEGATOR:
                    negated = 3
                feature, weight, leads = info[_L + 5], info[_L + 6], info[_L + 7]
            if feature is not None:
                if weight is not None:
                    learned += weight
                if follow is not None:
                    weight = bigrams[follow].get(feature)
                    if weight is not None:
                        learned += weight
                follow = feature if leads else None
            if i < skip_to or not info[_L + 12]:
                continue
            value: float | None = None
            starts = info[_L + 1]
            if starts and i + 1 < n:
                following = found[a + 1]
                by_form = starts & 1 and (word, following[1]) in form_pairs
                by_lemmas = bool(starts & 2) and (info[_L + 11], following[_L + 11]) in lemma_pairs
                if by_form or by_lemmas:
                    widest = min(_MAX_PHRASE, n - i)
                    window: list[str] | None = None
                    for w in range(widest, 1, -1):
                        if by_form:
                            value = by_lower.get(tuple(seg_lower[i : i + w]))
                        if value is None and by_lemmas:
                            if window is None:
                                window = [e[_L + 11] for e in found[a : a + widest]]
                            value = by_lemma.get(tuple(window[:w]))
                        if value is not None:
                            skip_to = i + w
                            break
            if value is None:
                value = info[_L]
            if value:
                valences[i] = sentiment._modify(value, i, texts, seg_lower, all_caps_text)
            elif info[_L + 2] and sentiment.negation_valence:
                if not (i and valences[i - 1]):
                    pending.append(i)
            elif info[_L + 3] and 0 < i < n - 1:
                contrast_at = i
        if run:
            runs.append(tuple(run))
            run_segment.append(segment_index)
        for k in pending:
            if not any(valences[k + 1 : k + 4]):
                valences[k] = sentiment.negation_valence
        if contrast_at > 0:
            before, after = sentiment.contrast_before, sentiment.contrast_after
            for k in range(n):
                valences[k] *= before if k < contrast_at else after
        raw = sum(valences)
        question = _is_question(seg_lower)
        if raw:
            bangs = (
                min(sum(t.count("!") for t in seg_lower if t[0] == "!"), 4)
                if "!" in "".join(seg_lower)
                else 0
            )
            if bangs:
                raw += math.copysign(bangs * 0.292, raw)
            elif question:
                raw *= sentiment.question_factor
        if sentiment.weights:
            learned = sentiment.model_weight * learned
            if question:
                learned *= sentiment.question_factor
            raw += learned
        return raw


def fused_pass(nlp: Language) -> FusedPass | None:
    """The fused pass for `nlp`, or None when its pipes are not exactly the default
    four (names, order and classes): then only the separate components know what to do."""
    if tuple(nlp.pipe_names) != FUSED_PIPES:
        return None
    pipes = [nlp.get_pipe(name) for name in FUSED_PIPES]
    classes = (Segmenter, CustomerSentiment, JourneyStageMatcher, ThemeExtractor)
    if any(type(pipe) is not cls for pipe, cls in zip(pipes, classes, strict=True)):
        return None
    segmenter, sentiment, stages, themes = pipes
    assert isinstance(segmenter, Segmenter)
    assert isinstance(sentiment, CustomerSentiment)
    assert isinstance(stages, JourneyStageMatcher)
    assert isinstance(themes, ThemeExtractor)
    return FusedPass(nlp, segmenter, sentiment, stages, themes)


__all__ = ["FUSED_PIPES", "FusedPass", "fused_pass"]
