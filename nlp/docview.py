"""One pass over a Doc's tokens, shared by every Listening Path component.

Iterating spaCy `Token`s and going through `doc._` costs more than the work our
components do per token, so the first component that needs them builds a
`DocView` (plain Python lists) and caches it in `doc.user_data`; components
write their results on it too, and `doc._.lp` reads it back.

Segments are token ranges `[start, end)` without leading/trailing whitespace
tokens, one per sentence of `doc.sents` that holds any non-space token.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from spacy.attrs import SENT_START
from spacy.tokens import Doc

from nlp.lemma import light_lemma
from nlp.redaction import REDACTIONS_KEY, TEXT_KEY

if TYPE_CHECKING:
    from nlp.sentiment import SegmentScore
    from nlp.stages import StageEvidence

_KEY = "lp_view"


@dataclass(slots=True)
class DocView:
    """Token strings of a Doc, its segments, and what our components found."""

    text: str
    words: list[str]
    lower: list[str]
    idx: list[int]
    segments: list[tuple[int, int]] = field(default_factory=list)
    redactions: dict[str, int] = field(default_factory=dict)
    segment_sentiment: list[SegmentScore] = field(default_factory=list)
    sentiment: SegmentScore | None = None
    segment_stages: list[StageEvidence] = field(default_factory=list)
    themes: tuple[str, ...] = ()
    segment_themes: list[tuple[str, ...]] = field(default_factory=list)
    lemma_list: list[str] | None = None

    @property
    def lemmas(self) -> list[str]:
        """Light lemmas of `lower`, computed on first use (most docs never need them)."""
        if self.lemma_list is None:
            self.lemma_list = [light_lemma(w) for w in self.lower]
        return self.lemma_list

    def char_span(self, start: int, end: int) -> tuple[int, int]:
        """Character offsets of tokens `[start, end)`."""
        return self.idx[start], self.idx[end - 1] + len(self.words[end - 1])


COMPONENT_BATCH = 8


def run_batched(
    proc: Callable[[Doc], Doc], stream: Iterable[Doc], batch_size: int
) -> Iterator[Doc]:
    """A component's `pipe`: run `proc` over a whole batch, then yield the batch.

    spaCy calls a component's `pipe` from `nlp.pipe`; without one it chains the
    components doc by doc, so each doc goes through every component before the next
    doc is read. Batch by batch, each component's code and tables stay hot in the
    CPU caches: measured ~10% less time per text on the tune mix.

    Batches are at most `COMPONENT_BATCH` docs whatever `nlp.pipe` asks for: a
    batch's docs are alive while every component runs, and with 256 of them enough
    survive into the oldest GC generation to trigger extra full collections
    (tune mix: 2 full collections and ~190 us/text at 256, 1 and ~173 us/text at 32).
    Smaller still, a batch's docs and their lists stay in the CPU caches from one
    component to the next: steady state on the test texts, median of 7 alternating
    passes x 2 processes, 109-112 us/text at 8 vs 122-128 at 32 (128: ~135, 512: ~150;
    1-4 no better than 8)."""
    size = max(1, min(batch_size, COMPONENT_BATCH))
    batch: list[Doc] = []
    for doc in stream:
        batch.append(doc)
        if len(batch) >= size:
            for item in batch:
                proc(item)
            yield from batch
            batch = []
    for item in batch:
        proc(item)
    yield from batch


def _segments(doc: Doc, words: list[str]) -> list[tuple[int, int]]:
    n = len(words)
    if n == 0:
        return []
    if not doc.has_annotation("SENT_START"):
        return [(0, n)] if any(not w.isspace() for w in words) else []
    flags = doc.to_array(SENT_START).tolist()
    return spans_from_starts([i for i, flag in enumerate(flags) if flag == 1 or i == 0], words)


def spans_from_starts(starts: list[int], words: list[str]) -> list[tuple[int, int]]:
    """Token spans between sentence starts, with whitespace tokens trimmed off each end
    and spans left empty by the trimming dropped."""
    n = len(words)
    segments: list[tuple[int, int]] = []
    for k, start in enumerate(starts):
        end = starts[k + 1] if k + 1 < len(starts) else n
        while start < end and words[start].isspace():
            start += 1
        while end > start and words[end - 1].isspace():
            end -= 1
        if start < end:
            segments.append((start, end))
    return segments


def doc_view(doc: Doc, *, segmented: bool = True) -> DocView:
    """The cached view of `doc`, built on first use. `segmented=False` (for the
    segmenter itself) skips reading sentence boundaries from the Doc."""
    data = doc.user_data
    view = data.get(_KEY)
    if isinstance(view, DocView):
        return view
    words: list[str] = []
    idx: list[int] = []
    add_word = words.append
    add_idx = idx.append
    for token in doc:
        add_word(token.text)
        add_idx(token.idx)
    text = data.get(TEXT_KEY)
    if not isinstance(text, str):
        text = doc.text
    # The tokenizer leaves a fresh dict per doc: the view takes it over (no copy).
    redactions = data.get(REDACTIONS_KEY)
    view = DocView(
        text,
        words,
        list(map(str.lower, words)),
        idx,
        _segments(doc, words) if segmented else [],
        redactions if isinstance(redactions, dict) else {},
        [],
        None,
        [],
        (),
        [],
        None,
    )
    data[_KEY] = view
    return view


if not Doc.has_extension("lp"):
    Doc.set_extension("lp", getter=doc_view)
# What each component writes, as the attributes its factory declares (`assigns` /
# `requires`), so spaCy's `nlp.analyze_pipes()` can check the order of the pipes.
_PARTS: dict[str, Callable[[Doc], object]] = {
    "lp_segments": lambda doc: doc_view(doc).segments,
    "lp_sentiment": lambda doc: (doc_view(doc).segment_sentiment, doc_view(doc).sentiment),
    "lp_stages": lambda doc: doc_view(doc).segment_stages,
    "lp_themes": lambda doc: doc_view(doc).themes,
}
for _name, _getter in _PARTS.items():
    if not Doc.has_extension(_name):
        Doc.set_extension(_name, getter=_getter)
