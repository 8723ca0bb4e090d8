"""Snapshot of the registered spaCy functions: none may vanish silently."""

from __future__ import annotations

import spacy
from spacy.language import Language
from spacy.util import registry

import nlp.factories
from nlp.pipeline import PipelineEnricher, pipeline_config

EXPECTED_FACTORIES = {
    "lp_embedding_classifier",  # only in a model trained with `nlp train --embeddings`
    "lp_journey_stage",
    "lp_segmenter",
    "lp_sentiment",
    "lp_themes",
}


def test_factories_snapshot() -> None:
    registered = {name for name in Language.factories if name.startswith("lp_")}
    assert registered == EXPECTED_FACTORIES
    assert set(nlp.factories.FACTORIES) == EXPECTED_FACTORIES


def test_tokenizer_registered() -> None:
    assert registry.tokenizers.get("lp.redacting_tokenizer.v1") is not None
    assert registry.tokenizers.get("lp.redacting_tokenizer.v2") is not None
    assert nlp.factories.TOKENIZERS == ("lp.redacting_tokenizer.v1", "lp.redacting_tokenizer.v2")


def test_pipeline_is_built_from_config(enricher: PipelineEnricher) -> None:
    config = pipeline_config()
    assert config["nlp"]["tokenizer"]["@tokenizers"] == "lp.redacting_tokenizer.v2"
    assert enricher.nlp.pipe_names == list(config["nlp"]["pipeline"])
    assert enricher.nlp.pipe_names[0] == "lp_segmenter"
    for name in enricher.nlp.pipe_names:
        assert enricher.nlp.get_pipe_meta(name).factory in EXPECTED_FACTORIES
    doc = enricher.nlp("One. Two is here but three is there!  Four")
    assert [s.text.strip() for s in doc.sents] == [
        "One.",
        "Two is here",
        "but three is there!",
        "Four",
    ]


def test_components_work_in_a_blank_pipeline() -> None:
    blank = spacy.blank("en")
    blank.add_pipe("lp_segmenter")
    blank.add_pipe("lp_sentiment")
    doc = blank("Still waiting for my refunds.")
    assert doc._.lp.sentiment.score < 0
    assert doc._.lp.segments == [(0, 6)]
