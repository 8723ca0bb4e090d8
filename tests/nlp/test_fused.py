"""The fused per-token pass (`nlp.fused`) gives exactly what the separate components give.

The four components stay the pipeline and the reference: every test here runs the
same texts through `PipelineEnricher(..., fused=False)` (spaCy's `nlp.pipe`, one
component after the other) and through the fused pass, and compares the whole
`Enrichment`s, the `DocView`s and the sentence starts."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from nlp.docview import doc_view
from nlp.enrichment import EnrichRequest
from nlp.fused import FUSED_PIPES, fused_pass
from nlp.journey import Journey, load_journey
from nlp.pipeline import PipelineEnricher, build_enricher

ROOT = Path(__file__).resolve().parents[2]
FIXTURE_DIRS = (ROOT / "tests" / "fixtures", ROOT / "app" / "sample_data")
TEXT_SUFFIXES = {".txt", ".md", ".vtt", ".json", ".jsonl", ".csv", ".yaml"}


def fixture_texts() -> list[str]:
    """Every line of the project's text fixtures, and each whole file (long texts of
    many segments), in a fixed order."""
    texts: list[str] = []
    for folder in FIXTURE_DIRS:
        for path in sorted(folder.rglob("*")):
            if not path.is_file() or path.suffix not in TEXT_SUFFIXES:
                continue
            content = path.read_text(encoding="utf-8", errors="replace")
            texts.append(content[:20_000])
            texts.extend(line for line in content.splitlines() if line.strip())
    return texts


def generated_texts(count: int, seed: int) -> Iterator[str]:
    """Random texts from words every rule of the components reacts to: lexicon words
    and phrases, negators, boosters, contrast words, caps, '!' and '?', request
    frames and actions, stage phrases, @handles and #tags, PII, blank lines, non-ASCII."""
    rng = random.Random(seed)
    words = """
    the a my flight was is not never no n't nothing but however very really so
    extremely great good bad terrible awful love hate thanks thank you ok fine
    refund still waiting on hold for 3 hours delayed cancelled lost luggage bag
    I'd like to book a room how do I cancel my subscription help me set up reset
    password can I close account order delivery invoice charged twice fee billing
    sign up signed signing setup app crashed support agent customer service rude
    review rate you 10/10 recommend told everyone leave quit where is my parcel
    @united #fail http://t.co/x WORST SERVICE EVER LOVE IT !!! ?! ? ! . , ; :
    ... … - -- :) :( 😀 café naïve İstanbul don't can't won't isn't didn't
    """.split()
    extras = ["\n\n", "\n", "  ", "jane@example.com", "+44 20 7946 0958", "4111 1111 1111 1111"]
    for _ in range(count):
        n = rng.randint(0, 40)
        parts = [rng.choice(words) if rng.random() > 0.05 else rng.choice(extras) for _ in range(n)]
        text = " ".join(parts)
        if rng.random() < 0.2:
            text = text.upper()
        yield text


def assert_same(fused: PipelineEnricher, reference: PipelineEnricher, texts: list[str]) -> None:
    hints = [None, "billing", "no-such-stage"]
    requests = [EnrichRequest(t, hints[i % 3] if i % 7 == 0 else None) for i, t in enumerate(texts)]
    got = list(fused.enrich_many(requests))
    want = list(reference.enrich_many(requests))
    assert len(got) == len(want) == len(texts)
    for text, a, b in zip(texts, got, want, strict=True):
        assert a == b, text
    # the DocView and the sentence starts, not only what the Enrichment keeps of them
    assert fused._fused is not None
    for text in texts[:400]:
        doc = reference.nlp(text)
        ours = fused.nlp.make_doc(text)
        fused._fused(ours)
        assert doc_view(ours) == doc_view(doc), text
        assert [t.is_sent_start for t in ours] == [t.is_sent_start for t in doc], text


@pytest.fixture(scope="module")
def pair(enricher: PipelineEnricher) -> tuple[PipelineEnricher, PipelineEnricher]:
    assert enricher.fused  # the default pipeline runs fused
    return enricher, PipelineEnricher(enricher.nlp, enricher.journey, fused=False)


def test_fused_equals_the_components_on_the_project_fixtures(
    pair: tuple[PipelineEnricher, PipelineEnricher],
) -> None:
    texts = fixture_texts()
    assert len(texts) > 300
    assert_same(*pair, texts)
    # the fixtures reach the rules the pass fuses
    results = list(pair[0].enrich_many(EnrichRequest(t) for t in texts))
    assert {r.sentiment.label for r in results} == {"negative", "neutral", "positive"}
    assert any(len(r.segments) > 3 for r in results)
    assert any(r.themes for r in results)
    methods = {s.stage.method for r in results for s in r.segments}
    assert {"phrase", "request", "complaint"} <= {m for ms in methods for m in ms.split("+")}


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fused_equals_the_components_on_generated_text(
    pair: tuple[PipelineEnricher, PipelineEnricher], seed: int
) -> None:
    assert_same(*pair, list(generated_texts(1500, seed)))


def test_fused_enrich_equals_enrich_many(pair: tuple[PipelineEnricher, PipelineEnricher]) -> None:
    fused, reference = pair
    for text in ["", "   ", "Setup was easy but the invoice was wrong.", "ok", "Nothing."]:
        assert fused.enrich(text) == reference.enrich(text)
        assert fused.enrich(text, stage_hint="renew") == reference.enrich(text, stage_hint="renew")
        assert [fused.enrich(text)] == list(fused.enrich_many([EnrichRequest(text)]))


def test_fused_follows_another_journey_and_its_never_themes() -> None:
    journey = load_journey(ROOT / "app" / "sample_data" / "journey.yaml")
    assert journey.never_themes
    fused = build_enricher(journey)
    reference = PipelineEnricher(fused.nlp, journey, fused=False)
    assert_same(fused, reference, fixture_texts()[:600] + list(generated_texts(300, 7)))


def test_fused_memo_follows_rebuilt_tables(default_journey: Journey) -> None:
    fused = build_enricher(default_journey)
    reference = PipelineEnricher(fused.nlp, default_journey, fused=False)
    texts = ["The flight crew were lovely", "flight delayed again, refund please", "Flight ok"]
    assert_same(fused, reference, texts)
    # a component rebuilt after the pass filled its memo: the pass must not keep stale entries
    fused.nlp.get_pipe("lp_themes").set_never(["flight", "crew"])
    assert_same(fused, reference, texts)
    assert all("flight" not in r.themes for r in fused.enrich_many(EnrichRequest(t) for t in texts))


def test_fused_only_for_the_default_pipes(enricher: PipelineEnricher) -> None:
    assert tuple(enricher.nlp.pipe_names) == FUSED_PIPES
    assert fused_pass(enricher.nlp) is not None
    assert not PipelineEnricher(enricher.nlp, enricher.journey, fused=False).fused
    import spacy

    other = spacy.blank("en")
    other.add_pipe("lp_segmenter")
    assert fused_pass(other) is None
