"""The pages over the fixture company (both databases): they render, every number
equals the API's for the same parameters, periods and filters work, and a bad
parameter is a 4xx HTML page with the API's message."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from html import unescape
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

import app.web.service as page_service
from app.web.router import PAGES
from tests.conftest import DEFAULT_STAGE_KEYS
from tests.web.helpers import (
    figures,
    page_figures,
    shown,
    spark_numbers,
    stage_figures,
    svg_labels,
)

LATEST = date(2026, 9, 10)  # the fixture company's newest item
SEPT = {"from": "2026-09-01", "to": "2026-09-10"}


def api(client: TestClient, path: str, params: dict[str, str] | list[tuple[str, str]]) -> dict:
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    body: dict = response.json()
    return body


def html(client: TestClient, path: str, params: dict[str, str] | list[tuple[str, str]]) -> str:
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    return response.text


def test_a_page_without_a_period_goes_to_the_last_30_days_of_data(client: TestClient) -> None:
    for path in ("/", "/stages/billing"):
        response = client.get(path, params={"source": "pulse-survey"})
        assert response.status_code == 302
        target = urlsplit(response.headers["location"])
        assert target.path == path
        assert dict(parse_qsl(target.query, keep_blank_values=True)) == {
            "from": (LATEST - timedelta(days=29)).isoformat(),
            "to": LATEST.isoformat(),
            "source": "pulse-survey",
        }
    named = client.get("/", params={"period": "7d"})
    assert named.status_code == 302
    assert "from=2026-09-04&to=2026-09-10" in named.headers["location"]


@pytest.mark.parametrize(
    "params",
    [
        SEPT,
        {"from": "2026-09-05", "to": "2026-09-10", "channel": "survey"},
        {**SEPT, "source": "field-notes"},
        [*SEPT.items(), ("attr.plan", "home")],
        [*SEPT.items(), ("attr.plan", "home"), ("attr.plan", "pro"), ("attr.region", "north")],
    ],
    ids=["period", "channel", "source", "attr", "attrs"],
)
def test_journey_numbers_equal_the_api(
    client: TestClient, params: dict[str, str] | list[tuple[str, str]]
) -> None:
    page = html(client, "/", params)
    listed = list(params.items()) if isinstance(params, dict) else params
    story = api(client, "/api/v1/story", [*listed, ("compare", "previous")])
    want = stage_figures(story)
    assert shown(figures(page), want) == want
    assert story["voices"] > 0
    for key in DEFAULT_STAGE_KEYS:  # each stage links to its page with the same view
        assert f'href="/stages/{key}?{urlencode(listed)}"' in page.replace("&amp;", "&")


def test_all_time_is_the_api_without_a_period(client: TestClient) -> None:
    page = html(client, "/", {"from": "", "to": ""})
    story = api(client, "/api/v1/story", {})
    want = stage_figures(story)
    assert story["compare"] is None
    assert shown(figures(page), want) == want
    assert figures(page)["period"] == "all time"


def test_sparklines_are_the_stage_pages_days_by_week(client: TestClient) -> None:
    page = html(client, "/", SEPT)
    labels = [label for label in svg_labels(page) if "last 12 weeks" in label]
    assert len(labels) == len(DEFAULT_STAGE_KEYS)
    first = LATEST - timedelta(days=83)
    for key, label in zip(DEFAULT_STAGE_KEYS, labels, strict=True):
        stage = api(
            client, f"/api/v1/stages/{key}", {"from": first.isoformat(), "to": LATEST.isoformat()}
        )
        voices, negative = [0] * 12, [0] * 12
        for day in stage["daily"]:
            week = (date.fromisoformat(day["day"]) - first).days // 7
            voices[week] += day["voices"]
            negative[week] += day["negative"]
        assert spark_numbers(label) == (voices, negative), key
        assert sum(voices) == stage["voices"]


@pytest.mark.parametrize("key", DEFAULT_STAGE_KEYS)
def test_stage_numbers_equal_the_api(client: TestClient, key: str) -> None:
    page = html(client, f"/stages/{key}", SEPT)
    stage = api(client, f"/api/v1/stages/{key}", {**SEPT, "compare": "previous"})
    found = figures(page)
    want = page_figures(stage)
    assert shown(found, want) == want
    assert found["summary"] == stage["summary"]
    quoted = {q["item_id"] for q in [*stage["quotes"], *stage["more_quotes"]]}
    assert {int(i) for i in _attr_values(page, "data-item")} == quoted
    for item_id in quoted:
        assert f'href="/api/v1/items/{item_id}"' in page
        assert client.get(f"/api/v1/items/{item_id}").status_code == 200


def test_stage_page_filters_and_days(client: TestClient) -> None:
    params = [*SEPT.items(), ("source", "pulse-survey"), ("attr.region", "south")]
    page = html(client, "/stages/billing", params)
    stage = api(client, "/api/v1/stages/billing", [*params, ("compare", "previous")])
    want = page_figures(stage)
    assert shown(figures(page), want) == want
    assert stage["voices"] > 0
    rows = {day: int(voices) for day, voices in _day_rows(page)}
    assert rows == {d["day"]: d["voices"] for d in stage["daily"] if d["voices"]}


def test_the_form_folds_into_the_apis_parameters(client: TestClient) -> None:
    response = client.get(
        "/stages/onboard",
        params=[
            *SEPT.items(),
            ("source", ""),
            ("channel", "survey"),
            ("attr.plan", "home"),
            ("attr", " region = north "),
        ],
    )
    assert response.status_code == 302
    target = urlsplit(response.headers["location"])
    assert target.path == "/stages/onboard"
    assert parse_qsl(target.query, keep_blank_values=True) == [
        ("from", "2026-09-01"),
        ("to", "2026-09-10"),
        ("channel", "survey"),
        ("attr.plan", "home"),
        ("attr.region", "north"),
    ]
    page = html(client, "/stages/onboard", parse_qsl(target.query))
    assert "plan = home" in page
    assert "region = north" in page
    assert (
        'href="/stages/onboard?from=2026-09-01&amp;to=2026-09-10&amp;channel=survey&amp;attr.region=north"'
        in page
    )


@pytest.mark.parametrize(
    ("path", "params", "status", "message"),
    [
        ("/", {"from": "yesterday", "to": "2026-09-10"}, 400, "'from' must be a date"),
        ("/", {"from": "2026-09-10", "to": "2026-09-01"}, 400, "must be before"),
        ("/", {**SEPT, "source": "nope"}, 404, "pulse-survey"),
        ("/", {**SEPT, "channel": "fax"}, 404, "the sources' channels are"),
        ("/", {**SEPT, "attr.a$b": "1"}, 400, "attribute names are letters"),
        ("/", {**SEPT, "attr": "no equals sign"}, 400, "NAME=VALUE"),
        ("/", {"period": "decade"}, 400, "7d, 30d, 90d, quarter, all"),
        ("/", {"from": "9999-12-31T23:59:59-23:00", "to": ""}, 400, "outside the years"),
        ("/stages/billing", {"to": "2026-13-01", "from": ""}, 400, "'to' must be a date"),
        ("/stages/nope", SEPT, 404, "discover, purchase"),
        ("/stages/" + "x" * 500, SEPT, 404, "the journey's stages"),
        ("/stages/billing", {**SEPT, "q": "\x00"}, 400, "NUL bytes"),
    ],
)
def test_bad_parameters_are_a_4xx_page_with_the_message(
    client: TestClient, path: str, params: dict[str, str], status: int, message: str
) -> None:
    response = client.get(path, params=params)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert message in unescape(response.text)
    assert 'href="/"' in response.text


@pytest.mark.parametrize(
    "params",
    [
        {"from": "0001-01-01", "to": "0001-01-05"},
        {"from": "0001-01-01", "to": "0001-01-31"},
        {"from": "0001-01-01", "to": "9999-12-31"},
        {"from": "9999-12-01", "to": "9999-12-31"},
        {"from": "2026-09-01T10:00:00+02:00", "to": "2026-09-10T12:00:00Z"},
    ],
)
def test_periods_at_the_ends_of_the_calendar_render_without_the_change(
    client: TestClient, params: dict[str, str]
) -> None:
    for path in ("/", "/stages/use"):
        page = html(client, path, params)
        story = api(client, "/api/v1/story" if path == "/" else "/api/v1/stages/use", params)
        found = figures(page)
        key = "story.voices" if path == "/" else "voices"
        assert found[key] == f"{story['voices']:,}"


@dataclass(frozen=True)
class Fired:
    title: str
    stage_key: str | None
    severity: str
    status: str
    fired_on: date
    url: str


def test_the_alerts_block_shows_what_open_alerts_gives(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert "No open alerts." in html(client, "/", SEPT)  # none until the alerts package exists
    asked: list[str | None] = []

    def one_alert(session: object, *, stage: str | None = None) -> list[Fired]:
        asked.append(stage)
        return [
            Fired("Billing: negatives 3x the usual", "billing", "critical", "open", LATEST, "/x/1")
        ]

    monkeypatch.setattr(page_service, "open_alerts", one_alert)
    PAGES.clear()  # the page above is kept (here and for replicas); the stand-in
    with client.app.state.runtime.engine.begin() as conn:  # changed no change counter
        conn.execute(text("DELETE FROM kept_answers"))
    for path in ("/", "/stages/billing"):
        page = html(client, path, SEPT)
        assert "No open alerts." not in page
        assert '<a href="/x/1">Billing: negatives 3x the usual</a>' in page
        assert "fired 10 Sep 2026" in page
        assert "critical" in page
    assert asked == [None, "billing"]


def _attr_values(page: str, name: str) -> list[str]:
    import re

    return re.findall(rf'{name}="([^"]*)"', page)


def _day_rows(page: str) -> list[tuple[str, str]]:
    import re

    return re.findall(r'<tr data-day="([^"]+)"><td>[^<]*</td><td class="n">([\d,]+)</td>', page)
