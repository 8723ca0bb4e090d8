"""`CustomerSentiment.segment_raw`'s fast paths give the answers of the plain code.

`segment_raw` gates phrase lookups on the phrase's first two forms / lemmas and
reads lemmas from its memo; the oracle `score_words` (tests/nlp/oracles.py, plus
the learned score) is the plain
two-pass version it must equal, float for float."""

from __future__ import annotations

import random

from nlp.lemma import inflections
from nlp.pipeline import PipelineEnricher
from nlp.sentiment import CustomerSentiment, _is_question
from tests.nlp.oracles import score_words


def _two_passes(sentiment: CustomerSentiment, words: list[str], caps: bool) -> float:
    lower = [w.lower() for w in words]
    raw = score_words(sentiment, words, all_caps_text=caps, lower=lower)
    learned = sentiment.model_weight * sentiment._scorer.score(lower)
    if _is_question(lower):
        learned *= sentiment.question_factor
    return raw + learned


def test_segment_raw_equals_the_two_passes_on_random_phrase_soup(
    enricher: PipelineEnricher,
) -> None:
    sentiment = enricher.nlp.get_pipe("lp_sentiment")
    assert isinstance(sentiment, CustomerSentiment)
    # Words of the multi-word lexicon phrases, their inflections, negators, boosters,
    # contrast and punctuation: token lists dense in (partial) phrase matches.
    phrase_words = sorted(
        {w for phrase in sentiment.custom if " " in phrase for w in phrase.split()}
    )
    vocabulary = (
        phrase_words
        + sorted({form for w in phrase_words for form in inflections(w)})
        + ["not", "never", "very", "but", "!", "?", ".", "GREAT", "Still", "WAITING", "ok"]
    )
    rng = random.Random(4)
    checked = 0
    for _ in range(3000):
        words = [rng.choice(vocabulary) for _ in range(rng.randint(1, 9))]
        for caps in (False, True):
            if rng.random() < 0.5:
                sentiment._lexemes.clear()
            lower = [w.lower() for w in words]
            assert sentiment.segment_raw(words, lower, caps) == _two_passes(
                sentiment, words, caps
            ), words
            checked += 1
    assert checked == 6000
    # the soup does hit multi-word phrases by form and by lemma
    hits = 0
    for phrase in sentiment.custom:
        if " " in phrase:
            words = phrase.split()
            if sentiment.segment_raw(words, words, False) != 0.0:
                hits += 1
    assert hits > 10
