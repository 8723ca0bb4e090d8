"""Stage keys are configuration: the pipeline works for any journey."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from nlp.enrichment import UNASSIGNED
from nlp.journey import Journey, load_journey
from nlp.pipeline import build_enricher
from tests.conftest import DEFAULT_STAGE_KEYS

CUSTOM = """
name: clinic
stages:
  - key: appointment
    name: Appointment
    description: Getting an appointment.
    phrases: [appointment, waiting list, book a slot]
    patterns: ["\\\\bslot(s)? (at|on)\\\\b"]
    examples: [I could not get an appointment for weeks.]
  - key: treatment
    name: Treatment
    description: The visit itself.
    phrases: [doctor, nurse, treatment, prescription]
    examples: [The nurse was kind and explained everything.]
  - key: aftercare
    name: Aftercare
    description: Follow-up after the visit.
    phrases: [follow up, results]
    examples: [Nobody told me my test results.]
"""


@pytest.fixture(scope="module")
def clinic(tmp_path_factory: pytest.TempPathFactory) -> Journey:
    path = tmp_path_factory.mktemp("journey") / "clinic.yaml"
    path.write_text(CUSTOM, encoding="utf-8")
    return load_journey(path)


def test_default_journey_has_the_eight_stages(default_journey: Journey) -> None:
    assert default_journey.keys == DEFAULT_STAGE_KEYS
    for stage in default_journey.stages:
        assert stage.name
        assert stage.description
        assert stage.phrases
        assert len(stage.examples) >= 10


def test_default_journey_is_industry_neutral(default_journey: Journey) -> None:
    banned = re.compile(
        r"\b(flights?|fly|flying|luggage|baggage|boarding|cards?|airlines?|banks?|loans?|crew)\b"
    )
    for stage in default_journey.stages:
        for text in (
            *stage.phrases,
            *stage.patterns,
            *stage.examples,
            *stage.requests,
            stage.description,
        ):
            assert not banned.search(text.lower()), (stage.key, text)


def test_custom_journey_drives_stages(clinic: Journey) -> None:
    enricher = build_enricher(clinic)
    result = enricher.enrich(
        "I waited months on the waiting list. The nurse was lovely. No follow up at all."
    )
    assert [s.stage.stage for s in result.segments] == ["appointment", "treatment", "aftercare"]
    assert enricher.enrich("There were no slots on Monday.").stage.stage == "appointment"
    assert enricher.enrich("I was charged twice").stage.stage == UNASSIGNED
    assert enricher.enrich("hello", stage_hint="treatment").stage.stage == "treatment"
    assert enricher.enrich("hello", stage_hint="billing").stage.stage == UNASSIGNED


def test_version_changes_with_journey(default_journey: Journey, clinic: Journey) -> None:
    a = build_enricher(default_journey)
    b = build_enricher(clinic)
    c = build_enricher(load_journey())
    assert a.version != b.version
    assert a.version == c.version


def test_version_changes_with_one_phrase(tmp_path: Path, default_journey: Journey) -> None:
    from nlp.journey import default_journey_path

    text = default_journey_path().read_text(encoding="utf-8")
    edited = tmp_path / "edited.yaml"
    edited.write_text(text.replace("      - kudos\n", ""), encoding="utf-8")
    assert build_enricher(load_journey(edited)).version != build_enricher(default_journey).version


def test_saved_pipeline_round_trips(tmp_path: Path, clinic: Journey) -> None:
    enricher = build_enricher(clinic)
    enricher.nlp.to_disk(tmp_path / "model")
    loaded = build_enricher(clinic, model_dir=tmp_path / "model")
    text = "The nurse was rude. I waited weeks for an appointment; call 020 7946 0958."
    assert loaded.enrich(text).segments == enricher.enrich(text).segments
    assert loaded.version != enricher.version  # the model files are part of the version
    assert loaded.enrich(text).redactions == {"phone": 1}
