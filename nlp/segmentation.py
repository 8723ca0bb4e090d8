"""Contrast splitting: "setup was easy but the invoice was wrong" is two segments.

`lp_contrast_splitter` runs after the sentencizer and starts a new segment at a
contrast word ("but", "however") with at least `min_tokens` word tokens on each
side inside its sentence, so each clause gets its own stage and sentiment.
"""

from __future__ import annotations

from spacy.language import Language
from spacy.tokens import Doc

from nlp.docview import doc_view, refresh_segments


class ContrastSplitter:
    """Starts a segment at "but"/"however" inside a long enough sentence."""

    def __init__(self, name: str, *, words: list[str], min_tokens: int) -> None:
        self.name = name
        self.words = frozenset(w.lower() for w in words)
        self.min_tokens = min_tokens

    def __call__(self, doc: Doc) -> Doc:
        view = doc_view(doc)
        lowered = view.text.lower()
        if not self.words or not any(w in lowered for w in self.words):
            return doc
        lower = view.lower
        changed = False
        for start, end in view.segments:
            last = start
            for i in range(start + 1, end):
                if lower[i] not in self.words:
                    continue
                before = sum(1 for w in lower[last:i] if w.isalnum())
                after = sum(1 for w in lower[i + 1 : end] if w.isalnum())
                if before >= self.min_tokens and after >= self.min_tokens:
                    doc[i].is_sent_start = True
                    last = i
                    changed = True
        if changed:
            refresh_segments(doc)
        return doc


@Language.factory(
    "lp_contrast_splitter",
    default_config={"words": ["but", "however"], "min_tokens": 3},
    assigns=["token.is_sent_start"],
    requires=["token.is_sent_start"],
)
def make_contrast_splitter(
    nlp: Language,  # noqa: ARG001  (spaCy passes it to every factory)
    name: str,
    words: list[str],
    min_tokens: int,
) -> ContrastSplitter:
    return ContrastSplitter(name, words=words, min_tokens=min_tokens)
