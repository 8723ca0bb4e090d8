"""What a running service loads when the settings leave things unset."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from app.runtime import build_runtime
from app.settings import Settings, sample_journey_file
from nlp.journey import load_journey
from nlp.pipeline import DEFAULT_STAGE_THRESHOLD, build_enricher
from tests.conftest import FIXTURES

OWN_SOURCES = FIXTURES / "app" / "sources.yaml"


def test_own_sources_run_on_the_default_journey_at_the_measured_threshold(
    engine: Engine,
) -> None:
    settings = Settings(database_url=str(engine.url), sources_file=OWN_SOURCES)
    runtime = build_runtime(settings, engine=engine)
    try:
        assert runtime.journey == load_journey()
        measured = build_enricher(load_journey(), stage_threshold=DEFAULT_STAGE_THRESHOLD)
        assert runtime.enricher.version == measured.version
        other = build_enricher(load_journey(), stage_threshold=DEFAULT_STAGE_THRESHOLD + 0.05)
        assert runtime.enricher.version != other.version  # the threshold is in the version
    finally:
        runtime.close()


def test_the_sample_sources_bring_the_sample_companys_journey(engine: Engine) -> None:
    runtime = build_runtime(Settings(database_url=str(engine.url)), engine=engine)
    try:
        assert runtime.journey == load_journey(sample_journey_file())
        assert runtime.journey.keys == load_journey().keys  # extends the default
        assert "fernhill" in runtime.journey.never_themes
        themes = runtime.enricher.enrich("Fernhill broadband keeps dropping at night.").themes
        assert themes
        assert not any("fernhill" in theme for theme in themes)
    finally:
        runtime.close()


def test_an_explicit_journey_wins_over_the_sample_one(engine: Engine) -> None:
    default_file = FIXTURES.parent.parent / "nlp" / "data" / "default_journey.yaml"
    settings = Settings(database_url=str(engine.url), journey_file=default_file)
    runtime = build_runtime(settings, engine=engine)
    try:
        assert runtime.journey == load_journey()
    finally:
        runtime.close()
