"""A long-running worker enriches millions of texts full of words seen once (order
numbers, names, typos): the pipeline's memory must not grow with them."""

from __future__ import annotations

from nlp.enrichment import Enrichment, EnrichRequest
from nlp.journey import Journey
from nlp.pipeline import build_enricher


def _texts(start: int, n: int) -> list[str]:
    return [
        f"Order ZX{i}Q arrived late and the invoice for ref {i} charged me twice. "
        f"Support agent Quillon{i} fixed it fast, thanks!"
        for i in range(start, start + n)
    ]


def _summary(enrichments: list[Enrichment]) -> list[object]:
    return [
        (
            e.sentiment,
            e.stage,
            e.themes,
            [(s.text, s.sentiment, s.stage, s.themes) for s in e.segments],
        )
        for e in enrichments
    ]


def test_words_seen_once_do_not_stay_in_the_vocabulary(default_journey: Journey) -> None:
    zoned = build_enricher(default_journey)
    strings = zoned.nlp.vocab.strings
    zoned._vocab_limit = len(strings) + 200  # zones from the first few hundred new words
    first = list(zoned.enrich_many(EnrichRequest(t) for t in _texts(0, 300)))
    settled = len(strings)
    later = list(zoned.enrich_many(EnrichRequest(t) for t in _texts(300, 1_500)))
    single = [zoned.enrich(t) for t in _texts(1_800, 50)]
    assert len(strings) == settled  # 4,650 new words came and went
    # the same answers as a pipeline that keeps every word
    plain = build_enricher(default_journey)
    plain._vocab_limit = 10**9
    texts = _texts(0, 1_850)
    expected = list(plain.enrich_many(EnrichRequest(t) for t in texts))
    assert len(plain.nlp.vocab.strings) > settled + 4_000
    assert _summary(first + later + single) == _summary(expected)
