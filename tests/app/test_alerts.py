"""Alerts end to end on both databases: a planted surge of complaints through the
real ingest, judged from the rollups, delivered to a real local HTTP receiver in
Slack's and CloudEvents' shapes (faults included), listed and acknowledged over
the API, and resolved once the stage is back to normal."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from app.alerts import delivery, service
from app.alerts.config import AlertsSpec, WebhookSpec
from app.ingest.service import run_sync
from app.main import create_app
from app.models import Alert, AlertDelivery
from app.runtime import Runtime, build_runtime
from app.settings import Settings
from connectors.base import RawItem
from nlp.enrichment import Enricher
from nlp.journey import Journey
from tests.app.helpers import ListConnector, add_source, admin_headers
from tests.conftest import FIXTURES

FIRST = date(2026, 6, 1)
SURGE = FIRST + timedelta(days=40)
FINE = "The bill is clear and fair."
BAD = "I was charged twice on my bill and my refund never came."
HOLD = "I was on hold for forty minutes and nobody at support answered."
HELPED = "The support agent solved it in one call."


class Receiver:
    """A real HTTP server that records what it is sent and answers the next status
    in `answers` (then 200), with a Retry-After on 429."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.answers: list[int] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.requests.append(
                    {
                        "path": self.path,
                        "type": self.headers["Content-Type"],
                        "body": json.loads(body),
                    }
                )
                status = outer.answers.pop(0) if outer.answers else 200
                self.send_response(status)
                if status == 429:
                    self.send_header("Retry-After", "120")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def day_items(day: date, fine: int, bad: int, start: int) -> list[RawItem]:
    at = datetime(day.year, day.month, day.day, 10, tzinfo=UTC)
    return [
        RawItem(
            external_id=f"r-{start + i}",
            text=(BAD if i < bad else FINE) + f" (ref {start + i})",
            occurred_at=at + timedelta(minutes=i),
            author_ref=f"c-{start + i}",
        )
        for i in range(fine + bad)
    ]


def ingest(
    engine: Engine, enricher: Enricher, journey: Journey, days: dict[date, tuple[int, int]]
) -> None:
    batches = []
    n = 0
    for day, (fine, bad) in sorted(days.items()):
        items = day_items(day, fine, bad, n)
        n += len(items)
        batches.append((items, []))
    result = run_sync(
        engine,
        source_id="src",
        connector=ListConnector(batches),  # type: ignore[arg-type]
        enricher=enricher,
        journey=journey,
    )
    assert result.status == "succeeded", result.error


def spec(receiver: Receiver, **extra: Any) -> AlertsSpec:
    return AlertsSpec(
        webhooks=[
            WebhookSpec(
                name="slack",
                url=f"{receiver.url}/slack",
                format="slack",
                allow_networks=["127.0.0.1"],
            ),  # type: ignore[arg-type]
            WebhookSpec(
                name="events",
                url=f"{receiver.url}/events",
                allow_networks=["127.0.0.1"],
                format="cloudevents",
                stages=["billing"],
            ),  # type: ignore[arg-type]
        ],
        **extra,
    )


def background(days: int = 40) -> dict[date, tuple[int, int]]:
    # a steady billing stage: 14 voices a day, 3 of them complaints (a few days 2 or 4)
    return {
        FIRST + timedelta(days=n): (11 + n % 2, 3 + (n % 3 == 0) - (n % 5 == 0))
        for n in range(days)
    }


