"""A complaint that names no stage is filed under the journey's `complaint_stage`."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from nlp.enrichment import UNASSIGNED
from nlp.journey import Journey, JourneyError, load_journey, parse_journey
from nlp.pipeline import PipelineEnricher, build_enricher

NO_STAGE_WORDS_ANGRY = "This is absolutely terrible, I am furious."


def test_default_journey_files_stageless_complaints_under_its_complaint_stage(
    enricher: PipelineEnricher, default_journey: Journey
) -> None:
    assert default_journey.complaint_stage in default_journey.keys
    result = enricher.enrich(NO_STAGE_WORDS_ANGRY)
    assert result.sentiment.label == "negative"
    assert result.stage.stage == default_journey.complaint_stage
    assert result.stage.method == "complaint"
    assert 0.3 <= result.stage.confidence < 0.5  # weak: below any phrase's confidence


def test_complaint_goes_to_the_most_negative_segment(
    enricher: PipelineEnricher, default_journey: Journey
) -> None:
    result = enricher.enrich("It is Tuesday today. Unbelievable, worst day ever!")
    assert [s.stage.stage for s in result.segments] == [
        UNASSIGNED,
        default_journey.complaint_stage,
    ]
    assert result.stage.stage == default_journey.complaint_stage


@pytest.mark.parametrize("text", ["It is Tuesday today.", "Great, thanks a lot!"])
def test_text_that_is_not_a_complaint_stays_unassigned(
    enricher: PipelineEnricher, text: str
) -> None:
    result = enricher.enrich(text)
    assert result.stage.stage == UNASSIGNED
    assert result.stage.method == "none"


def test_stage_words_beat_the_complaint_default(enricher: PipelineEnricher) -> None:
    result = enricher.enrich("I was charged twice, this is absolutely terrible.")
    assert result.stage.stage == "billing"
    assert "complaint" not in result.stage.method


def test_complaint_default_can_be_left_out(tmp_path: Path) -> None:
    journey = load_journey()
    raw = {
        "name": "plain",
        "stages": [
            {"key": s.key, "name": s.name, "phrases": list(s.phrases)} for s in journey.stages
        ],
    }
    path = tmp_path / "plain.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    plain = load_journey(path)
    assert plain.complaint_stage is None
    assert build_enricher(plain).enrich(NO_STAGE_WORDS_ANGRY).stage.stage == UNASSIGNED


def test_complaint_stage_must_be_a_stage_key() -> None:
    raw = {
        "stages": [{"key": "use", "name": "Use", "phrases": ["app"]}],
        "complaint_stage": "billing",
    }
    with pytest.raises(JourneyError, match="complaint_stage"):
        parse_journey(raw)
    raw["complaint_stage"] = "use"
    assert parse_journey(raw).complaint_stage == "use"


def test_a_source_hint_beats_the_complaint_default_on_every_segment(
    enricher: PipelineEnricher, default_journey: Journey
) -> None:
    hint = next(key for key in default_journey.keys if key != default_journey.complaint_stage)
    result = enricher.enrich(NO_STAGE_WORDS_ANGRY, stage_hint=hint)
    assert result.stage.stage == hint
    assert [s.stage.stage for s in result.segments] == [hint] * len(result.segments)
    assert all(s.stage.method == "hint" for s in result.segments)
