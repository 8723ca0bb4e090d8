from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import inspect
from typer.testing import CliRunner

from app.cli import cli
from app.db import make_engine
from tests.conftest import FIXTURES

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    db = tmp_path / "cli.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{db}")
    monkeypatch.setenv("LP_SOURCES_FILE", str(FIXTURES / "app" / "sources.yaml"))
    monkeypatch.chdir(tmp_path)
    return db


def test_db_upgrade_creates_the_schema(env: Path) -> None:
    result = runner.invoke(cli, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    tables = set(inspect(make_engine(f"sqlite:///{env}")).get_table_names())
    assert {"sources", "items", "segments", "sync_runs", "quarantine"} <= tables


def test_sync_all_then_one_then_unknown(env: Path) -> None:
    first = runner.invoke(cli, ["sync"])
    assert first.exit_code == 0, first.output
    assert "pulse-survey" in first.output
    assert "2 rejected" in first.output
    again = runner.invoke(cli, ["sync", "pulse-survey"])
    assert again.exit_code == 0, again.output
    assert "0 new" in again.output
    unknown = runner.invoke(cli, ["sync", "nope"])
    assert unknown.exit_code == 2
    assert "pulse-survey" in unknown.output  # lists the declared ones


def test_broken_sources_file_is_a_clear_error(
    env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = tmp_path / "sources.yaml"
    bad.write_text("sources:\n  - id: x\n    name: X\n    kind: carrier_pigeon\n", encoding="utf-8")
    monkeypatch.setenv("LP_SOURCES_FILE", str(bad))
    result = runner.invoke(cli, ["sync"])
    assert result.exit_code == 2
    assert "carrier_pigeon" in result.output
    assert "survey_file" in result.output  # the known kinds are listed


def test_connectors_list(env: Path) -> None:
    result = runner.invoke(cli, ["connectors", "list", "--json"])
    assert result.exit_code == 0, result.output
    kinds = {k["kind"]: k for k in json.loads(result.output)}
    assert {"survey_file", "social_export", "call_notes", "ethnography"} <= set(kinds)
    assert "path" in kinds["survey_file"]["config_schema"]["properties"]
    table = runner.invoke(cli, ["connectors", "list"])
    assert table.exit_code == 0
    assert "ethnography" in table.output


def test_sync_prints_top_reject_reasons_then_rollups_rebuild_and_reenrich(
    env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = runner.invoke(cli, ["sync"])
    assert first.exit_code == 0, first.output
    assert "top reject reasons" in first.output
    rebuilt = runner.invoke(cli, ["rollups", "rebuild"])
    assert rebuilt.exit_code == 0, rebuilt.output
    assert "read model rebuilt from" in rebuilt.output
    same = runner.invoke(cli, ["reenrich"])
    assert same.exit_code == 0, same.output
    assert "0 items re-enriched" in same.output
    journey = tmp_path / "journey.yaml"
    journey.write_text("extends: default\nnever_themes: [invoice]\n", encoding="utf-8")
    monkeypatch.setenv("LP_JOURNEY_FILE", str(journey))
    again = runner.invoke(cli, ["reenrich", "--source", "pulse-survey"])
    assert again.exit_code == 0, again.output
    assert " 0 items" not in again.output
    assert "items re-enriched" in again.output


def test_keys_create_prints_the_secret_that_then_opens_the_api(env: Path) -> None:
    from fastapi.testclient import TestClient

    from app.main import create_app
    from app.runtime import build_runtime
    from app.settings import Settings

    made = runner.invoke(cli, ["keys", "create", "ci", "--scope", "admin"])
    assert made.exit_code == 0, made.output
    secret = next(line for line in made.stdout.splitlines() if line.startswith("lp_"))
    runtime = build_runtime(Settings(scheduler_enabled=False))
    try:
        with TestClient(create_app(runtime=runtime, start_scheduler=False)) as client:
            assert client.get("/api/v1/sources").status_code == 401
            answer = client.get("/api/v1/sources", headers={"Authorization": f"Bearer {secret}"})
            assert answer.status_code == 200, answer.text
    finally:
        runtime.close()
    listed = runner.invoke(cli, ["keys", "list"])
    assert listed.exit_code == 0, listed.output
    assert "ci" in listed.output
