"""How the pipeline is put together: declared `requires`/`assigns` checked by spaCy's
analyze_pipes, the journey entering through the config, every tuned number in one
place, and coded errors."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
import spacy
from thinc.api import Config

from nlp import thresholds as T
from nlp.errors import DatasetError, Errors, JourneyError, NLPError, PipelineError, TrainingError
from nlp.journey import Journey, parse_journey, register_journey
from nlp.pipeline import (
    DEFAULT_STAGE_THRESHOLD,
    PIPELINE_CONFIG,
    STAGE_PIPE,
    THEMES_PIPE,
    build_nlp,
    check_pipeline,
    pipeline_config,
)
from nlp.stages import JourneyStageMatcher
from nlp.themes import ThemeExtractor

ORDER = ["lp_segmenter", "lp_sentiment", "lp_journey_stage", "lp_themes"]


def test_each_component_declares_what_it_reads_and_writes(default_journey: Journey) -> None:
    nlp = build_nlp(default_journey)
    assert nlp.pipe_names == ORDER
    meta = {name: nlp.get_pipe_meta(name) for name in ORDER}
    assert "doc._.lp_segments" in meta["lp_segmenter"].assigns
    assert meta["lp_sentiment"].requires == ["doc._.lp_segments"]
    assert set(meta["lp_journey_stage"].requires) == {"doc._.lp_segments", "doc._.lp_sentiment"}
    assert meta["lp_themes"].requires == ["doc._.lp_segments"]
    analysis = nlp.analyze_pipes()
    assert analysis is not None
    assert not any(analysis["problems"].values())
    # the declared attributes are real: they read what the components wrote
    doc = nlp("Setup was easy but the invoice was wrong.")
    assert len(doc._.lp_segments) == 2
    assert doc._.lp_sentiment[1].score < 0
    assert len(doc._.lp_stages) == 2
    assert doc._.lp_themes


def test_a_pipe_before_what_it_reads_is_refused() -> None:
    config = pipeline_config()
    config["nlp"]["pipeline"] = ["lp_segmenter", "lp_journey_stage", "lp_sentiment", "lp_themes"]
    nlp = spacy.util.load_model_from_config(config, auto_fill=True)
    with pytest.raises(
        PipelineError, match=r"^\[E022\].*lp_journey_stage needs doc\._\.lp_sentiment"
    ):
        check_pipeline(nlp)


def test_the_journey_enters_through_the_config(default_journey: Journey) -> None:
    small = dataclasses.replace(
        default_journey,
        name="small",
        stages=default_journey.stages[:3],
        never_themes=("fibre",),
        complaint_stage=None,
    )
    nlp = build_nlp(small)
    ref = register_journey(small)
    assert nlp.config["components"][STAGE_PIPE]["journey_ref"] == ref
    assert nlp.config["components"][THEMES_PIPE]["journey_ref"] == ref
    stage = nlp.get_pipe(STAGE_PIPE)
    themes = nlp.get_pipe(THEMES_PIPE)
    assert isinstance(stage, JourneyStageMatcher)
    assert isinstance(themes, ThemeExtractor)
    assert stage.journey is small
    assert stage.order == small.keys
    assert "fibre" not in doc_themes(nlp, "The fibre router keeps dropping")


def doc_themes(nlp: spacy.Language, text: str) -> tuple[str, ...]:
    themes: tuple[str, ...] = nlp(text)._.lp_themes
    return themes


def test_a_saved_pipeline_without_its_journey_restores_the_saved_one(
    default_journey: Journey, tmp_path: Path
) -> None:
    small = dataclasses.replace(
        default_journey,
        name="small",
        stages=default_journey.stages[:2],
        never_themes=("fibre",),
        complaint_stage=None,
    )
    build_nlp(small).to_disk(tmp_path / "m")
    cfg = tmp_path / "m" / "config.cfg"
    cfg.write_text(re.sub(r'journey_ref = "j\w+"', 'journey_ref = "jnot-here"', cfg.read_text()))
    loaded = spacy.load(tmp_path / "m")  # a fresh process knows no in-memory journey
    stage = loaded.get_pipe(STAGE_PIPE)
    assert isinstance(stage, JourneyStageMatcher)
    assert stage.journey.keys == small.keys
    assert "fibre" not in doc_themes(loaded, "The fibre router keeps dropping")
    # ... and a journey given when loading wins over the saved one
    again = build_nlp(default_journey, model_dir=tmp_path / "m")
    stage = again.get_pipe(STAGE_PIPE)
    assert isinstance(stage, JourneyStageMatcher)
    assert stage.journey.keys == default_journey.keys


def test_every_tuned_number_lives_in_nlp_thresholds() -> None:
    config = Config().from_str(PIPELINE_CONFIG)
    expected = {
        "lp_sentiment": {
            "positive_threshold": T.POSITIVE_THRESHOLD,
            "negative_threshold": T.NEGATIVE_THRESHOLD,
            "question_factor": T.QUESTION_FACTOR,
            "contrast_before": T.CONTRAST_BEFORE,
            "contrast_after": T.CONTRAST_AFTER,
            "negation_valence": T.NEGATION_VALENCE,
            "model_weight": T.MODEL_WEIGHT,
            "short_answer_words": T.SHORT_ANSWER_WORDS,
            "faint_factor": T.FAINT_FACTOR,
        },
        "lp_journey_stage": {
            "threshold": T.STAGE_THRESHOLD,
            "phrase_weight": T.PHRASE_WEIGHT,
            "phrase_length_bonus": T.PHRASE_LENGTH_BONUS,
            "pattern_weight": T.PATTERN_WEIGHT,
            "example_weight": T.EXAMPLE_WEIGHT,
            "request_weight": T.REQUEST_WEIGHT,
        },
    }
    nlp = spacy.blank("en")
    for pipe, values in expected.items():
        defaults = nlp.get_factory_meta(pipe).default_config
        for key, value in values.items():
            assert config["components"][pipe][key] == value, (pipe, key)
            assert defaults[key] == value, (pipe, key)
    assert DEFAULT_STAGE_THRESHOLD == T.STAGE_THRESHOLD
    assert T.COMPLAINT_BELOW == T.NEGATIVE_THRESHOLD


def test_errors_carry_a_code_and_say_how_to_fix_it() -> None:
    with pytest.raises(JourneyError) as caught:
        parse_journey({"stages": [{"key": "Use", "name": "Use"}]})
    assert caught.value.code == "E003"
    assert str(caught.value).startswith("[E003] <journey>: stages[0].key must be lower-case")
    assert isinstance(caught.value, ValueError)  # callers catching ValueError keep working
    codes = [name for name in vars(Errors) if re.fullmatch(r"E\d{3}", name)]
    templates = [getattr(Errors, code) for code in codes]
    assert len(set(templates)) == len(templates)  # one message per code
    for cls, code in (
        (JourneyError, "E001"),
        (PipelineError, "E020"),
        (DatasetError, "E040"),
        (TrainingError, "E060"),
    ):
        assert issubclass(cls, NLPError)
        assert cls("a message naming the file and the fix").code == code
