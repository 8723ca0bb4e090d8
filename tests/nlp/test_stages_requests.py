"""Requests and questions name the stage of what is asked for, not the nouns in them."""

from __future__ import annotations

import dataclasses

import pytest

from nlp.journey import Journey, JourneyError, parse_journey
from nlp.pipeline import PipelineEnricher, build_enricher


@pytest.mark.parametrize(
    ("text", "stage", "action"),
    [
        # a booking request names a room, a table, a seat: still a purchase
        ("I'd like to book a room for Friday night", "purchase", "book"),
        ("Can I reserve a table by the window?", "purchase", "reserve"),
        ("How do I cancel my order?", "renew", "cancel"),
        ("i want to cancel purchase 12345", "renew", "cancel"),
        ("I need to speak to someone about the wifi", "support", "speak"),
        ("Can you help me reset the app", "support", "reset"),
        ("how can i install it on my laptop", "onboard", "install"),
        ("How do I use the new feature?", "use", "use"),
        ("Can I rate the app somewhere?", "advocate", "rate"),
    ],
)
def test_the_action_asked_for_decides_the_stage(
    enricher: PipelineEnricher, text: str, stage: str, action: str
) -> None:
    result = enricher.enrich(text)
    assert result.stage.stage == stage, result.stage
    assert "request" in result.stage.method
    assert action in result.stage.evidence


def test_without_request_frames_the_nouns_decide(default_journey: Journey) -> None:
    text = "How can I cancel the delivery?"
    plain = build_enricher(dataclasses.replace(default_journey, request_frames=()))
    assert plain.enrich(text).stage.stage == "onboard"  # "delivery": the noun
    assert build_enricher(default_journey).enrich(text).stage.stage == "renew"


def test_an_action_no_stage_lists_leaves_the_nouns_to_decide(
    enricher: PipelineEnricher,
) -> None:
    result = enricher.enrich("I want to change my shipping address")
    assert result.stage.stage == "onboard"
    assert "request" not in result.stage.method


def test_a_statement_is_not_a_request(enricher: PipelineEnricher) -> None:
    # "cancel" outside a request is use's disruption ("my appointment was cancelled")
    result = enricher.enrich("They cancelled my appointment again.")
    assert result.stage.stage == "use"


def test_the_request_counts_for_its_own_segment(enricher: PipelineEnricher) -> None:
    result = enricher.enrich("The room was lovely. How do I cancel my booking?")
    assert [s.stage.stage for s in result.segments] == ["use", "renew"]


def test_requests_are_actions_of_one_or_two_words() -> None:
    data = {
        "stages": [{"key": "a", "name": "A", "phrases": ["x"], "requests": ["sign up now please"]}]
    }
    with pytest.raises(JourneyError, match="one or two words"):
        parse_journey(data)


def test_a_bad_request_frame_is_named() -> None:
    data = {"request_frames": ["(can i"], "stages": [{"key": "a", "name": "A"}]}
    with pytest.raises(JourneyError, match="request_frames"):
        parse_journey(data)


def test_the_frame_word_gate_changes_no_decision(default_journey: Journey) -> None:
    """The gate (the word before an action must be a frame's) only skips regex work."""
    texts = [
        "How do I cancel my order?",
        "can you please help me to set up the app",
        "I need assistance to speak to an agent",
        "problems with cancelling purchase 123",
        "i'm trying to book a table for two",
        "The use of the app is simple. I cancel nothing.",
        "my order was cancelled and I want to complain",
        "is it possible to reset my pin?",
        "issue with sign up on the website",
    ]
    gated = build_enricher(default_journey)
    plain = build_enricher(default_journey)
    stage = plain.nlp.get_pipe("lp_journey_stage")
    assert stage._frame_words is not None
    stage._frame_words = None
    for text in texts:
        assert gated.enrich(text) == plain.enrich(text), text


def test_a_frame_with_a_wildcard_turns_the_gate_off() -> None:
    from nlp.stages import frame_words

    assert frame_words([r"how \w+ i"]) is None
    words = frame_words([r"(?:problems?|issues?) with", "i need to"])
    assert words is not None
    assert {"problem", "problems", "issue", "with", "to", "please"} <= words


@pytest.mark.parametrize(
    ("text", "stage"),
    [
        # what is asked for is a copy of the invoice: the noun decides, not "get a"
        ("how do I get a copy of my invoice as a PDF?", "billing"),
        ("I don't recognise this payment on my statement", "billing"),
        ("My payment was declined twice at the till", "use"),
    ],
)
def test_money_cues_need_the_money_word(enricher: PipelineEnricher, text: str, stage: str) -> None:
    assert enricher.enrich(text).stage.stage == stage


def test_money_cues_stay_off_other_text(enricher: PipelineEnricher) -> None:
    postcode = enricher.enrich("Postcode not recognised by the coverage checker.")
    assert postcode.stage.stage != "billing"  # not a charge
    offer = enricher.enrich("Offered a discount, declined.")  # an offer turned down
    assert not any("declined" in words for words in offer.stage.evidence)
    assert offer.stage.stage != "use"
