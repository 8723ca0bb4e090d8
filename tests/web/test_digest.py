"""`listening-path digest`: the journey page's story as a self-contained HTML file or
Markdown, for the last week/month/quarter ending at the latest day with data."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session
from typer.testing import CliRunner

from app.cli import cli
from app.db import make_engine
from app.runtime import Runtime
from app.story import schemas
from app.story.service import build_story
from app.web.periods import PageQuery
from app.web.render import journey_markdown
from app.web.service import build_journey_view
from nlp.journey import load_journey
from tests.conftest import FIXTURES
from tests.web.helpers import figures, shown, stage_figures

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    db = tmp_path / "digest.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{db}")
    monkeypatch.setenv("LP_SOURCES_FILE", str(FIXTURES / "app" / "sources.yaml"))
    monkeypatch.chdir(tmp_path)
    assert runner.invoke(cli, ["sync"]).exit_code == 0
    return db


def _story_json(db: Path, date_from: str, date_to: str) -> dict[str, Any]:
    """The API's JSON of the story with the change (the router's own conversion)."""
    from app.params import parse_range

    start, stop = parse_range(date_from, date_to)
    engine = make_engine(f"sqlite:///{db}")
    try:
        with Session(engine) as session:
            story = build_story(
                session,
                journey=load_journey(),
                date_from=start,
                date_to=stop,
                compare="previous",
                asked_from=date_from,
                asked_to=date_to,
            )
    finally:
        engine.dispose()
    api: dict[str, Any] = schemas.Story.model_validate(story, from_attributes=True).model_dump(
        mode="json", by_alias=True
    )
    return api


@pytest.mark.parametrize(
    ("period", "date_from"),
    [("week", "2026-09-04"), ("month", "2026-08-12"), ("quarter", "2026-06-13")],
)
def test_digest_html_is_the_journey_page_self_contained(
    env: Path, tmp_path: Path, period: str, date_from: str
) -> None:
    out = tmp_path / "digest.html"
    result = runner.invoke(cli, ["digest", "--period", period, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "data up to 2026-09-10" in result.output  # the fixture company's latest day
    page = out.read_text(encoding="utf-8")
    want = stage_figures(_story_json(env, date_from, "2026-09-10"))
    assert shown(figures(page), want) == want
    # Self-contained: no script, no stylesheet or image to fetch, no link to a server.
    assert "<script" not in page
    assert not re.search(r"\bsrc=", page)
    assert re.findall(r'href="([^"]*)"', page) == ["data:,", "#main"]
    assert re.findall(r"https?://[^\s\"'<>]+", page) == ["http://www.w3.org/2000/svg"] * 8
    assert "<form" not in page


def test_digest_markdown_and_links(env: Path, tmp_path: Path) -> None:
    result = runner.invoke(cli, ["digest", "--format", "md", "--out", "-"])
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert text.startswith("# The journey story: 4 Sep 2026 – 10 Sep 2026")
    story = _story_json(env, "2026-09-04", "2026-09-10")
    rows = {
        line.split(" | ")[0].lstrip("| "): line
        for line in text.splitlines()
        if line.startswith("| ")
    }
    for stage in story["stages"]:
        cells = [c.strip() for c in rows[stage["name"]].strip("|").split("|")]
        assert int(cells[2]) == stage["voices"]
        assert cells[5] == f"{stage['compare']['voices']['change']:+d}"
    linked = runner.invoke(
        cli, ["digest", "--out", str(tmp_path / "d.html"), "--base-url", "https://lp.example/"]
    )
    assert linked.exit_code == 0, linked.output
    page = (tmp_path / "d.html").read_text(encoding="utf-8")
    assert 'href="https://lp.example/stages/billing?from=2026-09-04&amp;to=2026-09-10"' in page


def test_digest_refuses_unknown_options(env: Path, tmp_path: Path) -> None:
    bad = runner.invoke(cli, ["digest", "--period", "decade", "--out", str(tmp_path / "x")])
    assert bad.exit_code == 2
    assert "week, month, quarter" in bad.output
    fmt = runner.invoke(cli, ["digest", "--format", "pdf", "--out", str(tmp_path / "x")])
    assert fmt.exit_code == 2
    assert not (tmp_path / "x").exists()


def test_markdown_numbers_equal_the_story_on_both_databases(company: Runtime) -> None:
    query = PageQuery("2026-09-01", "2026-09-10", channel="survey")
    with Session(company.engine) as session:
        view = build_journey_view(
            session,
            journey=company.journey,
            query=query,
            anchor=date(2026, 9, 10),  # the fixture company's latest day
            driver_min_answers=company.settings.driver_min_answers,
        )
    text = journey_markdown(view)
    for stage in view.story.stages:
        line = next(row for row in text.splitlines() if row.startswith(f"| {stage.name} |"))
        assert f"| {stage.voices:,} |" in line
    assert f"**{view.story.voices:,} voices**" in text


def test_digest_carries_the_customer_asset_once_outcomes_are_imported(
    env: Path, tmp_path: Path
) -> None:
    before = runner.invoke(cli, ["digest", "--format", "md", "--out", "-"])
    assert "Customer asset" not in before.stdout
    events = tmp_path / "events.csv"
    events.write_text(
        "customer,event,occurred_at,value\n"
        "a-1,joined,2026-01-01,500\nb-2,joined,2026-01-02,700\nb-2,left,2026-09-05,\n",
        encoding="utf-8",
    )
    imported = runner.invoke(cli, ["outcomes", "import", str(events)])
    assert imported.exit_code == 0, imported.output
    assert "3 new" in imported.stdout
    text = runner.invoke(cli, ["digest", "--format", "md", "--out", "-"]).stdout
    line = next(x for x in text.splitlines() if x.startswith("**Customer asset**"))
    assert "2 customers at the start" in line
    assert "-1 lost (worth 700 a year)" in line
