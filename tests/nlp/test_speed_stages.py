"""The stage matcher's shortcuts give the answers of the plain code."""

from __future__ import annotations

import math
import random

from nlp.docview import doc_view
from nlp.enrichment import UNASSIGNED, StageDecision
from nlp.pipeline import PipelineEnricher
from nlp.stages import StageEvidence, compact_gate, decide, decide_pooled, pool


def _plain_decide(found: StageEvidence, order: list[str], threshold: float) -> StageDecision:
    """`decide` as first written: a fresh decision each time, no shared objects."""
    scores = found.scores
    if not scores:
        return StageDecision(UNASSIGNED, 0.0, "none")
    best = min(scores, key=lambda k: (-scores[k], order.index(k)))
    score = scores[best]
    confidence = round((score / sum(scores.values())) * (1.0 - math.exp(-score)), 4)
    evidence = tuple(found.evidence.get(best, ()))
    if confidence < threshold:
        return StageDecision(UNASSIGNED, confidence, "below_threshold", evidence)
    return StageDecision(best, confidence, "+".join(sorted(found.methods[best])), evidence)


def test_decide_equals_the_plain_version_on_random_evidence() -> None:
    order = ["a", "b", "c", "d"]
    rank = {key: i for i, key in enumerate(order)}
    rng = random.Random(7)
    for _ in range(4000):
        found = StageEvidence()
        for _ in range(rng.randint(0, 5)):
            found.add(
                rng.choice(order),
                rng.choice([0.5, 1.0, 1.5, 2.0]),
                rng.choice(["x", "y", "z"]),
                rng.choice(["phrase", "pattern", "complaint"]),
            )
        threshold = rng.choice([0.0, 0.3, 0.6])
        expected = _plain_decide(found, order, threshold)
        assert decide(found, order=order, threshold=threshold) == expected
        assert decide(found, order=order, threshold=threshold, rank=rank) == expected


def test_compact_gate_lets_through_every_text_the_full_gate_does() -> None:
    gates = [
        ("close", "closing", "delete", "deleting", "remove", "removing", "removal of"),
        ("cancel", "cancelling", "terminate"),
        ("late", "delay", "wait"),
        ("$", "€", "£"),
        ("account",),
        ("still ", "still not"),
    ]
    rng = random.Random(3)
    alphabet = "acdeilmnorstvgw $€£"
    for gate in gates:
        short = compact_gate(gate)
        assert len(short) <= len(gate)
        assert all(any(s in literal for literal in gate) for s in short)
        texts = [" ".join(rng.sample(gate, 1)) + " x" for _ in range(20)]
        texts += ["".join(rng.choice(alphabet) for _ in range(30)) for _ in range(3000)]
        for text in texts:
            if any(literal in text for literal in gate):
                assert any(s in text for s in short), (gate, text)
    assert compact_gate(("close", "closing", "cancel", "cancelling")) == ("cancel", "clos")


def test_pattern_gates_hold_on_the_default_journey(enricher: PipelineEnricher) -> None:
    """Whenever a default-journey pattern matches a text, its (compacted) gate passes."""
    stage = enricher._stage
    words = ["close", "closed", "closing", "my", "account", "deleting", "removal", "of",
             "cancelled", "2", "hours", "late", "waiting", "for", "our", "order", "$", "5",
             "still", "don't", "have", "will", "leave", "10/10", "where", "is", "terrible",
             "service", "missing", "open", "an", "."]  # fmt: skip
    rng = random.Random(11)
    matched = 0
    for _ in range(3000):
        text = " ".join(rng.choice(words) for _ in range(rng.randint(2, 10)))
        lowered = text.lower()
        for _key, pattern, gate in stage._patterns:
            if pattern.search(text):
                matched += 1
                assert gate is None or any(literal in lowered for literal in gate)
    assert matched > 500


def test_one_segment_evidence_equals_the_same_segment_among_several(
    enricher: PipelineEnricher,
) -> None:
    """A one-segment text skips the segment lookups (`bisect`): its evidence is what
    the same sentence gets as the second segment of a longer text."""
    texts = [
        "How do I close my old Premium account?",
        "I waited 3 hours for my refund and it cost me $40",
        "Signed up yesterday and the setup was painless",
        "I will leave if the billing is wrong again",
        "rated it 10/10 and told all my friends",
        "the app keeps crashing when I log in",
    ]
    compared = 0
    for text in texts:
        alone = doc_view(enricher.nlp(text))
        among = doc_view(enricher.nlp("Hello there. " + text))
        if len(alone.segments) != 1 or len(among.segments) != 2:
            continue
        assert not among.segment_stages[0].scores
        assert alone.segment_stages[0].scores  # these texts do have evidence
        assert alone.segment_stages[0] == among.segment_stages[1]
        compared += 1
    assert compared >= 5


def test_decide_pooled_equals_deciding_on_the_pooled_evidence() -> None:
    order = ["a", "b", "c", "d"]
    rank = {key: i for i, key in enumerate(order)}
    rng = random.Random(5)
    for _ in range(3000):
        segments = []
        for _ in range(rng.randint(0, 4)):
            found = StageEvidence()
            for _ in range(rng.randint(0, 3)):
                found.add(
                    rng.choice(order),
                    rng.choice([0.5, 1.0, 1.5, 0.1]),
                    rng.choice(["x", "y", "z", "w"]),
                    rng.choice(["phrase", "pattern", "complaint"]),
                )
            segments.append(found)
        for threshold in (0.0, 0.3, 0.6):
            expected = decide(pool(segments), order=order, threshold=threshold)
            assert decide_pooled(segments, rank, threshold) == expected
