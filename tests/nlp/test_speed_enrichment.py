"""The enricher's one-segment shortcut gives the general path's answer."""

from __future__ import annotations

from nlp.docview import doc_view
from nlp.pipeline import PipelineEnricher

TEXTS = [
    "I waited 3 hours for my refund.",
    "Love it, thanks so much!",
    "How do I close my old Premium account?",
    "The app keeps crashing when I pay with my card",
    "ok",
    "Still no word from anyone",
    "They charged me twice and nobody answers the phone!!!",
    "Signed up yesterday, setup was painless",
    "Is there a fee for sending money abroad?",
    "@brand #fail http://x.y waste of money",
    "WORST SERVICE EVER",
]


def test_one_segment_shortcut_equals_the_general_path(enricher: PipelineEnricher) -> None:
    assert not enricher._models  # the default pipeline takes the shortcut
    shortcut = 0
    for text in TEXTS:
        doc = enricher.nlp(text)
        if len(doc_view(doc).segments) != 1:
            continue
        shortcut += 1
        fast = enricher._to_enrichment(doc, None)
        # an unknown hint is dropped, so the general path runs with no hint
        general = enricher._to_enrichment(doc, "no-such-stage")
        assert fast == general
        assert fast == enricher.enrich(text)
    assert shortcut >= 9
    decided = {enricher.enrich(t).stage.stage for t in TEXTS}
    assert len(decided) >= 3  # the texts reach several stages, not only unassigned
