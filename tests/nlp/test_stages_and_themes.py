"""Journey stage matching and themes on the default journey."""

from __future__ import annotations

import pytest

from nlp.enrichment import UNASSIGNED
from nlp.pipeline import PipelineEnricher
from nlp.stages import StageEvidence, decide


@pytest.mark.parametrize(
    ("text", "stage"),
    [
        ("I saw your ad and want to learn more.", "discover"),
        ("The checkout failed when I tried to place an order.", "purchase"),
        ("Signing up took ages and the installation failed.", "onboard"),
        ("The app keeps crashing.", "use"),
        ("I spoke to an agent after waiting on hold.", "support"),
        ("I was overcharged on my last invoice.", "billing"),
        ("I want to cancel my subscription.", "renew"),
        ("I would recommend you to all my friends.", "advocate"),
    ],
)
def test_each_default_stage_is_reachable(enricher: PipelineEnricher, text: str, stage: str) -> None:
    assert enricher.enrich(text).stage.stage == stage


def test_longer_phrase_beats_contained_one(enricher: PipelineEnricher) -> None:
    # "cancel" alone is a service disruption (use); "cancel my subscription" is renewal
    assert enricher.enrich("They had to cancel because of the storm.").stage.stage == "use"
    result = enricher.enrich("Please cancel my subscription.")
    assert result.stage.stage == "renew"
    assert "cancel my subscription" in result.stage.evidence


def test_decide_is_never_forced() -> None:
    order = ("a", "b")
    assert decide(StageEvidence(), order=order, threshold=0.0).stage == UNASSIGNED
    tied = StageEvidence()
    tied.add("a", 1.0, "x", "phrase")
    tied.add("b", 1.0, "y", "phrase")
    weak = decide(tied, order=order, threshold=0.5)
    assert weak.stage == UNASSIGNED
    assert weak.method == "below_threshold"
    strong = StageEvidence()
    strong.add("b", 2.0, "y", "phrase")
    decision = decide(strong, order=order, threshold=0.5)
    assert decision.stage == "b"
    assert decision.evidence == ("y",)
    assert 0.5 <= decision.confidence < 1.0


def test_item_stage_pools_segments(enricher: PipelineEnricher) -> None:
    result = enricher.enrich("The invoice was wrong. I was charged twice. Also the app is slow.")
    assert [s.stage.stage for s in result.segments] == ["billing", "billing", "use"]
    assert result.stage.stage == "billing"


def test_themes_read_like_an_analyst_list(enricher: PipelineEnricher) -> None:
    result = enricher.enrich(
        "The customer service was really terrible and the hold times were awful. "
        "Thanks for nothing, guys! I just want a refund for the late deliveries."
    )
    assert "customer service" in result.themes
    assert "hold time" in result.themes
    assert "late delivery" in result.themes
    assert "refund" in result.themes
    for theme in result.themes:
        assert theme == theme.lower()
        assert theme not in {"the", "and", "thanks", "guys", "just", "really", "terrible"}


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        (r"\b10/10\b", ("10/10",)),
        (r"\b(close|delete) my account\b", (" my account",)),
        (r"\b(close|delete)\b.{0,9}\baccount\b", ("account",)),
        (r"\b(close|remove)\b.{0,9}\b(plan|item)\b", ("close", "remove")),
        (r"\bslot(s)? (at|on)\b", ("slot",)),
        (r"abc|def", None),
        (r"[$€£]\s?\d", None),
        (r"\b(a|bcd) x", None),
    ],
)
def test_required_literals(pattern: str, expected: tuple[str, ...] | None) -> None:
    from nlp.stages import required_literals

    assert required_literals(pattern) == expected


def test_pattern_prefilter_keeps_matches(enricher: PipelineEnricher) -> None:
    result = enricher.enrich("How do I close my old Premium account?")
    assert result.stage.stage == "renew"
    assert result.stage.method.startswith("pattern")


def test_themes_keep_a_participle_after_its_modifier(enricher: PipelineEnricher) -> None:
    """ "double charged" is what happened; "double" alone is no theme. A participle
    after a noun is still trimmed ("flight delayed" -> "flight")."""
    assert enricher.enrich("I was double charged for my order.").themes == (
        "double charged",
        "order",
    )
    assert enricher.enrich("They wrongly billed me again.").themes == ("wrongly billed",)
    assert enricher.enrich("My flight delayed again.").themes == ("flight",)