def test_a_surge_of_complaints_fires_once_is_delivered_and_resolves(
    engine: Engine, enricher: Enricher, journey: Journey, receiver: Receiver
) -> None:
    add_source(engine)
    ingest(engine, enricher, journey, {**background(), SURGE: (11, 33)})
    rules = spec(receiver)
    judged = service.evaluate(engine, journey, rules, base_url="http://lp.example")
    assert SURGE in judged.judged
    surges = [a for a in judged.fired if a.detector == "negative_surge"]
    assert [(a.stage, a.fired_day) for a in surges] == [("billing", SURGE)]
    alert = surges[0]
    assert alert.value >= 33
    assert alert.baseline < alert.high < alert.value  # type: ignore[operator]
    assert alert.quotes
    assert all("charged twice" in q["text"] for q in alert.quotes)
    assert len(alert.quotes) <= 3
    assert alert.phrases
    # judged again (the next sync): nothing fires twice, nothing is sent twice
    again = service.evaluate(engine, journey, rules, base_url="http://lp.example")
    assert again.fired == []
    with Session(engine) as session:
        assert len(session.exec(select(Alert).where(Alert.detector == "negative_surge")).all()) == 1
        queued = session.exec(select(AlertDelivery)).all()
    fired_ids = {a.id for a in judged.fired}
    assert {d.webhook for d in queued} == {"slack", "events"}
    assert all(set(d.alert_ids) <= fired_ids for d in queued)

    # the receiver fails the first message once: it is retried later, not lost
    receiver.answers = [500]
    with httpx.Client() as client:
        delivery.send_due(engine, rules, client=client)
        with Session(engine) as session:
            pending = session.exec(
                select(AlertDelivery).where(AlertDelivery.status == "pending")
            ).all()
        assert len(pending) == 1
        assert pending[0].attempts == 1
        assert pending[0].last_error == "receiver answered 500"
        later = datetime.now(UTC) + timedelta(hours=2)
        delivery.send_due(engine, rules, client=client, now=lambda: later)
    with Session(engine) as session:
        statuses = {d.status for d in session.exec(select(AlertDelivery)).all()}
    assert statuses == {"sent"}
    slack = [r for r in receiver.requests if r["path"] == "/slack"]
    events = [r for r in receiver.requests if r["path"] == "/events"]
    assert slack[-1]["type"] == "application/json"
    assert "billing" in slack[-1]["body"]["text"]
    assert "http://lp.example/stages/billing?from=" in json.dumps(slack[-1]["body"])
    event = events[-1]
    assert event["type"] == "application/cloudevents+json"
    body = event["body"]
    assert body["specversion"] == "1.0"
    assert body["source"] == delivery.EVENT_SOURCE
    assert body["id"]
    assert "time" in body
    facts = body["data"] if "alerts" not in body["data"] else body["data"]["alerts"][0]
    assert facts["stage"] == "billing"
    assert facts["quotes"]

    # four ordinary days later the stage is back in range: resolved by itself
    calm = {SURGE + timedelta(days=k): (11, 3) for k in range(1, 6)}
    ingest(engine, enricher, journey, {**background(), SURGE: (11, 33), **calm})
    done = service.evaluate(engine, journey, rules)
    assert alert.id in {a.id for a in done.resolved}
    with Session(engine) as session:
        stored = session.get(Alert, alert.id)
        assert stored is not None
        assert stored.status == "resolved"
        assert stored.resolved_at is not None


def test_many_alerts_at_once_go_out_as_one_digest(
    engine: Engine, enricher: Enricher, journey: Journey, receiver: Receiver
) -> None:
    add_source(engine)
    ingest(engine, enricher, journey, {**background(), SURGE: (11, 33)})
    # support has its own steady background, then a surge on the same day
    add_source(engine, "src2")
    calls = dict(background().items())
    batches = []
    for n, (day, (fine, bad)) in enumerate(sorted({**calls, SURGE: (11, 33)}.items())):
        at = datetime(day.year, day.month, day.day, 11, tzinfo=UTC)
        batches.append(
            (
                [
                    RawItem(
                        external_id=f"s-{n}-{i}",
                        text=(HOLD if i < bad else HELPED) + f" (call {n}-{i})",
                        occurred_at=at + timedelta(minutes=i),
                    )
                    for i in range(fine + bad)
                ],
                [],
            )
        )
    run_sync(
        engine,
        source_id="src2",
        connector=ListConnector(batches),  # type: ignore[arg-type]
        enricher=enricher,
        journey=journey,
    )
    rules = spec(receiver, digest_from=2)
    fired = service.evaluate(engine, journey, rules).fired
    assert {("billing", SURGE), ("support", SURGE)} <= {(a.stage, a.fired_day) for a in fired}
    with Session(engine) as session:
        slack = session.exec(select(AlertDelivery).where(AlertDelivery.webhook == "slack")).all()
        events = session.exec(select(AlertDelivery).where(AlertDelivery.webhook == "events")).all()
    assert len(slack) == 1  # one digest for everything that fired at once
    assert sorted(slack[0].alert_ids) == sorted(a.id for a in fired)
    assert f"{len(fired)} alerts" in slack[0].payload["text"]
    # the events hook only wants billing: billing's alerts alone, not the digest
    assert all({a.stage for a in fired if a.id in d.alert_ids} == {"billing"} for d in events)
    # a receiver that says 429 is asked again after its Retry-After, not before
    receiver.answers = [429, 429]
    with httpx.Client() as client:
        delivery.send_due(engine, rules, client=client)
    with Session(engine) as session:
        waiting = [d for d in session.exec(select(AlertDelivery)).all() if d.status == "pending"]
    assert waiting
    soonest = min(d.next_attempt_at for d in waiting)
    assert soonest >= datetime.now(UTC) + timedelta(seconds=100)


