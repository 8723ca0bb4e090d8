"""Journey-stage feeds: the same numbers as the story, in CSV, NDJSON and Parquet."""

from __future__ import annotations

import csv
import io
import json
import random
from collections import Counter
from datetime import date, datetime, timedelta

import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient

from app.runtime import Runtime


def rows_csv(client: TestClient, **params: str) -> list[dict[str, str]]:
    response = client.get("/api/v1/feeds/stage-daily.csv", params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.text)))


WHOLE = (
    "voices",
    "negative",
    "neutral",
    "positive",
    "nps_answers",
    "promoters",
    "passives",
    "detractors",
    "csat_answers",
    "csat_satisfied",
    "ces_answers",
)


def test_story_numbers_equal_the_feed_sums_for_random_periods_and_filters(
    client: TestClient,
) -> None:
    everything = rows_csv(client)
    assert everything
    days = sorted({date.fromisoformat(r["day"]) for r in everything})
    sources = sorted({r["source"] for r in everything})
    channels = sorted({r["channel"] for r in everything})
    rng = random.Random(13)
    seen: set[str] = set()
    for _ in range(16):
        start = rng.choice(days)
        stop = start + timedelta(days=rng.randrange(0, 30))
        params = {"from": start.isoformat(), "to": stop.isoformat()}
        if rng.random() < 0.4:
            params["source"] = rng.choice(sources)
        elif rng.random() < 0.4:
            params["channel"] = rng.choice(channels)
        if rng.random() < 0.5:  # read from the facts, not the rollups: must sum the same
            params[f"attr.{rng.choice(['plan', 'region'])}"] = rng.choice(
                ["home", "pro", "north", "south", "east"]
            )
        story = client.get("/api/v1/story", params=params).json()
        feed = rows_csv(client, **params)
        seen.update(k for k in params if k.startswith("attr.") and feed)
        for stage in story["stages"]:
            rows = [r for r in feed if r["stage"] == stage["key"]]
            sums = Counter()
            for row in rows:
                for column in WHOLE:
                    sums[column] += int(row[column])
            assert stage["voices"] == sums["voices"]
            assert stage["sentiment"]["negative"] == sums["negative"]
            assert stage["sentiment"]["neutral"] == sums["neutral"]
            assert stage["sentiment"]["positive"] == sums["positive"]
            nps = stage["nps"] or {"answers": 0, "promoters": 0, "passives": 0, "detractors": 0}
            assert (nps["answers"], nps["promoters"], nps["passives"], nps["detractors"]) == (
                sums["nps_answers"],
                sums["promoters"],
                sums["passives"],
                sums["detractors"],
            )
            csat = stage["csat"] or {"answers": 0, "satisfied": 0}
            assert (csat["answers"], csat["satisfied"]) == (
                sums["csat_answers"],
                sums["csat_satisfied"],
            )
            assert sum(stage["channels"].values()) == sums["voices"]
            if sums["voices"]:
                mean = sum(float(r["sentiment_sum"]) for r in rows) / sums["voices"]
                assert stage["sentiment"]["mean"] == pytest.approx(mean, abs=1e-3)
    assert seen  # some attribute filter matched voices


def test_attribute_filters_narrow_every_feed(client: TestClient) -> None:
    everything = rows_csv(client)
    north = rows_csv(client, **{"attr.region": "north"})
    assert 0 < sum(int(r["voices"]) for r in north) < sum(int(r["voices"]) for r in everything)
    items = list(csv.DictReader(io.StringIO(client.get("/api/v1/feeds/items.csv").text)))
    only = client.get("/api/v1/feeds/items.csv", params={"attr.region": "north"}).text
    chosen = list(csv.DictReader(io.StringIO(only)))
    assert chosen
    assert all(json.loads(r["attributes"]).get("region") == "north" for r in chosen)
    assert len(chosen) == sum(
        1 for r in items if json.loads(r["attributes"]).get("region") == "north"
    )
    later = rows_csv(client, **{"attr.region": "north", "updated_since": "2999-01-01"})
    assert later == []
    bad = client.get("/api/v1/feeds/items.csv", params={"attr.bad$name": "x"})
    assert bad.status_code == 400


def test_every_format_carries_the_same_rows(client: TestClient) -> None:
    as_csv = rows_csv(client)
    ndjson = client.get("/api/v1/feeds/stage-daily.ndjson")
    assert ndjson.headers["content-type"].startswith("application/x-ndjson")
    lines = [json.loads(line) for line in ndjson.text.splitlines()]
    parquet = client.get("/api/v1/feeds/stage-daily.parquet")
    table = pq.read_table(io.BytesIO(parquet.content))
    assert len(as_csv) == len(lines) == table.num_rows
    assert str(table.schema.field("day").type) == "date32[day]"
    assert str(table.schema.field("voices").type) == "int64"
    assert [r["voices"] for r in lines] == [int(r["voices"]) for r in as_csv]
    assert table.column("voices").to_pylist() == [r["voices"] for r in lines]
    by_accept = client.get("/api/v1/feeds/stage-daily", headers={"Accept": "application/x-ndjson"})
    assert by_accept.text == ndjson.text
    default = client.get("/api/v1/feeds/stage-daily")
    assert default.headers["content-type"].startswith("text/csv")


