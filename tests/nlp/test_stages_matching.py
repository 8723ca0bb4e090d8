"""How phrase and pattern evidence overlap: the longer cue hides the ones inside it."""

from __future__ import annotations

from pathlib import Path

import yaml

from nlp.journey import load_journey
from nlp.pipeline import PipelineEnricher, build_enricher

JOURNEY = {
    "name": "overlap",
    "stages": [
        {
            "key": "wait",
            "name": "Waiting",
            "phrases": ["waiting for my parcel to be delivered"],
            "patterns": [r"\bwait(ing|ed)?\b[^.?!]{0,30}\bfor (my|our) \w+"],
        },
        {"key": "leave", "name": "Leave", "patterns": [r"\bcancel\w*\b[^.?!]{0,25}\baccount\b"]},
        {"key": "use", "name": "Use", "phrases": ["cancel", "account", "parcel"]},
    ],
}


def _enricher(tmp_path: Path) -> PipelineEnricher:
    path = tmp_path / "overlap.yaml"
    path.write_text(yaml.safe_dump(JOURNEY), encoding="utf-8")
    return build_enricher(load_journey(path))


def test_a_pattern_hides_the_phrases_inside_it(tmp_path: Path) -> None:
    result = _enricher(tmp_path).enrich("Cancelling my old account now.")
    assert result.stage.stage == "leave"
    assert result.stage.method == "pattern"
    # "cancel" and "account" alone would have given "use" 2.0 against 1.5.
    assert result.stage.confidence > 0.7


def test_a_phrase_as_long_as_the_pattern_match_still_counts(tmp_path: Path) -> None:
    enricher = _enricher(tmp_path)
    found = enricher.enrich("Still waiting for my parcel to be delivered.").stage
    assert found.stage == "wait"
    assert found.method == "pattern+phrase"
    assert enricher.enrich("Waiting for my parcel.").stage.method == "pattern"


def test_a_long_phrase_with_many_inflections_matches_as_written(
    enricher: PipelineEnricher,
) -> None:
    # "waiting for my refund" has 567 inflected combinations, more than the cap.
    found = enricher.enrich("I am still waiting for my refund.").stage
    assert found.stage == "billing"
    assert "waiting for my refund" in found.evidence
    assert "waited for my refund" in enricher.enrich("I waited for my refund.").stage.evidence
