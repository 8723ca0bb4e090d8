"""One pass over a Doc's tokens, shared by every Listening Path component.

Iterating spaCy `Token`s and reading their attributes costs more than the work
our components do per token, so the first component that needs them builds a
`DocView` (plain Python lists) and caches it in `doc.user_data`. Segments are
token ranges `[start, end)` without leading/trailing whitespace tokens, one per
sentence of `doc.sents` that holds any non-space token.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from spacy.attrs import SENT_START
from spacy.tokens import Doc

from nlp.lemma import light_lemma

_KEY = "lp_view"


@dataclass(slots=True)
class DocView:
    text: str
    words: list[str]
    lower: list[str]
    lemmas: list[str]
    idx: list[int]
    segments: list[tuple[int, int]] = field(default_factory=list)

    def char_span(self, start: int, end: int) -> tuple[int, int]:
        """Character offsets of tokens `[start, end)`."""
        return self.idx[start], self.idx[end - 1] + len(self.words[end - 1])


def _segments(doc: Doc, words: list[str]) -> list[tuple[int, int]]:
    n = len(words)
    if n == 0:
        return []
    if doc.has_annotation("SENT_START"):
        flags = doc.to_array(SENT_START).tolist()
        starts = [i for i, flag in enumerate(flags) if flag == 1 or i == 0]
    else:
        starts = [0]
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


def doc_view(doc: Doc) -> DocView:
    """The cached view of `doc` (built on first use)."""
    view = doc.user_data.get(_KEY)
    if isinstance(view, DocView):
        return view
    words: list[str] = []
    idx: list[int] = []
    for token in doc:
        words.append(token.text)
        idx.append(token.idx)
    # `doc.text` re-joins every token on each access: read it once, here.
    lower = [w.lower() for w in words]
    text = "".join(token.text_with_ws for token in doc) if words else ""
    view = DocView(text, words, lower, [light_lemma(w) for w in lower], idx, _segments(doc, words))
    doc.user_data[_KEY] = view
    return view


def refresh_segments(doc: Doc) -> None:
    """Re-read sentence starts after a component changed them."""
    view = doc_view(doc)
    view.segments = _segments(doc, view.words)
