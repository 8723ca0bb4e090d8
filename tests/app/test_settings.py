from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from app.settings import DEFAULT_DATABASE_URL, Settings, sample_sources_file


def test_plain_postgres_url_uses_psycopg3() -> None:
    settings = Settings(database_url="postgresql://postgres@127.0.0.1/test")
    assert settings.database_url == "postgresql+psycopg://postgres@127.0.0.1/test"


def test_database_url_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "sqlite:///elsewhere.db")
    assert Settings().database_url == "sqlite:///elsewhere.db"


def test_unknown_database_is_refused() -> None:
    with pytest.raises(ValidationError, match="SQLite"):
        Settings(database_url="mysql://root@localhost/db")


def test_production_needs_postgresql_and_its_own_sources(tmp_path: Path) -> None:
    for url in (DEFAULT_DATABASE_URL, f"sqlite:///{tmp_path / 'prod.db'}"):
        with pytest.raises(ValidationError, match="production needs PostgreSQL"):
            Settings(environment="production", database_url=url, sources_file=tmp_path / "s.yaml")
    with pytest.raises(ValidationError, match="bundled sample company"):
        Settings(environment="production", database_url="postgresql://db/lp")
    with pytest.raises(ValidationError, match="bundled sample company"):
        Settings(
            environment="production",
            database_url="postgresql://db/lp",
            sources_file=sample_sources_file(),
        )
    with pytest.raises(ValidationError, match="LP_PSEUDONYM_KEY"):
        Settings(
            environment="production",
            database_url="postgresql://db/lp",
            sources_file=tmp_path / "s.yaml",
        )
    production = Settings(
        environment="production",
        database_url="postgresql://db/lp",
        sources_file=tmp_path / "s.yaml",
        pseudonym_key="k" * 40,
    )
    assert production.database_url == "postgresql+psycopg://db/lp"
    assert not production.docs_open
    assert Settings(
        environment="production",
        database_url="postgresql://db/lp",
        sources_file=tmp_path / "s.yaml",
        pseudonym_key="k" * 40,
        docs_enabled=True,
    ).docs_open


def test_sample_sources_are_the_default() -> None:
    settings = Settings()
    assert settings.resolved_sources_file() == sample_sources_file()
    assert sample_sources_file().is_file()


def test_stage_threshold_is_bounded() -> None:
    with pytest.raises(ValidationError):
        Settings(stage_threshold=1.5)
