"""The themes component honours the journey's `never_themes`."""

from __future__ import annotations

import dataclasses

from nlp.journey import Journey
from nlp.pipeline import build_enricher

TEXT = "The Acme router keeps dropping. Acme broadband is down again at night."


def test_a_never_theme_word_is_never_a_theme_nor_part_of_one(default_journey: Journey) -> None:
    plain = build_enricher(default_journey).enrich(TEXT).themes
    assert any("acme" in theme.split() for theme in plain)  # the word does reach the themes
    journey = dataclasses.replace(default_journey, never_themes=("acme",))
    enricher = build_enricher(journey)
    themes = enricher.enrich(TEXT).themes
    assert themes
    assert not any("acme" in theme.split() for theme in themes)
    assert "broadband" in themes  # the rest of the run survives
    assert enricher.version != build_enricher(default_journey).version
