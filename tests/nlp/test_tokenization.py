"""The fast tokenizer (`lp.redacting_tokenizer.v2`) splits exactly like v1."""

from __future__ import annotations

import random
import re

import spacy
from spacy.language import Language
from spacy.util import registry

import nlp.factories  # noqa: F401  (registers the tokenizers)
from nlp.tokenization import AffixPrefilter, InfixPrefilter, UrlPrefilter

TEXTS = [
    "@united my flight was Cancelled Flightled!!! 3hrs on hold... thanks a lot :(",
    "Can't believe it's $45.50 (US$50) for 2kg & 10km/h -- isn't that 'great'?",
    "“Loved it” — fits 100%; runs small… ordered a 6’s size, e-mail me at a@b.co",
    "Call +44 20 7946 0958 or (555) 123-4567; card 4111 1111 1111 1111. Thx!!",
    "10.5°F. U.S.A. Mr. Smith's iPhone6's screen: broke?! #fail http://x.co/a?b=1",
    "don’t won't gonna... ¿qué? 😀😀 love😍 5pm 3am 2nd O'Neill rock'n'roll A$ C$",
]


def _blank(version: str) -> Language:
    nlp = spacy.blank("en")
    nlp.tokenizer = registry.tokenizers.get(version)()(nlp)
    return nlp


def test_v2_tokens_equal_v1() -> None:
    v1, v2 = _blank("lp.redacting_tokenizer.v1"), _blank("lp.redacting_tokenizer.v2")
    for text in TEXTS:
        a, b = v1(text), v2(text)
        assert [(t.text, t.idx, t.lower_) for t in a] == [(t.text, t.idx, t.lower_) for t in b]
        assert a.text == b.text


def test_prefilter_answers_like_the_pattern() -> None:
    tokenizer = spacy.blank("en").tokenizer
    suffix, prefix = tokenizer.suffix_search, tokenizer.prefix_search
    fast_suffix = AffixPrefilter(suffix.__self__, at_end=True)
    fast_prefix = AffixPrefilter(prefix.__self__, at_end=False)
    assert fast_suffix.active
    assert fast_prefix.active
    chars = "abcsmtgkKMGTB0123456789.'’,!?%$+-_#@:;/\"()[]{}<>°F…\n é😀"
    rnd = random.Random(7)
    strings = {w for text in TEXTS for w in text.split()}
    strings |= {"".join(rnd.choice(chars) for _ in range(rnd.randint(1, 6))) for _ in range(20000)}
    for s in strings:
        for fast, slow in ((fast_suffix.search, suffix), (fast_prefix.search, prefix)):
            a, b = fast(s), slow(s)
            assert (a.span() if a else None) == (b.span() if b else None), s


def test_prefilter_off_for_patterns_it_cannot_read() -> None:
    assert not AffixPrefilter(re.compile(r"[^a]$"), at_end=True).active
    assert not AffixPrefilter(re.compile(r"x?$"), at_end=True).active


def test_v2_round_trips_through_bytes() -> None:
    nlp = _blank("lp.redacting_tokenizer.v2")
    data = nlp.tokenizer.to_bytes()
    other = _blank("lp.redacting_tokenizer.v2")
    other.tokenizer.from_bytes(data)
    assert [t.text for t in other(TEXTS[1])] == [t.text for t in nlp(TEXTS[1])]


def test_infix_and_url_prefilters_answer_like_the_patterns() -> None:
    tokenizer = spacy.blank("en").tokenizer
    infix, url = tokenizer.infix_finditer, tokenizer.url_match
    fast_infix, fast_url = InfixPrefilter(infix.__self__), UrlPrefilter(url.__self__)
    assert fast_infix.active
    assert fast_url.active
    strings = {w for text in TEXTS for w in text.split()} | {
        "http://x.co/a?b=1",
        "www.example.com",
        "example.com",
        "localhost",
        "192.168.0.1",
        "10.0.0.1:8080",
        "a-b",
        "well-known",
        "3+4",
        "hello",
        "ABC123",
        "naïve",
        "x/y",
        "",
    }
    for s in strings:
        assert [m.span() for m in fast_infix.finditer(s)] == [m.span() for m in infix(s)], s
        a, b = fast_url.match(s), url(s)
        assert (a.span() if a else None) == (b.span() if b else None), s