def test_themes_leave_out_when_and_past_verbs(enricher: PipelineEnricher) -> None:
    """Time words say when, not what: never a theme alone or together; an irregular
    past form at a run's end is trimmed like an "-ed" word."""
    result = enricher.enrich("The engineer came on Tuesday evening. My September bill was fine.")
    assert result.themes == ("engineer", "september bill")


def test_themes_skip_lone_verbs_and_adverbs(enricher: PipelineEnricher) -> None:
    result = enricher.enrich(
        "I tried everything, looked around, seriously waited and told them. Booking was a pain."
    )
    assert result.themes == ("booking",)


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        (r"[$€£]\s?\d", ("$", "€", "£")),
        (r"\b10/10\b", None),
        (r"[a-z$]\d", None),
        (r"[ab]\d", None),
        (r"[^$]\d", None),
    ],
)
def test_required_chars(pattern: str, expected: tuple[str, ...] | None) -> None:
    from nlp.stages import required_chars

    assert required_chars(pattern) == expected


@pytest.mark.parametrize(
    "text",
    [
        "It cost $40 and then €5 more",
        "£ 12 for a coffee",
        "I will CLOSE my Account today",
        "rated it 10/10",
        "going to leave after 3 hours late",
        "nothing to see here",
    ],
)
def test_pattern_gates_never_hide_a_match(enricher: PipelineEnricher, text: str) -> None:
    """A gate is only a shortcut: whenever a pattern matches, its gate passes."""
    import re

    from nlp.stages import JourneyStageMatcher, _passes, pattern_gate

    stage = enricher.nlp.get_pipe("lp_journey_stage")
    assert isinstance(stage, JourneyStageMatcher)
    for _key, pattern, gate in stage._patterns:
        assert gate == pattern_gate(pattern.pattern)
        if gate is None:
            continue
        matched = re.search(pattern.pattern, text, re.IGNORECASE) is not None
        assert _passes(gate, text.lower()) or not matched


def test_item_decision_shortcuts_match_pooling(enricher: PipelineEnricher) -> None:
    """The enricher reuses a lone evidence segment's decision for the item, and the
    matcher passes a precomputed rank: both must equal pooling + a plain `decide`."""
    from nlp.docview import doc_view
    from nlp.stages import JourneyStageMatcher, decide, pool

    stage = enricher.nlp.get_pipe("lp_journey_stage")
    assert isinstance(stage, JourneyStageMatcher)
    texts = [
        "The app is great. I want to cancel my subscription. Nice weather today.",
        "Hello there. Nothing to see. Really nothing.",
        "I could not log in. My card was charged twice, $40! Then I cancelled my plan.",
        "Refund please.",
    ]
    for text in texts:
        doc = enricher.nlp(text)
        view = doc_view(doc)
        found = view.segment_stages
        slow = decide(pool(found), order=stage.order, threshold=stage.threshold)
        assert stage.decide(pool(found)) == slow
        assert enricher._to_enrichment(doc, None).stage == slow
        for one in found:
            assert stage.decide(one) == decide(one, order=stage.order, threshold=stage.threshold)


@pytest.mark.parametrize(
    ("text", "stage"),
    [
        ("Saw your offer on the website, is it still on?", "discover"),
        ("They made me a retention offer to stay.", "renew"),
        ("Would be nice if the renewal offer was just in the app.", "renew"),
    ],
)
def test_offers_by_kind(enricher: PipelineEnricher, text: str, stage: str) -> None:
    assert enricher.enrich(text).stage.stage == stage


def test_offered_is_not_discovery(enricher: PipelineEnricher) -> None:
    """ "offered" is mostly a fix or compensation, not a customer finding out."""
    assert enricher.enrich("No ETA, no compensation offered.").stage.stage != "discover"


def test_each_segment_carries_the_themes_its_own_words_say() -> None:
    from nlp.journey import load_journey
    from nlp.pipeline import build_enricher

    enricher = build_enricher(load_journey())
    result = enricher.enrich("Setup was easy but the invoice was wrong and the refund is late.")
    by_stage = {s.stage.stage: s.themes for s in result.segments}
    assert "setup" in by_stage["onboard"]
    assert "invoice" in by_stage["billing"]
    assert "invoice" not in by_stage["onboard"]
    said = [t for s in result.segments for t in s.themes]
    assert set(said) <= set(result.themes)
    assert set(result.themes) <= set(said)
