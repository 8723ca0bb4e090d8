"""The `Enrichment` contract that `app` stores, checked on varied texts."""

from __future__ import annotations

import pytest

from nlp.enrichment import UNASSIGNED, Enricher, Enrichment, EnrichRequest
from nlp.journey import Journey
from nlp.pipeline import PipelineEnricher

TEXTS = [
    "Setup was easy but the invoice was wrong.",
    "I have been on hold for two hours!! Nobody picks up.",
    "Thanks a lot. The agent sorted it out in minutes.\n\nGreat job.",
    "  leading and trailing spaces   ",
    "The weather is nice today.",
    "Can I change my order?",
    "Ordered on Monday. It arrived damaged; I want my money back. Never again!",
    "ok",
    "🙂",
    "Call me on +44 20 7946 0958 about the refund, or write to a@b.com",
]


def check_contract(result: Enrichment, journey: Journey) -> None:
    keys = set(journey.keys) | {UNASSIGNED}
    text = result.text
    # segments are in order, do not overlap, and cover every non-space character
    covered = [False] * len(text)
    previous_end = 0
    for index, segment in enumerate(result.segments):
        assert segment.index == index
        assert 0 <= previous_end <= segment.start < segment.end <= len(text)
        assert text[segment.start : segment.end] == segment.text
        assert segment.text == segment.text.strip()
        for i in range(segment.start, segment.end):
            covered[i] = True
        previous_end = segment.end
    assert all(covered[i] or ch.isspace() for i, ch in enumerate(text))
    for sentiment in [result.sentiment, *(s.sentiment for s in result.segments)]:
        assert -1.0 <= sentiment.score <= 1.0
        if sentiment.label == "positive":
            assert sentiment.score > 0
        elif sentiment.label == "negative":
            assert sentiment.score < 0
    for stage in [result.stage, *(s.stage for s in result.segments)]:
        assert stage.stage in keys
        assert 0.0 <= stage.confidence <= 1.0
        if stage.stage != UNASSIGNED:
            assert stage.evidence, "an assigned stage always says why"
    assert result.nlp_version


@pytest.mark.parametrize("text", TEXTS)
def test_contract_holds(enricher: PipelineEnricher, default_journey: Journey, text: str) -> None:
    check_contract(enricher.enrich(text), default_journey)


def test_is_an_enricher(enricher: PipelineEnricher) -> None:
    as_protocol: Enricher = enricher
    assert as_protocol.version == enricher.version


def test_labels_follow_thresholds(enricher: PipelineEnricher) -> None:
    assert enricher.enrich("I love it, thank you!").sentiment.label == "positive"
    assert enricher.enrich("This is awful and I hate it.").sentiment.label == "negative"
    assert enricher.enrich("The box is blue.").sentiment.label == "neutral"


@pytest.mark.parametrize("text", ["", "   ", "\n\t "])
def test_empty_text_is_neutral_unassigned_without_segments(
    enricher: PipelineEnricher, text: str
) -> None:
    result = enricher.enrich(text)
    assert result.segments == ()
    assert result.sentiment.score == 0.0
    assert result.sentiment.label == "neutral"
    assert result.stage.stage == UNASSIGNED
    assert result.themes == ()


def test_unassigned_without_evidence(enricher: PipelineEnricher) -> None:
    result = enricher.enrich("The weather is nice today.")
    assert result.stage.stage == UNASSIGNED
    assert result.stage.method == "none"
    assert result.stage.evidence == ()
    assert all(s.stage.stage == UNASSIGNED for s in result.segments)


def test_hint_wins_for_item_and_sentences_without_evidence(enricher: PipelineEnricher) -> None:
    result = enricher.enrich(
        "The weather is nice today. The invoice was wrong.", stage_hint="support"
    )
    assert result.stage.stage == "support"
    assert result.stage.method == "hint"
    first, second = result.segments
    assert first.stage.stage == "support"
    assert first.stage.method == "hint"
    # a sentence with its own evidence keeps it
    assert second.stage.stage == "billing"
    assert second.stage.method != "hint"


def test_unknown_hint_is_ignored(enricher: PipelineEnricher) -> None:
    result = enricher.enrich("The weather is nice today.", stage_hint="no_such_stage")
    assert result.stage.stage == UNASSIGNED


def test_hint_on_empty_text(enricher: PipelineEnricher) -> None:
    result = enricher.enrich("", stage_hint="billing")
    assert result.stage.stage == "billing"
    assert result.segments == ()


def test_multi_stage_item_splits_on_contrast(enricher: PipelineEnricher) -> None:
    result = enricher.enrich("setup was easy but the invoice was wrong")
    assert [(s.stage.stage, s.sentiment.label) for s in result.segments] == [
        ("onboard", "positive"),
        ("billing", "negative"),
    ]
    # the clause after "but" weighs more for the item
    assert result.sentiment.label == "negative"


def test_stage_evidence_names_words(enricher: PipelineEnricher) -> None:
    result = enricher.enrich("I was charged twice for one order.")
    assert result.stage.stage == "billing"
    assert "charged" in " ".join(result.stage.evidence)
    assert result.stage.method in {"phrase", "pattern", "pattern+phrase"} or (
        "phrase" in result.stage.method
    )


def test_enrich_many_in_order(enricher: PipelineEnricher) -> None:
    requests = [
        EnrichRequest(text=t, stage_hint="billing" if i % 3 == 0 else None)
        for i, t in enumerate(TEXTS * 3)
    ]
    many = list(enricher.enrich_many(requests, batch_size=4))
    assert len(many) == len(requests)
    for request, result in zip(requests, many, strict=True):
        assert result == enricher.enrich(request.text, stage_hint=request.stage_hint)


def test_threshold_is_configurable(default_journey: Journey) -> None:
    from nlp.pipeline import build_enricher

    text = "I might look at a demo, or the price of the app."
    strict = build_enricher(default_journey, stage_threshold=0.99)
    lenient = build_enricher(default_journey, stage_threshold=0.0)
    assert strict.enrich(text).stage.stage == UNASSIGNED
    assert lenient.enrich(text).stage.stage != UNASSIGNED
    assert strict.version != lenient.version
