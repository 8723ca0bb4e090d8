"""Segmentation: sentences, then contrast clauses, in one registered component.

`lp_segmenter` does what spaCy's `sentencizer` does (a sentence ends after a run
of sentence-final punctuation; also at a blank line) and then starts a new
segment at a contrast word ("but", "however") with at least `min_tokens` word
tokens on each side inside its sentence, so "setup was easy but the invoice was
wrong" is two segments, each with its own stage and sentiment. It writes the
boundaries to the Doc (`doc.sents` works as usual) and keeps them as token
ranges in `doc._.lp.segments`.

Why not `sentencizer` + a splitter: both walk every token in Python and the
splitter then has to read the boundaries back (measured ~25 us per tweet, about
a third of bare VADER's time per text); this does the same in one pass.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from spacy.language import Language
from spacy.tokens import Doc

from nlp.docview import doc_view, run_batched, spans_from_starts

# Every character `str.isspace` accepts (none lies above U+3000; a test checks).
_SPACE_CHARS = frozenset(chr(c) for c in range(0x3001) if chr(c).isspace())

DEFAULT_PUNCT = [".", "!", "?", "...", "…", "。", "!", "?", "‼", "⁉", "?!", "!?"]


class Segmenter:
    """Sentence and contrast-clause boundaries."""

    def __init__(
        self, name: str, *, punct_chars: list[str], contrast_words: list[str], min_tokens: int
    ) -> None:
        self.name = name
        self.punct = frozenset(punct_chars)
        self.contrast = frozenset(w.lower() for w in contrast_words)
        self.min_tokens = min_tokens
        # First characters of the tokens `boundaries` must look at: punctuation and
        # whitespace (every whitespace character a spaCy whitespace token starts with).
        self._first = frozenset(c for p in self.punct for c in p) | _SPACE_CHARS

    def boundaries(self, words: list[str], lower: list[str]) -> list[int]:
        """Token indices that start a segment, ascending (always includes 0 for a
        non-empty doc)."""
        n = len(words)
        if n == 0:
            return []
        punct = self.punct
        first = self._first
        starts = [0]
        # Only tokens that begin with sentence-final punctuation or whitespace can end
        # a sentence or start one after a blank line; one C-level pass finds them.
        marks = [i for i, word in enumerate(words) if word[0] in first]
        if marks:
            seen_end = False
            last = -1
            for i in marks:
                if seen_end and i > last + 1:
                    # a token that is neither punctuation nor space follows the end
                    starts.append(last + 1)
                    seen_end = False
                word = words[i]
                if word in punct or (word[0] in punct and all(c in punct for c in word)):
                    seen_end = True
                elif seen_end:
                    if not word.isspace():
                        starts.append(i)
                        seen_end = False
                elif word.isspace() and word.count("\n") >= 2 and i + 1 < n:
                    starts.append(i + 1)
                last = i
            if seen_end and last + 1 < n:
                starts.append(last + 1)
        if self.contrast and not self.contrast.isdisjoint(lower):
            starts = self._split_contrast(starts, lower, n)
            return sorted(set(starts))
        return starts

    def _split_contrast(self, starts: list[int], lower: list[str], n: int) -> list[int]:
        out: list[int] = []
        minimum = self.min_tokens
        contrast = self.contrast
        for k, start in enumerate(starts):
            end = starts[k + 1] if k + 1 < len(starts) else n
            out.append(start)
            last = start
            for i in range(start + 1, end):
                if lower[i] in contrast:
                    before = sum(1 for w in lower[last:i] if w.isalnum())
                    after = sum(1 for w in lower[i + 1 : end] if w.isalnum())
                    if before >= minimum and after >= minimum:
                        out.append(i)
                        last = i
        return out

    def pipe(self, stream: Iterable[Doc], *, batch_size: int = 256) -> Iterator[Doc]:
        """`nlp.pipe` runs this component batch by batch (`nlp.docview.run_batched`)."""
        return run_batched(self, stream, batch_size)

    def __call__(self, doc: Doc) -> Doc:
        view = doc_view(doc, segmented=False)
        n = len(view.words)
        if n == 0:
            view.segments = []
            return doc
        starts = self.boundaries(view.words, view.lower)
        self.mark(doc, starts)
        view.segments = spans_from_starts(starts, view.words)
        return doc

    @staticmethod
    def mark(doc: Doc, starts: list[int]) -> None:
        """Write the segment starts to the Doc (`doc.sents`); `doc` is not empty."""
        # Only the starts are written: tokens left unset continue the sentence,
        # so `doc.sents` works, at a fraction of the cost of writing every token.
        # Each write scans the doc for a parse, so token 0 is written only when it is
        # not marked yet: spaCy marks it when it builds the Doc, but a special case
        # retokenized at the start (a text opening with "'") can clear the mark.
        first = doc[0]
        if first.is_sent_start is not True:
            first.is_sent_start = True
        for i in starts[1:]:
            doc[i].is_sent_start = True


@Language.factory(
    "lp_segmenter",
    default_config={
        "punct_chars": DEFAULT_PUNCT,
        "contrast_words": ["but", "however"],
        "min_tokens": 3,
    },
    assigns=["token.is_sent_start", "doc._.lp", "doc._.lp_segments"],
)
def make_segmenter(
    nlp: Language,  # noqa: ARG001  (spaCy passes it to every factory)
    name: str,
    punct_chars: list[str],
    contrast_words: list[str],
    min_tokens: int,
) -> Segmenter:
    return Segmenter(
        name, punct_chars=punct_chars, contrast_words=contrast_words, min_tokens=min_tokens
    )