@pytest.fixture
def served(
    engine: Engine, enricher: Enricher, journey: Journey
) -> Iterator[tuple[TestClient, Runtime]]:
    settings = Settings(
        database_url=str(engine.url),
        sources_file=FIXTURES / "app" / "sources.yaml",
        scheduler_enabled=False,
    )
    runtime = build_runtime(settings, engine=engine)
    add_source(engine)
    ingest(engine, enricher, runtime.journey, {**background(), SURGE: (11, 33)})
    service.evaluate(engine, runtime.journey, AlertsSpec())
    with TestClient(create_app(runtime=runtime, start_scheduler=False)) as client:
        client.headers.update(admin_headers(runtime.engine))
        yield client, runtime


def test_alerts_are_listed_acknowledged_and_shown_on_the_story(
    served: tuple[TestClient, Runtime],
) -> None:
    client, _ = served
    listed = client.get("/api/v1/alerts", params={"status": "open", "stage": "billing"}).json()
    assert [a["detector"] for a in listed if a["detector"] == "negative_surge"] == [
        "negative_surge"
    ]
    alert = next(a for a in listed if a["detector"] == "negative_surge")
    assert alert["fired_day"] == SURGE.isoformat()
    assert alert["link"] == f"/stages/billing?from={SURGE}&to={SURGE}"
    story = client.get("/api/v1/story").json()
    assert alert["id"] in [a["id"] for a in story["alerts"]]
    page = client.get("/api/v1/stages/billing").json()
    assert alert["id"] in [a["id"] for a in page["alerts"]]
    other = client.get("/api/v1/stages/onboard").json()
    assert alert["id"] not in [a["id"] for a in other["alerts"]]
    acked = client.post(f"/api/v1/alerts/{alert['id']}/acknowledge").json()
    assert acked["status"] == "acknowledged"
    assert acked["acknowledged_at"]
    assert client.get("/api/v1/alerts", params={"status": "open"}).json() == [
        a
        for a in client.get("/api/v1/alerts", params={"status": "open"}).json()
        if a["id"] != alert["id"]
    ]
    on_story = {a["id"]: a for a in client.get("/api/v1/story").json()["alerts"]}
    assert on_story[alert["id"]]["status"] == "acknowledged"  # still open work, as it is now
    on_page = {a["id"]: a for a in client.get("/api/v1/stages/billing").json()["alerts"]}
    assert on_page[alert["id"]]["status"] == "acknowledged"


@pytest.mark.parametrize(
    ("path", "params", "status"),
    [
        ("/api/v1/alerts", {"status": "closed"}, 422),
        ("/api/v1/alerts", {"stage": "nowhere"}, 400),
        ("/api/v1/alerts/999999", {}, 404),
        ("/api/v1/alerts/0", {}, 422),
        ("/api/v1/alerts/99999999999999999999", {}, 422),
    ],
)
def test_bad_alert_requests_get_a_4xx_with_a_message(
    served: tuple[TestClient, Runtime], path: str, params: dict[str, str], status: int
) -> None:
    client, _ = served
    response = client.get(path, params=params)
    assert response.status_code == status
    assert response.json()["detail"]


def test_webhook_urls_come_from_the_environment_and_never_leave(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    hook = WebhookSpec(name="cx", url_env="LP_TEST_HOOK")
    assert hook.resolved_url() is None
    monkeypatch.setenv("LP_TEST_HOOK", "https://hooks.example/secret-token")
    assert hook.resolved_url() == "https://hooks.example/secret-token"
    assert "secret-token" not in repr(WebhookSpec(name="x", url="https://h/secret-token"))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="exactly one"):
        WebhookSpec(name="both", url="https://a", url_env="B")  # type: ignore[arg-type]


