"""Segmentation helpers: the light lemmatizer and the contrast splitter.

- `lp_lemmatizer` sets `token.lemma_` to `nlp.lemma.light_lemma(token.lower_)`, a
  shared stem for inflections, so phrase matching on `LEMMA` works with
  `spacy.blank` and no lookup tables.
- `lp_contrast_splitter` runs after the sentencizer and starts a new segment at a
  contrast word ("but", "however") that has at least `min_tokens` word tokens on
  each side inside its sentence: "setup was easy but the invoice was wrong"
  becomes two segments, each with its own stage and sentiment.
"""

from __future__ import annotations

from spacy.language import Language
from spacy.tokens import Doc

from nlp.lemma import light_lemma


class LightLemmatizer:
    """Sets `token.lemma_` from `light_lemma`."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __call__(self, doc: Doc) -> Doc:
        for token in doc:
            token.lemma_ = light_lemma(token.lower_)
        return doc


@Language.factory("lp_lemmatizer", default_config={}, assigns=["token.lemma"])
def make_lemmatizer(nlp: Language, name: str) -> LightLemmatizer:  # noqa: ARG001
    return LightLemmatizer(name)


class ContrastSplitter:
    """Starts a segment at "but"/"however" inside a long enough sentence."""

    def __init__(self, name: str, *, words: list[str], min_tokens: int) -> None:
        self.name = name
        self.words = frozenset(w.lower() for w in words)
        self.min_tokens = min_tokens

    def __call__(self, doc: Doc) -> Doc:
        if not self.words or len(doc) < 2 * self.min_tokens + 1:
            return doc
        for sent in list(doc.sents):
            last_start = sent.start
            for token in sent:
                if token.lower_ not in self.words or token.i == sent.start:
                    continue
                before = sum(1 for t in doc[last_start : token.i] if not t.is_punct)
                after = sum(1 for t in doc[token.i + 1 : sent.end] if not t.is_punct)
                if before >= self.min_tokens and after >= self.min_tokens:
                    token.is_sent_start = True
                    last_start = token.i
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
