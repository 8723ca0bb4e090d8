"""The story's whole-number metrics (NPS, CSAT, CES), comparisons, phrases ranked by
how distinctive they are, drivers, attribute filters and the stage page."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from app.ingest.service import run_sync
from app.main import create_app
from app.runtime import build_runtime
from app.settings import Settings
from connectors.base import RawItem
from nlp.enrichment import Enricher
from nlp.journey import Journey
from tests.app.helpers import ListConnector, add_source
from tests.conftest import FIXTURES

START = datetime(2026, 9, 1, 10, tzinfo=UTC)
BILLING = [
    "The company charged me twice this month.",
    "The company double charged me and the refund is slow.",
    "My company invoice was wrong again.",
]
ONBOARD = [
    "The company engineer never came for the installation.",
    "The company installation was quick and the engineer was lovely.",
    "Company setup took three attempts.",
]


def answers() -> list[RawItem]:
    """60 NPS answers in September, 30 in August, a few CSAT and CES answers."""
    out: list[RawItem] = []
    for n in range(60):
        out.append(
            RawItem(
                external_id=f"sep-{n}",
                text=(BILLING if n % 2 else ONBOARD)[n % 3] + f" Ref {n}.",
                occurred_at=START + timedelta(hours=11 * n),
                rating=float(n % 11),
                rating_scale="nps_0_10",
                author_ref=f"c-{n % 40}",
                attributes={"touchpoint": "First bill" if n % 2 else "Installation"},
            )
        )
    for n in range(30):
        out.append(
            RawItem(
                external_id=f"aug-{n}",
                text=BILLING[n % 3] + f" Ref a{n}.",
                occurred_at=START - timedelta(days=31) + timedelta(hours=20 * n),
                rating=float(10 - n % 4),
                rating_scale="nps_0_10",
                author_ref=f"c-{n}",
                attributes={"touchpoint": "First bill"},
            )
        )
    for n, (rating, scale) in enumerate(
        [(5, "csat_1_5"), (4, "csat_1_5"), (2, "csat_1_5"), (3, "ces_1_7"), (6, "ces_1_7")]
    ):
        out.append(
            RawItem(
                external_id=f"other-{n}",
                text="The invoice was wrong.",
                occurred_at=START + timedelta(days=2, minutes=n),
                rating=float(rating),
                rating_scale=scale,
            )
        )
    return out


@pytest.fixture
def client(engine: Engine, enricher: Enricher, journey: Journey) -> Iterator[TestClient]:
    runtime = build_runtime(
        Settings(
            database_url=str(engine.url),
            sources_file=FIXTURES / "app" / "sources.yaml",
            scheduler_enabled=False,
        ),
        engine=engine,
    )
    add_source(engine)
    result = run_sync(
        engine,
        source_id="src",
        connector=ListConnector([(answers(), [])]),
        enricher=enricher,
        journey=journey,
    )
    assert result.inserted == 95
    with TestClient(create_app(runtime=runtime, start_scheduler=False)) as test_client:
        yield test_client


def test_nps_csat_and_ces_are_whole_numbers_with_their_score(client: TestClient) -> None:
    story = client.get(
        "/api/v1/story", params={"source": "src", "from": "2026-09-01", "to": "2026-09-30"}
    ).json()
    ratings = [float(n % 11) for n in range(60)]
    promoters = sum(r >= 9 for r in ratings)
    detractors = sum(r <= 6 for r in ratings)
    assert story["nps"] == {
        "answers": 60,
        "promoters": promoters,
        "passives": 60 - promoters - detractors,
        "detractors": detractors,
        "score": round(100 * (promoters - detractors) / 60),
    }
    assert story["csat"] == {"answers": 3, "satisfied": 2, "score": 67}
    assert story["ces"] == {"answers": 2, "mean": 4.5}
    assert story["to"] == "2026-09-30"  # echoed as asked, not as midnight after it
    assert story["customers"] == 40
    assert story["voices"] == 65
    billing = next(s for s in story["stages"] if s["key"] == "billing")
    assert (
        billing["nps"]["answers"]
        == billing["nps"]["promoters"] + billing["nps"]["passives"] + billing["nps"]["detractors"]
    )


def test_customers_is_null_when_nobody_is_known(client: TestClient) -> None:
    day = client.get(
        "/api/v1/story", params={"source": "src", "from": "2026-09-03", "to": "2026-09-03"}
    ).json()
    anonymous = [s for s in day["stages"] if s["voices"] and s["customers"] is None]
    assert anonymous or all(s["customers"] for s in day["stages"] if s["voices"])
    empty = next(s for s in day["stages"] if s["voices"] == 0)
    assert empty["customers"] is None


def test_compare_gives_the_period_before_and_the_change(client: TestClient) -> None:
    params = {"source": "src", "from": "2026-09-01", "to": "2026-09-30", "compare": "previous"}
    story = client.get("/api/v1/story", params=params).json()
    august = client.get(
        "/api/v1/story", params={"source": "src", "from": "2026-08-01", "to": "2026-08-31"}
    ).json()
    assert story["compare"]["from"] == "2026-08-01"
    assert story["compare"]["voices"] == {
        "before": august["voices"],
        "change": story["voices"] - august["voices"],
    }
    assert story["compare"]["nps_score"]["before"] == august["nps"]["score"]
    for now, before in zip(story["stages"], august["stages"], strict=True):
        assert now["compare"]["voices"]["before"] == before["voices"]
    bad = client.get("/api/v1/story", params={"compare": "previous"})
    assert bad.status_code == 400


def test_unknown_source_or_channel_is_a_404_naming_the_known_ones(client: TestClient) -> None:
    missing = client.get("/api/v1/story", params={"source": "nope"})
    assert missing.status_code == 404
    assert "src" in missing.json()["detail"]
    fax = client.get("/api/v1/story", params={"channel": "fax"})
    assert fax.status_code == 404
    assert "survey" in fax.json()["detail"]


EVERY_STAGE = {
    "discover": "I found the company through an advert and compared the company plans online.",
    "purchase": "Ordering from the company at checkout was quick, the company order went through.",
    "onboard": "The company engineer did the installation, the company setup was easy.",
    "use": "The company app crashes every evening and the company connection drops.",
    "support": "The company agent on the phone helped, the company support line was quick.",
    "billing": "The company invoice was wrong and the company charged me twice.",
    "renew": "The company renewal price went up so I will cancel the company contract.",
    "advocate": "I recommend the company referral scheme to friends, the company is great.",
}


def test_a_word_every_stage_repeats_leads_no_stage(
    engine: Engine, enricher: Enricher, journey: Journey, client: TestClient
) -> None:
    """The anonymised brand word "company" topped every stage of a real telecom export
    by raw counts; ranked by how distinctive a phrase is of its stage, it leads none."""
    add_source(engine, "brand")
    records = [
        RawItem(
            external_id=f"{stage}-{n}",
            text=text,
            occurred_at=START + timedelta(minutes=n),
            author_ref=f"b-{stage}-{n}",
        )
        for stage, text in EVERY_STAGE.items()
        for n in range(4)
    ]
    run_sync(
        engine,
        source_id="brand",
        connector=ListConnector([(records, [])]),
        enricher=enricher,
        journey=journey,
    )
    story = client.get("/api/v1/story", params={"source": "brand"}).json()
    said = {
        s["key"]: [p["phrase"] for p in s["top_phrases"]]
        for s in story["stages"]
        if s["top_phrases"]
    }
    assert len(said) >= 6
    assert all(phrases[0] != "company" for phrases in said.values())
    assert "checkout" in said["purchase"]
    assert "advert" in said["discover"]


def test_drivers_need_enough_answers_and_say_the_gap(client: TestClient) -> None:
    story = client.get("/api/v1/story", params={"source": "src"}).json()
    overall = story["nps"]["score"]
    for stage in story["stages"]:
        for driver in stage["drivers"]:
            assert driver["answers"] >= 20
            assert driver["overall"] == overall
            assert driver["impact"] == driver["nps"] - overall
    billing = next(s for s in story["stages"] if s["key"] == "billing")
    assert billing["drivers"][0]["phrase"] is None
    assert billing["drivers"][0]["nps"] == billing["nps"]["score"]


def test_attribute_filters_count_only_matching_items(client: TestClient) -> None:
    both = client.get(
        "/api/v1/story", params={"source": "src", "from": "2026-09-01", "to": "2026-09-30"}
    ).json()
    bill = client.get(
        "/api/v1/story",
        params={
            "source": "src",
            "from": "2026-09-01",
            "to": "2026-09-30",
            "attr.touchpoint": "First bill",
        },
    ).json()
    install = client.get(
        "/api/v1/story",
        params={
            "source": "src",
            "from": "2026-09-01",
            "to": "2026-09-30",
            "attr.touchpoint": "Installation",
        },
    ).json()
    assert bill["voices"] == install["voices"] == 30
    assert bill["nps"]["answers"] + install["nps"]["answers"] == both["nps"]["answers"]
    either = client.get(
        "/api/v1/story",
        params=[
            ("source", "src"),
            ("attr.touchpoint", "First bill"),
            ("attr.touchpoint", "Installation"),
        ],
    ).json()
    assert either["voices"] == 90  # August's first bills too
    items = client.get(
        "/api/v1/items", params={"attr.touchpoint": "Installation", "limit": 500}
    ).json()
    assert len(items["items"]) == 30
    rated = client.get(
        "/api/v1/items", params={"rating_scale": "nps_0_10", "rating_min": 9, "limit": 500}
    ).json()
    assert rated["items"]
    assert all(i["rating"] >= 9 for i in rated["items"])
    assert client.get("/api/v1/items", params={"rating_min": 5, "rating_max": 2}).status_code == 400
    assert client.get("/api/v1/story", params={"attr.": "x"}).status_code == 400


def test_the_stage_page_adds_days_quotes_and_a_summary(client: TestClient) -> None:
    params = {"source": "src", "from": "2026-09-01", "to": "2026-09-30", "compare": "previous"}
    page = client.get("/api/v1/stages/billing", params=params)
    assert page.status_code == 200, page.text
    body = page.json()
    story = client.get("/api/v1/story", params=params).json()
    billing = next(s for s in story["stages"] if s["key"] == "billing")
    assert body["voices"] == billing["voices"]
    assert sum(d["voices"] for d in body["daily"]) == body["voices"]
    assert body["summary"].startswith(
        f"Billing: {billing['customers']} customers spoke up in September 2026"
    )
    assert "than in August 2026" in body["summary"]
    assert f"NPS {billing['nps']['score']:+d}" in body["summary"]
    assert body["quotes"]
    quoted = {q["text"] for q in body["quotes"]}
    assert not quoted & {q["text"] for q in body["more_quotes"]}
    assert client.get("/api/v1/stages/nowhere").status_code == 404