def test_the_pages_show_the_open_alerts(served: tuple[TestClient, Runtime]) -> None:
    client, _ = served
    listed = client.get("/api/v1/alerts", params={"status": "open"}).json()
    alert = next(a for a in listed if a["detector"] == "negative_surge")
    journey = client.get("/", params={"from": "2026-06-01", "to": SURGE.isoformat()})
    assert journey.status_code == 200
    assert 'data-stage="billing"' in journey.text
    assert "surge of complaints" in journey.text
    stage = client.get("/stages/billing", params={"from": "2026-06-01", "to": SURGE.isoformat()})
    assert f"/stages/billing?from={SURGE}" in stage.text
    other = client.get("/stages/onboard", params={"from": "2026-06-01", "to": SURGE.isoformat()})
    assert 'data-stage="billing"' not in other.text
    page = client.get("/alerts")
    assert page.status_code == 200
    assert f'data-alert="{alert["id"]}"' in page.text
    assert "charged twice" in page.text  # its quotes
    client.post(f"/api/v1/alerts/{alert['id']}/acknowledge")
    assert "Acknowledged (1)" in client.get("/alerts").text


def test_a_touchpoints_nps_dropping_fires_for_that_touchpoint(
    engine: Engine, enricher: Enricher, journey: Journey
) -> None:
    add_source(engine)
    items = []
    for n in range(48):
        day = FIRST + timedelta(days=n)
        for k in range(10):
            late = n >= 41  # the last week: "First bill" answers turn to detractors
            for touchpoint in ("First bill", "Installation"):
                score = 2 if late and touchpoint == "First bill" else (10 if k < 6 else 8)
                items.append(
                    RawItem(
                        external_id=f"t-{n}-{k}-{touchpoint}",
                        text=f"Answer {n}-{k} about {touchpoint.lower()}.",
                        occurred_at=datetime(day.year, day.month, day.day, 9 + k, tzinfo=UTC),
                        rating=score,
                        rating_scale="nps_0_10",
                        attributes={"Touchpoint": touchpoint},
                    )
                )
    result = run_sync(
        engine,
        source_id="src",
        connector=ListConnector([(items, [])]),  # type: ignore[arg-type]
        enricher=enricher,
        journey=journey,
    )
    assert result.status == "succeeded", result.error
    rules = AlertsSpec(touchpoint_attributes=["Touchpoint"])
    fired = service.evaluate(engine, journey, rules).fired
    touchpoints = [a for a in fired if a.stage == ""]
    assert [(a.detector, a.phrase) for a in touchpoints] == [("nps_drop", "Touchpoint=First bill")]
    assert touchpoints[0].value < touchpoints[0].baseline
    assert delivery.page_path(touchpoints[0]).startswith("/?from=")
    assert "attr.Touchpoint=First+bill" in delivery.page_path(touchpoints[0])


def test_a_webhook_on_a_private_address_is_refused_unless_allowed(
    engine: Engine, enricher: Enricher, journey: Journey, receiver: Receiver
) -> None:
    """The SSRF guard: a receiver at loopback (here: the test's own server) gets
    nothing until its network is allowed, and the refusal says what to set."""
    add_source(engine)
    ingest(engine, enricher, journey, {**background(), SURGE: (11, 33)})
    guarded = AlertsSpec(
        webhooks=[WebhookSpec(name="inside", url=f"{receiver.url}/slack")]  # type: ignore[arg-type]
    )
    service.evaluate(engine, journey, guarded, base_url="http://lp.example")
    with httpx.Client() as client:
        assert delivery.send_due(engine, guarded, client=client) == 0
    assert receiver.requests == []
    with Session(engine) as session:
        refused = session.exec(select(AlertDelivery)).all()
    assert refused
    assert all(d.status == "failed" for d in refused)
    assert all("allow_networks" in (d.last_error or "") for d in refused)
    with pytest.raises(ValueError, match="not a network"):
        WebhookSpec(name="x", url="https://h", allow_networks=["intranet"])  # type: ignore[arg-type]
