"""`extends: default`: a company's journey that changes only some fields."""

from __future__ import annotations

from pathlib import Path

import pytest

from nlp.journey import Journey, JourneyError, load_journey, parse_journey


def test_extending_the_default_replaces_only_the_fields_given(
    default_journey: Journey, tmp_path: Path
) -> None:
    path = tmp_path / "journey.yaml"
    path.write_text("extends: default\nname: Acme\nnever_themes: [acme, acmebox]\n")
    journey = load_journey(path)
    assert journey.name == "Acme"
    assert journey.never_themes == ("acme", "acmebox")
    assert journey.stages == default_journey.stages
    assert journey.complaint_stage == default_journey.complaint_stage


def test_an_extended_journey_is_validated_like_any_other(default_journey: Journey) -> None:
    with pytest.raises(JourneyError, match="complaint_stage"):
        parse_journey({"extends": "default", "complaint_stage": "nowhere"})
    unset = parse_journey({"extends": "default", "complaint_stage": None})
    assert unset.complaint_stage is None
    assert unset.keys == default_journey.keys


def test_only_the_shipped_default_can_be_extended() -> None:
    with pytest.raises(JourneyError, match="extends can only name 'default'"):
        parse_journey({"extends": "other.yaml", "never_themes": ["x"]})
