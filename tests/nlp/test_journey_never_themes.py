"""`never_themes`: a journey's own list of words that are never a theme."""

from __future__ import annotations

import json
from typing import Any

import pytest

from nlp.journey import Journey, JourneyError, parse_journey
from nlp.stages import journey_to_data


def _raw(**extra: Any) -> dict[str, Any]:
    return {"stages": [{"key": "use", "name": "Use", "phrases": ["app"]}], **extra}


def test_default_journey_lists_only_generic_shorthand(default_journey: Journey) -> None:
    assert "cust" in default_journey.never_themes
    assert all(word == word.lower() and " " not in word for word in default_journey.never_themes)


def test_never_themes_are_lower_cased_and_deduplicated() -> None:
    journey = parse_journey(_raw(never_themes=["Fernbox", "fernbox", "ACME"]))
    assert journey.never_themes == ("fernbox", "acme")
    assert parse_journey(_raw()).never_themes == ()


@pytest.mark.parametrize("bad", [["two words"], "fernbox", [""], [3]])
def test_never_themes_must_be_a_list_of_single_words(bad: object) -> None:
    with pytest.raises(JourneyError, match="never_themes"):
        parse_journey(_raw(never_themes=bad))


def test_never_themes_travel_with_the_saved_journey() -> None:
    """`JourneyStageMatcher.to_disk` saves `journey_to_data` as JSON."""
    journey = parse_journey(_raw(never_themes=["fernbox"], complaint_stage="use"))
    again = parse_journey(json.loads(json.dumps(journey_to_data(journey))))
    assert again == journey
