"""Sentiment that understands customer talk."""

from __future__ import annotations

import pytest

from nlp.lemma import light_lemma, singular
from nlp.pipeline import PipelineEnricher
from nlp.sentiment import label_for, normalise_score
from tests.nlp.oracles import score_text, score_words


@pytest.mark.parametrize(
    "text",
    [
        "My order was delayed again.",
        "They cancelled my appointment.",
        "I have been on hold for 40 minutes.",
        "They lost my package.",
        "Still waiting for my refund.",
        "I never received the item.",
        "Nobody answers the phone.",
        "The app is not working.",
        "Stuck here for three hours with no update.",
    ],
)
def test_service_failures_are_negative_without_sentiment_words(
    enricher: PipelineEnricher, text: str
) -> None:
    assert enricher.enrich(text).sentiment.label == "negative"


@pytest.mark.parametrize(
    "text",
    [
        "Thank you so much!",
        "Thanks to Maria at the desk.",
        "Kudos to the team, delivery was on time.",
        "Setup was quick and easy.",
        "Five star service, well done.",
    ],
)
def test_thanks_and_praise_are_positive(enricher: PipelineEnricher, text: str) -> None:
    assert enricher.enrich(text).sentiment.label == "positive"


@pytest.mark.parametrize(
    "text",
    [
        "Can I change the delivery address?",
        "Do you deliver on Sundays?",
        "What is the cancellation fee?",
    ],
)
def test_plain_questions_are_neutral(enricher: PipelineEnricher, text: str) -> None:
    assert enricher.enrich(text).sentiment.label == "neutral"


def test_negation_flips(enricher: PipelineEnricher) -> None:
    assert enricher.enrich("The staff were helpful.").sentiment.score > 0
    assert enricher.enrich("The staff were not helpful.").sentiment.score < 0


@pytest.mark.parametrize(
    "text", ["I feel like I am paying for it.", "It looks like a maternity dress."]
)
def test_like_as_a_preposition_is_no_praise(enricher: PipelineEnricher, text: str) -> None:
    """The rules give "like" in "feel like" / "looks like" no valence ("I like it"
    keeps VADER's)."""
    from nlp.sentiment import CustomerSentiment

    sentiment = enricher.nlp.get_pipe("lp_sentiment")
    assert isinstance(sentiment, CustomerSentiment)

    def rules(words: str) -> float:
        return score_words(sentiment, [t.text for t in enricher.nlp.make_doc(words)])

    assert rules(text) == 0.0
    assert rules("I like it.") > 0


@pytest.mark.parametrize("text", ["Genuinely rock solid.", "It just works."])
def test_service_praise_without_sentiment_words(enricher: PipelineEnricher, text: str) -> None:
    assert enricher.enrich(text).sentiment.label == "positive"


def test_zero_negates(enricher: PipelineEnricher) -> None:
    """ "zero problems" is praise, "zero help" a complaint."""
    assert enricher.enrich("Install went ahead with zero problems.").sentiment.score > 0
    assert enricher.enrich("Zero help from the agent.").sentiment.label == "negative"


def test_intensity(enricher: PipelineEnricher) -> None:
    plain = enricher.enrich("The service was good.").sentiment.score
    boosted = enricher.enrich("The service was extremely good!").sentiment.score
    shouted = enricher.enrich("The service was GOOD").sentiment.score
    assert boosted > plain
    assert shouted > plain


def test_contrast_clause_after_but_weighs_more(enricher: PipelineEnricher) -> None:
    assert enricher.enrich("The food was great, but the staff were rude.").sentiment.score < 0
    assert enricher.enrich("The staff were rude but the food was great.").sentiment.score > 0


def test_score_helpers() -> None:
    assert normalise_score(0.0) == 0.0
    assert 0 < normalise_score(100.0) < 1
    assert -1 < normalise_score(-100.0) < 0
    assert label_for(0.05, positive=0.05, negative=-0.05) == "positive"
    assert label_for(0.0, positive=0.05, negative=-0.05) == "neutral"
    assert label_for(-0.3, positive=0.05, negative=-0.05) == "negative"


@pytest.mark.parametrize(
    ("forms", "same"),
    [
        (["charge", "charged", "charges", "charging"], True),
        (["cancel", "cancelled", "canceled", "cancelling"], True),
        (["install", "installed", "installing"], True),
        (["delay", "delays", "delayed"], True),
        (["use", "us"], False),
    ],
)
def test_light_lemma_shares_stems(forms: list[str], same: bool) -> None:
    assert (len({light_lemma(f) for f in forms}) == 1) is same


