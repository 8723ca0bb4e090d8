"""A trained classifier in the pipeline (`lp_textcat_stage` / `lp_textcat_sentiment`,
as `listening-path nlp train` saves them) is read through `doc.cats`. A stub
component stands in for spaCy's textcat so the test needs no training run."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from spacy.language import Language
from spacy.tokens import Doc

from nlp.journey import Journey
from nlp.pipeline import (
    SENTIMENT_MODEL_PIPE,
    STAGE_MODEL_PIPE,
    PipelineEnricher,
    build_nlp,
)


class FixedCats:
    def __init__(self, cats: dict[str, float]) -> None:
        self.cats = cats

    def __call__(self, doc: Doc) -> Doc:
        doc.cats.update(self.cats)
        return doc


@Language.factory("stub_fixed_cats", default_config={"cats": {}})
def make_fixed_cats(nlp: Language, name: str, cats: dict[str, float]) -> FixedCats:
    return FixedCats(cats)


Build = Callable[..., PipelineEnricher]


@pytest.fixture
def with_models(default_journey: Journey) -> Build:
    def build(stage: dict[str, float] | None = None, sentiment: dict[str, float] | None = None):
        nlp = build_nlp(default_journey)
        if stage is not None:
            nlp.add_pipe(
                "stub_fixed_cats",
                name=STAGE_MODEL_PIPE,
                config={"cats": stage},
                before="lp_sentiment",
            )
        if sentiment is not None:
            nlp.add_pipe(
                "stub_fixed_cats",
                name=SENTIMENT_MODEL_PIPE,
                config={"cats": sentiment},
                before="lp_sentiment",
            )
        return PipelineEnricher(nlp, default_journey)

    return build


def test_stage_model_decides_the_item(with_models: Build) -> None:
    enricher = with_models(stage={"billing": 0.8, "use": 0.2})
    result = enricher.enrich("The app keeps crashing.")
    assert result.stage.stage == "billing"
    assert result.stage.method == "model"
    assert result.segments[0].stage == result.stage


def test_stage_model_below_threshold_is_ignored(with_models: Build) -> None:
    enricher = with_models(stage={"billing": 0.2, "use": 0.1})
    assert enricher.enrich("The app keeps crashing.").stage.stage == "use"
    assert enricher.enrich("The weather is nice.").stage.stage == "unassigned"


def test_hint_beats_model_and_segments_keep_their_evidence(with_models: Build) -> None:
    enricher = with_models(stage={"billing": 0.9})
    result = enricher.enrich("The app keeps crashing. The weather is nice.", stage_hint="support")
    assert result.stage.stage == "support"
    assert [s.stage.stage for s in result.segments] == ["use", "support"]
    no_hint = enricher.enrich("The app keeps crashing. The weather is nice.")
    assert [s.stage.stage for s in no_hint.segments] == ["use", "billing"]


def test_sentiment_model(with_models: Build) -> None:
    enricher = with_models(sentiment={"negative": 0.7, "neutral": 0.2, "positive": 0.1})
    result = enricher.enrich("I love it, thank you!")
    assert result.sentiment.label == "negative"
    assert result.sentiment.score == pytest.approx(-0.6)
    assert result.segments[0].sentiment == result.sentiment


def test_no_model_no_change(with_models: Build, default_journey: Journey) -> None:
    from nlp.pipeline import build_enricher

    text = "Setup was easy but the invoice was wrong."
    assert (
        with_models().enrich(text).segments == build_enricher(default_journey).enrich(text).segments
    )


def with_weight(enricher: PipelineEnricher, pipe: str, weight: float) -> PipelineEnricher:
    """The same pipeline, its `pipe` recorded as `nlp train` records a blend weight."""
    meta = enricher.nlp.meta.setdefault("listening_path", {}).setdefault("textcat", {})
    meta[pipe] = {"blend_weight": weight}
    return PipelineEnricher(enricher.nlp, enricher.journey)


def test_blended_stage_model_keeps_strong_rule_evidence(with_models: Build) -> None:
    enricher = with_weight(with_models(stage={"billing": 0.6, "use": 0.4}), STAGE_MODEL_PIPE, 0.5)
    crash = enricher.enrich("The app keeps crashing and it crashed again.")
    assert crash.stage.stage == "use"
    assert crash.stage.method == "model+rules"
    assert "model:lp_textcat_stage" in crash.stage.evidence
    # No rule evidence at all: the rules' doubt is handed to the model whole.
    weather = enricher.enrich("The weather is nice.")
    assert weather.stage.stage == "billing"
    assert weather.stage.confidence == pytest.approx(0.6)
    assert weather.stage.method == "model"


def test_a_confident_model_outweighs_weak_rule_evidence(with_models: Build) -> None:
    text = "The app keeps crashing."
    rules_only = with_weight(
        with_models(stage={"billing": 0.97, "use": 0.03}), STAGE_MODEL_PIPE, 0.0
    )
    trusted = with_weight(with_models(stage={"billing": 0.97, "use": 0.03}), STAGE_MODEL_PIPE, 0.9)
    assert rules_only.enrich(text).stage.stage == "use"
    assert trusted.enrich(text).stage.stage == "billing"


def test_blended_sentiment_model(with_models: Build) -> None:
    cats = {"negative": 0.2, "neutral": 0.3, "positive": 0.5}
    text = "This is terrible, awful, the worst service ever."
    alone = with_models(sentiment=cats).enrich(text)
    assert alone.sentiment.label == "positive"
    blended = with_weight(with_models(sentiment=cats), SENTIMENT_MODEL_PIPE, 0.5).enrich(text)
    assert blended.sentiment.label == "negative"
    assert blended.sentiment.score < 0
    # A rule score near 0 leaves the call to the model.
    flat = with_weight(with_models(sentiment=cats), SENTIMENT_MODEL_PIPE, 0.5).enrich(
        "It is a box."
    )
    assert flat.sentiment.label == "positive"


def test_blend_weight_from_meta(with_models: Build) -> None:
    from nlp.training.blend import FEW_LABEL_CAP, blend_weight, few_label_weight

    nlp = with_models(stage={"billing": 1.0}).nlp
    assert blend_weight(nlp, STAGE_MODEL_PIPE) == 1.0  # no record: the model alone
    nlp.meta["listening_path"] = {"textcat": {STAGE_MODEL_PIPE: {"per_class_min": 10}}}
    assert blend_weight(nlp, STAGE_MODEL_PIPE) == pytest.approx(few_label_weight(10))
    nlp.meta["listening_path"]["textcat"][STAGE_MODEL_PIPE]["blend_weight"] = 0.25
    assert blend_weight(nlp, STAGE_MODEL_PIPE) == 0.25
    weights = [few_label_weight(n) for n in (0, 5, 10, 20, 50, 5000)]
    assert weights[0] == 0.0
    assert weights == sorted(weights)
    assert weights[-1] == FEW_LABEL_CAP


def test_blend_decides_among_the_stages_the_model_was_trained_on(with_models: Build) -> None:
    enricher = with_weight(with_models(stage={"billing": 0.6, "use": 0.4}), STAGE_MODEL_PIPE, 0.5)
    result = enricher.enrich("I could not sign up, the sign up form failed.")
    assert result.stage.stage == "billing"  # the rules' onboard evidence has no say here
    assert result.stage.confidence == pytest.approx(0.6)
