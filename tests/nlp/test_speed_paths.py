"""Fast paths give the answers of the plain code they replace."""

from __future__ import annotations

import random

import spacy
from spacy.util import registry

import nlp.factories  # noqa: F401  (registers the tokenizers and components)
from nlp.segmentation import _SPACE_CHARS, DEFAULT_PUNCT, Segmenter
from nlp.tokenization import CHUNK_CACHE_SIZE


def _reference_boundaries(seg: Segmenter, words: list[str], lower: list[str]) -> list[int]:
    """The per-token loop `Segmenter.boundaries` replaced (kept here as the oracle)."""
    n = len(words)
    if n == 0:
        return []
    punct = seg.punct
    starts = [0]
    seen_end = False
    for i in range(n):
        word = words[i]
        if word in punct or (word[0] in punct and all(c in punct for c in word)):
            seen_end = True
        elif seen_end:
            if not word.isspace():
                starts.append(i)
                seen_end = False
        elif word.isspace() and word.count("\n") >= 2 and i + 1 < n:
            starts.append(i + 1)
    if seg.contrast and not seg.contrast.isdisjoint(lower):
        starts = seg._split_contrast(starts, lower, n)
    return sorted(set(starts))


def _segmenter() -> Segmenter:
    return Segmenter(
        "s", punct_chars=DEFAULT_PUNCT, contrast_words=["but", "however"], min_tokens=3
    )


def test_boundaries_equal_the_per_token_loop_on_random_token_lists() -> None:
    seg = _segmenter()
    vocabulary = [
        "ok", "the", "flight", "was", "late", "but", "however", "fine", "@", "x",
        ".", "!", "?", "...", "?!", "!!!", "…", ".)", "\n\n", "\n", "  ", "\n \n", " ",
        "Mr.", "e.g.", "!?", "。", "A", "BUT",
    ]  # fmt: skip
    rng = random.Random(4)
    for _ in range(3000):
        words = [rng.choice(vocabulary) for _ in range(rng.randint(0, 24))]
        lower = [w.lower() for w in words]
        assert seg.boundaries(words, lower) == _reference_boundaries(seg, words, lower), words


def test_boundaries_equal_the_per_token_loop_on_tokenized_text() -> None:
    nlp = spacy.blank("en")
    seg = _segmenter()
    texts = [
        "Great service! But the app crashed. Twice?! Still waiting...",
        "no punctuation at all but it goes on and on and on",
        "Line one.\n\nLine two   with spaces \n\n\n and the end ",
        "  leading space. trailing dots…  ",
        "Setup was easy but the invoice was wrong. Call me!!! ok?",
    ]
    for text in texts:
        words = [t.text for t in nlp.make_doc(text)]
        lower = [w.lower() for w in words]
        assert seg.boundaries(words, lower) == _reference_boundaries(seg, words, lower)


def test_space_chars_are_every_whitespace_character() -> None:
    assert _SPACE_CHARS == frozenset(chr(c) for c in range(0x110000) if chr(c).isspace())


def test_fast_tokenizer_caches_many_chunks() -> None:
    nlp = spacy.blank("en")
    assert nlp.tokenizer.max_cache_size < CHUNK_CACHE_SIZE  # spaCy's default is lower
    nlp.tokenizer = registry.tokenizers.get("lp.redacting_tokenizer.v2")()(nlp)
    assert nlp.tokenizer.tokenizer.max_cache_size == CHUNK_CACHE_SIZE
    # Past spaCy's default cap, chunks still tokenize the same way.
    words = [f"w{i}x," for i in range(12_000)]
    text = " ".join(words)
    first = [t.text for t in nlp(text)]
    assert first == [t.text for t in nlp(text)]
    assert first[-2:] == ["w11999x", ","]


def test_segmenter_writes_sentence_starts_like_before() -> None:
    nlp = spacy.blank("en")
    nlp.add_pipe("lp_segmenter")
    doc = nlp("One. Two is here but three is there!  Four")
    assert [t.is_sent_start for t in doc] == [
        True, None, True, None, None, True, None, None, None, None, None, True,
    ]  # fmt: skip
    # A special case retokenized at the start clears spaCy's own mark on token 0.
    assert nlp.tokenizer("''Cause it broke.")[0].is_sent_start is not True
    assert nlp("''Cause it broke. Fine")[0].is_sent_start is True
    assert [s.text.strip() for s in doc.sents] == [
        "One.",
        "Two is here",
        "but three is there!",
        "Four",
    ]
