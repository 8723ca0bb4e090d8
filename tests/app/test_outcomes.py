"""Customer outcomes (both databases): import with the feedback rules, the customer
asset in whole numbers and money, and said versus did per stage, checked against
figures worked out here from the generated company itself."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Engine

from app.ingest.service import run_sync
from app.main import create_app
from app.outcomes.service import import_file, import_rows
from app.runtime import Runtime, build_runtime
from app.settings import Settings
from connectors.base import RawItem
from tests.app.helpers import ListConnector, add_source, admin_headers
from tests.conftest import FIXTURES

START = date(2026, 3, 1)
BILLING = "I was charged twice this month and the refund has not arrived."
PRAISE = "Great service, I recommend you to everyone."


@pytest.fixture
def runtime(engine: Engine) -> Runtime:
    return build_runtime(
        Settings(
            database_url=str(engine.url),
            sources_file=FIXTURES / "app" / "sources.yaml",
            scheduler_enabled=False,
        ),
        engine=engine,
    )


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime=runtime, start_scheduler=False)) as test_client:
        yield test_client


def test_import_dedupes_quarantines_and_pseudonymises(runtime: Runtime, tmp_path: Path) -> None:
    path = tmp_path / "events.csv"
    rows = [
        {
            "customer": "c1",
            "event": "joined",
            "occurred_at": "2026-01-05",
            "value": "600",
            "segment": "home",
        },
        {
            "customer": "c1",
            "event": "joined",
            "occurred_at": "2026-01-05T18:00:00",
            "value": "600",
            "segment": "home",
        },
        {
            "customer": "c2",
            "event": "Joined",
            "occurred_at": "2026-01-06",
            "value": "1,200.50",
            "segment": "business",
        },
        {
            "customer": "ana@example.com",
            "event": "joined",
            "occurred_at": "2026-01-07",
            "value": "300",
        },
        {"customer": "c3", "event": "quit", "occurred_at": "2026-01-07"},
        {"customer": "c4", "event": "left", "occurred_at": "not a date"},
        {"customer": "", "event": "left", "occurred_at": "2026-01-07"},
        {"customer": "c5", "event": "left", "occurred_at": "2026-01-08", "value_change": "lots"},
        {
            "customer": "c6",
            "event": "joined",
            "occurred_at": "2026-01-08",
            "event_id": "E-1",
            "note": "call +44 7700 900123",
        },
        {"customer": "c6", "event": "joined", "occurred_at": "2026-01-09", "event_id": "E-1"},
    ]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=sorted({k for r in rows for k in r}))
        writer.writeheader()
        writer.writerows(rows)
    first = import_file(runtime.engine, path, runtime.policy)
    assert (first.read, first.inserted, first.duplicates, first.rejected) == (10, 4, 2, 4)
    reasons = " | ".join(first.reasons)
    assert "not one of joined, left" in reasons
    assert "occurred_at" in reasons
    assert "customer is missing" in reasons
    assert "value_change must be a number" in reasons
    again = import_file(runtime.engine, path, runtime.policy)
    assert (again.inserted, again.duplicates) == (0, 6)
    with runtime.engine.connect() as conn:
        stored = repr(conn.execute(text("SELECT * FROM outcome_events")).all())
        rejects = conn.execute(text("SELECT COUNT(*) FROM outcome_rejects")).scalar()
    assert "ana@example.com" not in stored
    assert "7700 900123" not in stored
    assert "1200.5" in stored
    assert rejects == 8  # each import keeps its rejects


def _company() -> tuple[list[dict[str, Any]], list[RawItem], dict[str, Any]]:
    """120 customers: 40 complain about billing in March (16 of them leave within 90
    days), 20 praise (1 leaves), 60 say nothing (6 leave in the window after the
    period's midpoint)."""
    events: list[dict[str, Any]] = []
    voices: list[RawItem] = []
    left_at: dict[str, date] = {}
    for n in range(120):
        customer = f"k{n:03d}"
        events.append(
            {
                "customer": customer,
                "event": "joined",
                "occurred_at": "2025-06-01",
                "value": 100 + n,
                "segment": ["home", "business"][n % 2],
            }
        )
        spoke = START + timedelta(days=n % 28)
        if n < 40:
            voices.append(
                RawItem(
                    external_id=f"v{n}",
                    text=BILLING + f" ({n})",
                    occurred_at=datetime.combine(spoke, datetime.min.time(), tzinfo=UTC)
                    + timedelta(hours=9),
                    author_ref=customer,
                )
            )
            if n < 16:
                left_at[customer] = spoke + timedelta(days=30 + n)
        elif n < 60:
            voices.append(
                RawItem(
                    external_id=f"v{n}",
                    text=PRAISE + f" ({n})",
                    occurred_at=datetime.combine(spoke, datetime.min.time(), tzinfo=UTC)
                    + timedelta(hours=9),
                    author_ref=customer,
                )
            )
            if n == 40:
                left_at[customer] = spoke + timedelta(days=10)
        elif n < 66:
            left_at[customer] = date(2026, 3, 15) + timedelta(days=20 + n - 60)
        if n == 70:
            events.append(
                {
                    "customer": customer,
                    "event": "expanded",
                    "occurred_at": "2026-03-10",
                    "value": 300,
                }
            )
    for customer, day in left_at.items():
        events.append({"customer": customer, "event": "left", "occurred_at": day.isoformat()})
    return events, voices, left_at


def _load(runtime: Runtime) -> dict[str, Any]:
    events, voices, left_at = _company()
    add_source(runtime.engine)
    result = run_sync(
        runtime.engine,
        source_id="src",
        connector=ListConnector([(voices, [])]),
        enricher=runtime.enricher,
        journey=runtime.journey,
        policy=runtime.policy,
    )
    assert result.inserted == len(voices)
    imported = import_rows(runtime.engine, events, origin="test", policy=runtime.policy)
    assert imported.rejected == 0
    return {"left_at": left_at}


def test_said_versus_did_per_stage(client: TestClient, runtime: Runtime) -> None:
    left_at = _load(runtime)["left_at"]
    with runtime.engine.connect() as conn:
        billing_negative = conn.execute(
            text(
                "SELECT COUNT(DISTINCT customer) FROM voice_facts WHERE stage = 'billing' AND label = 'negative'"
            )
        ).scalar()
    assert billing_negative == 40  # the NLP reads every complaint as one
    answer = client.get(
        "/api/v1/outcomes/by-stage", params={"from": "2026-03-01", "to": "2026-03-31"}
    )
    assert answer.status_code == 200, answer.text
    found = answer.json()
    assert found["stages"][0]["key"] == "billing"  # ranked by value lost
    billing = found["stages"][0]
    assert (billing["negative"]["customers"], billing["negative"]["with_event"]) == (40, 16)
    assert billing["negative"]["value_lost"] == sum(100 + n for n in range(16))
    base = found["base"]
    assert (base["customers"], base["with_event"]) == (80, 7)  # 20 praise + 60 silent; 1 + 6 left
    rr = (16 / 40) / (7 / 80)
    assert billing["negative"]["lift"] == pytest.approx(rr, abs=1e-3)
    se = math.sqrt(1 / 16 - 1 / 40 + 1 / 7 - 1 / 80)
    assert billing["negative"]["lift_low"] == pytest.approx(rr * math.exp(-1.959964 * se), abs=1e-3)
    assert billing["negative"]["lift_low"] > 1  # significant
    # complainers of the last 90 days not gone by the period's end: the revenue at risk
    staying = [n for n in range(40) if left_at.get(f"k{n:03d}", date.max) >= date(2026, 4, 1)]
    assert billing["at_risk_customers"] == len(staying)
    assert billing["revenue_at_risk"] == sum(100 + n for n in staying)
    positive = next(s for s in found["stages"] if s["positive"]["customers"])
    assert positive["positive"]["lift"] is None  # 20 customers: below the minimum of 30
    assert "at least 30" in positive["positive"]["note"]
    assert billing["phrases"]
    assert all(p["rate"]["customers"] <= 40 for p in billing["phrases"])


def test_the_customer_asset_in_whole_numbers_and_money(
    client: TestClient, runtime: Runtime
) -> None:
    left_at = _load(runtime)["left_at"]
    answer = client.get(
        "/api/v1/customers/asset",
        params={"from": "2026-03-01", "to": "2026-05-31", "group_by": "segment"},
    )
    assert answer.status_code == 200, answer.text
    asset = answer.json()
    gone = {c for c, d in left_at.items() if date(2026, 3, 1) <= d <= date(2026, 5, 31)}
    before = {c for c, d in left_at.items() if d < date(2026, 3, 1)}
    assert asset["customers"]["start"] == 120 - len(before)
    assert asset["customers"]["lost"] == len(gone)
    assert asset["customers"]["grew"] == 1
    assert asset["customers"]["end"] == 120 - len(before) - len(gone)
    assert asset["customers"]["net"] == asset["customers"]["end"] - asset["customers"]["start"]
    value = {f"k{n:03d}": 100.0 + n for n in range(120)}
    assert asset["value"]["lost"] == pytest.approx(sum(value[c] for c in gone))
    assert asset["value"]["grew"] == pytest.approx(300 - 170)
    assert {s["segment"] for s in asset["segments"]} == {"home", "business"}
    assert sum(s["customers"]["lost"] for s in asset["segments"]) == asset["customers"]["lost"]


def test_posting_outcomes_needs_an_ingest_key(client: TestClient, runtime: Runtime) -> None:
    event = {"customer": "z1", "event": "joined", "occurred_at": "2026-02-01", "value": 10}
    assert client.post("/api/v1/outcomes", json=[event]).status_code == 401
    headers = admin_headers(runtime.engine, "ingest")
    posted = client.post("/api/v1/outcomes", json=[event, {"event": "left"}], headers=headers)
    assert posted.status_code == 200
    assert posted.json()["inserted"] == 1
    assert posted.json()["rejects"][0]["index"] == 1
    again = client.post("/api/v1/outcomes", json={"events": [event]}, headers=headers)
    assert again.json()["duplicates"] == 1
    bad = client.post("/api/v1/outcomes", content=b"{not json", headers=headers)
    assert bad.status_code == 400


def test_the_outcomes_feed_sums_to_the_asset(client: TestClient, runtime: Runtime) -> None:
    _load(runtime)
    period = {"from": "2026-03-01", "to": "2026-05-31"}
    asset = client.get("/api/v1/customers/asset", params=period).json()
    feed = client.get("/api/v1/feeds/outcomes-daily.csv", params=period)
    assert feed.status_code == 200
    rows = list(csv.DictReader(io.StringIO(feed.text)))
    for event, key in (("left", "lost"), ("expanded", "grew"), ("joined", "gained")):
        chosen = [r for r in rows if r["event"] == event]
        assert sum(int(r["events"]) for r in chosen) == asset["customers"][key]
        assert sum(float(r["value"]) for r in chosen) == pytest.approx(asset["value"][key])
    assert {r["segment"] for r in rows} <= {"home", "business"}


def test_the_journey_page_shows_the_asset_and_who_left_after_complaining(
    client: TestClient, runtime: Runtime
) -> None:
    import re

    assert 'id="asset-h"' not in client.get("/?from=2026-03-01&to=2026-03-31").text  # none yet
    _load(runtime)
    page = client.get("/?from=2026-03-01&to=2026-03-31")
    assert page.status_code == 200
    shown = dict(re.findall(r'data-k="([^"]+)">([^<]+)<', page.text))
    asset = client.get(
        "/api/v1/customers/asset", params={"from": "2026-03-01", "to": "2026-03-31"}
    ).json()
    assert shown["asset.start"] == str(asset["customers"]["start"])
    assert shown["asset.end"] == str(asset["customers"]["end"])
    assert shown["asset.lost"] == f"−{asset['customers']['lost']}"
    found = client.get(
        "/api/v1/outcomes/by-stage", params={"from": "2026-03-01", "to": "2026-03-31"}
    ).json()
    billing = next(s for s in found["stages"] if s["key"] == "billing")
    line = shown["billing.left"]
    assert line.startswith(
        f"{billing['negative']['with_event']} of {billing['negative']['customers']} who complained here left"
    )
    assert f"({billing['negative']['lift']:.1f}× the rest)" in line


def test_revenue_at_risk_fires_an_alert(runtime: Runtime) -> None:
    from app.alerts import service as alerts_service
    from app.alerts.config import AlertsSpec
    from app.alerts.detectors import Thresholds

    _load(runtime)

    def fired(above: float) -> list[Any]:
        spec = AlertsSpec(thresholds=Thresholds(revenue_at_risk_above=above))
        judged = alerts_service.evaluate(
            runtime.engine, runtime.journey, spec, base_url="http://lp", until=date(2026, 3, 31)
        )
        return [a for a in judged.fired if a.detector == "revenue_at_risk"]

    assert fired(10**9) == []  # the billing complainers' value is far below that
    risky = fired(1000)
    assert [a.stage for a in risky] == ["billing"]
    assert risky[0].value > 1000


def test_the_story_and_stage_page_carry_the_same_outcome_figures(
    client: TestClient, runtime: Runtime
) -> None:
    period = {"from": "2026-03-01", "to": "2026-03-31"}
    assert client.get("/api/v1/story", params=period).json()["asset"] is None  # none yet
    _load(runtime)
    story = client.get("/api/v1/story", params=period).json()
    asset = client.get("/api/v1/customers/asset", params=period).json()
    assert story["asset"]["customers"] == asset["customers"]
    assert story["asset"]["value"] == asset["value"]
    found = client.get("/api/v1/outcomes/by-stage", params=period).json()
    by_key = {s["key"]: s for s in found["stages"]}
    for stage in story["stages"]:
        assert stage["outcome"] == by_key[stage["key"]]
    page = client.get("/api/v1/stages/billing", params=period).json()
    assert page["outcome"] == by_key["billing"]


def test_the_sample_company_shows_its_planted_effect(engine: Engine) -> None:
    """What a newcomer sees after `listening-path demo`: billing complainers left."""
    from app.settings import sample_outcomes_file

    sample = build_runtime(
        Settings(database_url=str(engine.url), scheduler_enabled=False), engine=engine
    )
    for source_id in sample.sources:
        assert sample.jobs.sync(source_id).status == "succeeded"
    imported = import_file(engine, sample_outcomes_file(), sample.policy)
    assert imported.inserted > 1000
    assert imported.rejected == 0
    with TestClient(create_app(runtime=sample, start_scheduler=False)) as client:
        found = client.get(
            "/api/v1/outcomes/by-stage", params={"from": "2026-08-01", "to": "2026-10-31"}
        ).json()
        billing = found["stages"][0]
        assert billing["key"] == "billing"
        assert billing["negative"]["lift_low"] > 1
        page = client.get("/?from=2026-08-01&to=2026-10-31").text
        assert 'data-k="billing.left"' in page


def test_answers_kept_in_memory_follow_new_edited_and_erased_voices(
    client: TestClient, runtime: Runtime
) -> None:
    """The voices and the ledger are kept between requests; what they answer after
    more feedback, an edit and an erasure is what a cold read of the store answers."""
    from app.outcomes import ledger, voices

    _load(runtime)
    params = {"from": "2026-03-01", "to": "2026-03-31"}
    headers = admin_headers(runtime.engine)

    def billing() -> dict[str, Any]:
        found = client.get("/api/v1/outcomes/by-stage", params=params, headers=headers).json()
        return next(s for s in found["stages"] if s["key"] == "billing")

    def cold() -> dict[str, Any]:
        voices._CACHE.clear()
        ledger._CACHE.clear()
        return billing()

    assert billing()["negative"]["customers"] == 40
    later = [
        RawItem(
            external_id=f"late{n}",
            text=BILLING + f" (late {n})",
            occurred_at=datetime(2026, 3, 20, 9, tzinfo=UTC),
            author_ref=f"k{n:03d}",
        )
        for n in range(60, 70)
    ]
    edited = RawItem(  # customer k000's complaint, now praise: one billing complainer fewer
        external_id="v0",
        text=PRAISE + " (0)",
        occurred_at=datetime(2026, 3, 1, 9, tzinfo=UTC),
        author_ref="k000",
    )
    run_sync(
        runtime.engine,
        source_id="src",
        connector=ListConnector([([], []), ([*later, edited], [])]),  # batch 1 was _load's
        enricher=runtime.enricher,
        journey=runtime.journey,
        policy=runtime.policy,
    )
    warm = billing()
    assert warm["negative"]["customers"] == 49
    assert warm == cold()
    erased = client.delete("/api/v1/customers/k061", headers=headers)
    assert erased.status_code == 200, erased.text
    warm = billing()
    assert warm["negative"]["customers"] == 48
    assert warm == cold()


def test_a_band_being_remade_is_not_waited_for_and_the_next_ask_sees_the_write(
    runtime: Runtime,
) -> None:
    """Under a stream of writes each state of the data needs a new band: while one
    request makes it, others get the band before (not a queue of requests each
    holding a connection); once made, asking again gives the new state's."""
    from app.outcomes import pages
    from app.readmodel.versions import FACTS_ADDED, bump

    _load(runtime)
    journey = runtime.journey
    period = {"day_from": date(2026, 3, 1), "day_to": date(2026, 4, 1), "anchor": date(2026, 6, 1)}
    with runtime.engine.connect() as conn:
        first = pages.outcomes_band(conn, journey, **period)
        assert first is not None
        assert pages.outcomes_band(conn, journey, **period) is first  # same state: kept
    with runtime.engine.begin() as conn:
        bump(conn, FACTS_ADDED)  # a new state, as a push's transaction makes one
    key = (runtime.engine.url.render_as_string(hide_password=True), journey, *period.values())
    making = pages.BANDS.making(key)
    with making:  # another request is making the new state's band
        with runtime.engine.connect() as conn:
            assert pages.outcomes_band(conn, journey, **period) is first
    with runtime.engine.connect() as conn:
        fresh = pages.outcomes_band(conn, journey, **period)
        assert fresh is not first  # made for the new state by this request
        assert fresh == first  # (the bump added no voice: the same figures)
        assert pages.outcomes_band(conn, journey, **period) is fresh


def test_a_starting_service_reads_the_outcomes_before_it_takes_requests(
    runtime: Runtime,
) -> None:
    """The ledger and the voices are read in the start-up, not by the first request
    (at 1M voices, 20-30 s that requests would queue behind)."""
    from app.outcomes import ledger, voices

    key = runtime.engine.url.render_as_string(hide_password=True)
    voices._CACHE.pop(key, None)
    ledger._CACHE.pop(key, None)
    with TestClient(create_app(runtime=runtime, start_scheduler=False)):
        assert key not in voices._CACHE  # nothing imported: nothing to read ahead
    _load(runtime)
    voices._CACHE.pop(key, None)
    ledger._CACHE.pop(key, None)
    with TestClient(create_app(runtime=runtime, start_scheduler=False)):
        assert key in voices._CACHE
        assert key in ledger._CACHE
        warmed = voices._CACHE[key]
        with runtime.engine.connect() as conn:
            assert voices.voices(conn) is warmed  # the first request reads nothing more
            assert warmed.last_id > 0
