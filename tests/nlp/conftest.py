"""Fixtures for the NLP tests: the default pipeline, built once (spacy.blank only)."""

from __future__ import annotations

import pytest

from nlp.journey import Journey, load_journey
from nlp.pipeline import PipelineEnricher, build_enricher


@pytest.fixture(scope="session")
def default_journey() -> Journey:
    return load_journey()


@pytest.fixture(scope="session")
def enricher(default_journey: Journey) -> PipelineEnricher:
    return build_enricher(default_journey)