def test_items_feed_streams_every_item_and_its_segments(client: TestClient) -> None:
    listed = client.get("/api/v1/items", params={"limit": 500}).json()["items"]
    response = client.get("/api/v1/feeds/items.csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert sorted(int(r["id"]) for r in rows) == sorted(i["id"] for i in listed)
    assert all(r["occurred_at"].endswith("Z") for r in rows)
    assert all(isinstance(json.loads(r["stages"]), list) for r in rows)
    segments = client.get("/api/v1/feeds/items.ndjson", params={"grain": "segment"})
    seg_rows = [json.loads(line) for line in segments.text.splitlines()]
    assert {s["item_id"] for s in seg_rows} == {int(r["id"]) for r in rows}
    billing = client.get("/api/v1/feeds/items.parquet", params={"stage": "billing"})
    table = pq.read_table(io.BytesIO(billing.content))
    assert 0 < table.num_rows < len(rows)
    assert all("billing" in json.loads(s) for s in table.column("stages").to_pylist())
    later = client.get("/api/v1/feeds/items.csv", params={"updated_since": "2999-01-01"})
    assert list(csv.DictReader(io.StringIO(later.text))) == []


def test_items_feed_times_are_the_stored_moments_in_iso_8601(client: TestClient) -> None:
    """The database writes the feed's times as text; they must read back as the very
    moments the API gives (with and without fractions of a second), in every format."""
    listed = {
        i["id"]: i for i in client.get("/api/v1/items", params={"limit": 500}).json()["items"]
    }
    rows = list(csv.DictReader(io.StringIO(client.get("/api/v1/feeds/items.csv").text)))
    assert rows
    for row in rows:
        item = listed[int(row["id"])]
        when = datetime.fromisoformat(row["occurred_at"])
        assert when == datetime.fromisoformat(item["occurred_at"])
        assert row["occurred_at"] == when.isoformat().replace("+00:00", "Z")
        assert row["day"] == when.date().isoformat()
        stamped = datetime.fromisoformat(row["updated_at"])
        assert stamped.tzinfo is not None
        assert row["updated_at"] == stamped.isoformat().replace("+00:00", "Z")
    assert any("." in r["updated_at"] for r in rows)  # ingest stamps carry microseconds
    assert any("." not in r["occurred_at"] for r in rows)  # the fixtures' whole seconds
    table = pq.read_table(io.BytesIO(client.get("/api/v1/feeds/items.parquet").content))
    assert str(table.schema.field("occurred_at").type) == "timestamp[us, tz=UTC]"
    by_id = dict(
        zip(table.column("id").to_pylist(), table.column("updated_at").to_pylist(), strict=True)
    )
    for row in rows:
        assert by_id[int(row["id"])] == datetime.fromisoformat(row["updated_at"])
    seg = client.get("/api/v1/feeds/items.ndjson", params={"grain": "segment"}).text
    for line in seg.splitlines():
        segment = json.loads(line)
        assert segment["day"] == segment["occurred_at"][:10]


@pytest.mark.parametrize(
    ("path", "params", "status"),
    [
        ("/api/v1/feeds/stage-daily.xml", {}, 422),
        ("/api/v1/feeds/stage-daily.csv", {"source": "nope"}, 404),
        ("/api/v1/feeds/stage-daily.csv", {"channel": "fax"}, 404),
        ("/api/v1/feeds/stage-daily.csv", {"stage": "nowhere"}, 400),
        ("/api/v1/feeds/items.csv", {"grain": "word"}, 422),
        ("/api/v1/feeds/items.csv", {"updated_since": "soon"}, 400),
    ],
)
def test_bad_feed_requests_are_4xx(
    client: TestClient, path: str, params: dict[str, str], status: int
) -> None:
    response = client.get(path, params=params)
    assert response.status_code == status, response.text
    assert response.json()["detail"]


def test_bi_role_reads_the_views_and_nothing_else(runtime: Runtime, client: TestClient) -> None:
    import uuid

    from sqlalchemy import text
    from sqlalchemy.exc import ProgrammingError

    from app.db import make_engine
    from app.feeds.roles import RoleError, grant_bi_role

    engine = runtime.engine
    if engine.dialect.name != "postgresql":
        with pytest.raises(RoleError, match="feeds"):
            grant_bi_role(engine, "powerbi", password=None)
        return
    role = f"lp_bi_{uuid.uuid4().hex[:8]}"
    schema = grant_bi_role(engine, role, password="s3cret'; DROP TABLE items; --")
    url = engine.url.set(username=role, password=None)
    reader = make_engine(
        url.render_as_string(hide_password=False),
        connect_args={"options": f"-csearch_path={schema}"},
    )
    try:
        with reader.connect() as conn:
            voices = conn.execute(text("SELECT SUM(voices) FROM lp_stage_daily")).scalar_one()
            items = conn.execute(text("SELECT COUNT(*) FROM lp_items")).scalar_one()
            conn.execute(text("SELECT COUNT(*) FROM lp_segments")).scalar_one()
        feed = rows_csv(client)
        assert voices == sum(int(r["voices"]) for r in feed)
        assert items == len(client.get("/api/v1/items", params={"limit": 500}).json()["items"])
        with reader.connect() as conn, pytest.raises(ProgrammingError, match="permission denied"):
            conn.execute(text("SELECT COUNT(*) FROM items"))
    finally:
        reader.dispose()
        with engine.begin() as conn:
            conn.execute(text(f"DROP OWNED BY {role}"))
            conn.execute(text(f"DROP ROLE {role}"))


def test_every_feed_column_is_documented() -> None:
    from pathlib import Path

    from app.feeds.repository import ITEM_COLUMNS, SEGMENT_COLUMNS, stage_daily_columns
    from app.outcomes.daily import COLUMNS as OUTCOME_COLUMNS
    from app.scales import Scales

    doc = (Path(__file__).parents[2] / "docs" / "feeds.md").read_text(encoding="utf-8")
    for column in [
        *stage_daily_columns(Scales()),
        *ITEM_COLUMNS,
        *SEGMENT_COLUMNS,
        *OUTCOME_COLUMNS,
    ]:
        assert f"| `{column.name}` | {column.type} |" in doc, column.name