def test_singular_is_readable() -> None:
    assert [singular(w) for w in ["delays", "fees", "deliveries", "boxes", "glass", "status"]] == [
        "delay",
        "fee",
        "delivery",
        "box",
        "glass",
        "status",
    ]


@pytest.mark.parametrize(
    "text",
    [
        "I didn't like it, but the staff were great!",
        "not worth it . never again ?",
        "@brand #fail http://x.y waste of money",
        "",
    ],
)
def test_learned_fast_path_matches_training_features(text: str) -> None:
    from nlp.sentiment import default_weights_path
    from nlp.word_weights import WeightScorer, read_weights, score_features, sentiment_features

    weights = read_weights(default_weights_path())
    lower = text.lower().split()
    assert score_text(weights, lower) == pytest.approx(
        score_features(weights, sentiment_features(lower))
    )
    assert WeightScorer(weights).score(lower) == score_text(weights, lower)


def test_train_weights_learns_polarity() -> None:
    from nlp.training.sentiment_table import train_weights
    from nlp.word_weights import score_features, sentiment_features

    docs = [
        sentiment_features(t.split()) for t in ["good stuff", "good day", "bad stuff", "bad day"]
    ]
    weights = train_weights(docs, [1, 1, 0, 0], min_count=1, epochs=200)
    assert score_features(weights, ["good"]) > 0 > score_features(weights, ["bad"])


@pytest.mark.parametrize(
    "text",
    [
        "I didn't like it, but the staff were great!",
        "Still waiting for my refund, not happy at all?",
        "They cancelled my appointment and NEVER called back!!!",
        "The app is not working . never again ?",
        "Thanks so much, the delivery was on time but the box was broken.",
        "@brand #fail http://x.y waste of money",
        "no",
        "",
    ],
)
def test_fused_segment_score_matches_the_two_passes(enricher: PipelineEnricher, text: str) -> None:
    """`segment_raw` (one pass) equals the oracles `score_words` + the learned score."""
    from nlp.sentiment import CustomerSentiment, _is_question

    sentiment = enricher.nlp.get_pipe("lp_sentiment")
    assert isinstance(sentiment, CustomerSentiment)
    words = [t.text for t in enricher.nlp.make_doc(text)]
    for caps in (False, True):
        sentiment._lexemes.clear()
        lower = [w.lower() for w in words]
        slow = score_words(sentiment, words, all_caps_text=caps, lower=lower)
        learned = sentiment.model_weight * sentiment._scorer.score(lower)
        if _is_question(lower):
            learned *= sentiment.question_factor
        slow += learned
        assert sentiment.segment_raw(words, lower, caps) == slow
        assert sentiment.segment_raw(words, lower, caps) == slow  # memoised lexemes


@pytest.mark.parametrize(
    "text",
    [
        "I have told everyone about you.",
        "I tell all my friends about this shop.",
        "Would recommend to anyone.",
    ],
)
def test_word_of_mouth_is_praise(enricher: PipelineEnricher, text: str) -> None:
    assert enricher.enrich(text).sentiment.label == "positive"


def test_not_recommending_is_negative(enricher: PipelineEnricher) -> None:
    assert enricher.enrich("I would not recommend them to anyone.").sentiment.label == "negative"


def test_emoji_read_as_vader_reads_them(enricher: PipelineEnricher) -> None:
    def label(text: str) -> str:
        return enricher.enrich(text).sentiment.label

    # from VADER's description ("crying face"), or the lexicon where it has none
    assert label("flight 😢") == label("flight 😡") == label("flight 😭😭") == "negative"
    assert label("thanks ❤️") == "positive"
    assert enricher.enrich("flight 👍").sentiment.score > 0.3
    assert label("flight ✈") == "neutral"  # "airplane" says nothing
    from nlp.sentiment import emoji_valence

    assert emoji_valence("😭😭", {"😭": -2.1}) == pytest.approx(-3.0)  # capped
    assert emoji_valence("x😭", {"😭": -2.1}) is None  # not only emoji


def test_typographic_apostrophe_negates(enricher: PipelineEnricher) -> None:
    straight = enricher.enrich("I don't like the new app").sentiment
    curly = enricher.enrich("I don’t like the new app").sentiment
    assert curly == straight
    assert curly.label == "negative"
