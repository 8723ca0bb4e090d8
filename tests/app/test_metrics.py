"""GET /metrics (both databases): counters that grow by exactly what each run
reports, request latency by route template, the queue's depth read from its
table, and the worker's own metrics port."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text
from sqlalchemy.engine import Engine

from app.db import make_engine
from app.ingest.service import BatchProgress
from app.jobs import BatchCommitted, Events, JobFinished
from app.main import create_app
from app.observability.metrics import exposition, follow, serve_metrics
from app.observability.queue_depth import QueueDepth
from app.runtime import Runtime, build_runtime
from app.settings import Settings
from tests.app.helpers import admin_headers
from tests.app.test_queue import (
    ThreadWorker,
    queued_runtime,
    wait_for_run,
    write_survey,
)
from tests.conftest import FIXTURES, _postgres_url

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]

SOURCES = """
  - id: web-form
    name: Feedback form on the website
    kind: push
    config:
      max_records: 5
      rating_scale: csat_1_5
  - id: lost-export
    name: An export whose file is gone
    kind: survey_file
    config:
      path: {missing}
      id_column: id
      date_column: date
      answers: [{{column: text}}]
"""
RECORDS: list[dict[str, Any]] = [
    {"id": "f-1", "text": "The checkout page kept failing at the payment step.", "rating": 2},
    {"id": "f-2", "text": "Delivery came a day early, great.", "rating": 5},
    {"id": "f-3", "text": ""},  # no words: rejected
    {"id": "f-4", "text": "Setup was easy.", "rating": 9},  # not on csat_1_5: rejected
]
COUNTERS = {
    "inserted": "lp_items_ingested_total",
    "duplicates": "lp_items_duplicates_total",
    "rejected": "lp_items_rejected_total",
    "updated": "lp_items_updated_total",
}


def _runtime(engine: Engine, tmp_path: Path, **settings: object) -> Runtime:
    fixtures = FIXTURES / "app"
    sources = tmp_path / "sources.yaml"
    declared = (fixtures / "sources.yaml").read_text(encoding="utf-8")
    declared = declared.replace("path: survey/", f"path: {fixtures}/survey/").replace(
        "path: notes", f"path: {fixtures}/notes"
    )
    extra = SOURCES.format(missing=tmp_path / "gone.csv")
    sources.write_text(declared.replace("sources:\n", "sources:\n" + extra, 1), encoding="utf-8")
    return build_runtime(
        Settings(
            database_url=str(engine.url),
            sources_file=sources,
            scheduler_enabled=False,
            **settings,  # type: ignore[arg-type]
        ),
        engine=engine,
    )


@pytest.fixture
def client(engine: Engine, tmp_path: Path) -> Iterator[TestClient]:
    runtime = _runtime(engine, tmp_path)
    with TestClient(create_app(runtime=runtime, start_scheduler=False)) as test_client:
        test_client.headers.update(admin_headers(runtime.engine))
        yield test_client


def scrape(client: TestClient) -> Samples:
    response = client.get("/metrics", headers={"Authorization": ""})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return parse(response.text)


def parse(exposition: str) -> Samples:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(exposition)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def grew(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


def test_each_run_adds_exactly_its_own_counts_to_the_counters(client: TestClient) -> None:
    """Posted (inserts and rejects), posted again (duplicates), edited (an update),
    then a sync of a file source through the API: after each, every counter of
    that source has grown by what the run itself reported, and one run more is timed."""
    push = "/api/v1/sources/web-form/items"
    edited = [{**RECORDS[0], "text": "The checkout page failed twice at payment."}]
    runs: list[tuple[str, str, object]] = [
        ("web-form", push, RECORDS),
        ("web-form", push, RECORDS[:2]),
        ("web-form", push, edited),
        ("pulse-survey", "/api/v1/sources/pulse-survey/sync", None),
        ("pulse-survey", "/api/v1/sources/pulse-survey/sync", None),
    ]
    seen = set()
    for source, path, payload in runs:
        before = scrape(client)
        response = client.post(path, json=payload)
        assert response.status_code == 200, response.text
        body = response.json()
        reported = body.get("run", body)
        assert reported["status"] == "succeeded"
        after = scrape(client)
        for field, counter in COUNTERS.items():
            assert grew(before, after, counter, source=source) == reported[field], field
            seen.add((field, reported[field] > 0))
        assert grew(before, after, "lp_sync_seconds_count", source=source) == 1
        assert grew(before, after, "lp_sync_failures_total", source=source) == 0
        assert value(after, "lp_sync_failures_total", source=source) == 0  # the series exists
    # the runs above did exercise every counter
    assert {field for field, nonzero in seen if nonzero} == set(COUNTERS)


def test_a_failed_run_counts_a_failure_and_its_time(client: TestClient) -> None:
    before = scrape(client)
    response = client.post("/api/v1/sources/lost-export/sync")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "failed"
    after = scrape(client)
    assert grew(before, after, "lp_sync_failures_total", source="lost-export") == 1
    assert grew(before, after, "lp_sync_seconds_count", source="lost-export") == 1
    assert grew(before, after, "lp_sync_failures_total", source="web-form") == 0


def test_queued_batches_add_their_own_counts_and_runs_here_their_growth() -> None:
    """The two ways a batch is told: a worker storing a queued batch tells that
    batch's counts (`batch`), a run in this process its running totals (`sync`)."""
    events = Events()
    follow(events)
    before = parse(exposition(None)[0].decode())
    one = BatchProgress("queued-src", fetched=3, inserted=2, duplicates=1, rejected=0)
    two = BatchProgress("queued-src", fetched=3, inserted=1, duplicates=0, rejected=1, updated=1)
    for batch in (one, two, one):  # batches of one run, stored by workers in turn
        events.publish(
            BatchCommitted("sync", "queued-src", batch.fetched, None, batch, batch=batch)
        )
    ran = [
        BatchProgress("inline-src", fetched=3, inserted=3, duplicates=0, rejected=0),
        BatchProgress("inline-src", fetched=5, inserted=4, duplicates=1, rejected=0),
    ]
    for progress in ran:
        events.publish(BatchCommitted("sync", "inline-src", progress.fetched, None, progress))
    events.publish(JobFinished("sync", "inline-src", True, 5, seconds=1.5))
    restarted = BatchProgress("inline-src", fetched=2, inserted=2, duplicates=0, rejected=0)
    events.publish(BatchCommitted("sync", "inline-src", 2, None, restarted))  # the next run
    events.publish(BatchCommitted("rebuild", None, 100, 100))  # no run of a source
    after = parse(exposition(None)[0].decode())
    queued = {field: grew(before, after, c, source="queued-src") for field, c in COUNTERS.items()}
    assert queued == {"inserted": 5, "duplicates": 2, "rejected": 1, "updated": 1}
    inline = {field: grew(before, after, c, source="inline-src") for field, c in COUNTERS.items()}
    assert inline == {"inserted": 4 + 2, "duplicates": 1, "rejected": 0, "updated": 0}
    assert grew(before, after, "lp_sync_seconds_sum", source="inline-src") == 1.5


def test_a_queued_sync_counts_what_its_workers_stored(pg_engine: Engine, tmp_path: Path) -> None:
    """Through the queue (PostgreSQL): one worker stores batch after batch of the
    run, each told with its own counts; the counters grow by the run's totals, and
    the run is timed once, where it was read."""
    runtime = queued_runtime(pg_engine, write_survey(tmp_path, rows=400, batch_size=50))
    try:
        before = parse(exposition(None)[0].decode())
        assert runtime.queue is not None
        runtime.queue.sync("survey", trigger="manual")
        with ThreadWorker(runtime):
            run = wait_for_run(pg_engine)
        assert run.status == "succeeded", run.error
        after = parse(exposition(None)[0].decode())
        grown = {field: grew(before, after, c, source="survey") for field, c in COUNTERS.items()}
        assert grown == {field: getattr(run, field) for field in COUNTERS}
        assert run.inserted > 0
        assert run.rejected > 0
        assert run.duplicates > 0
        assert grew(before, after, "lp_sync_seconds_count", source="survey") == 1
    finally:
        runtime.close()


def test_enrichment_time_and_items_grow_with_what_was_stored(client: TestClient) -> None:
    before = scrape(client)
    body = client.post("/api/v1/sources/web-form/items", json=RECORDS).json()
    after = scrape(client)
    inserted = body["run"]["inserted"]
    assert inserted == 2
    assert grew(before, after, "lp_enriched_items_total") >= inserted
    assert grew(before, after, "lp_enrichment_batch_seconds_count") >= 1
    assert grew(before, after, "lp_enrichment_batch_seconds_sum") > 0


def test_request_latency_is_labelled_by_route_template_not_by_path(
    client: TestClient,
) -> None:
    client.post("/api/v1/sources/web-form/items", json=RECORDS[:1])
    item_id = client.get("/api/v1/items").json()["items"][0]["id"]
    before = scrape(client)
    assert client.get(f"/api/v1/items/{item_id}").status_code == 200
    assert client.get("/api/v1/items/999999999").status_code == 404
    assert client.get("/api/v1/story").status_code == 200
    assert client.get(f"/no/such/path/{item_id}").status_code == 404
    assert client.request("BREW", "/api/v1/story").status_code == 405
    after = scrape(client)
    count = "lp_http_request_seconds_count"
    item = {"route": "/api/v1/items/{item_id}", "method": "GET"}
    assert grew(before, after, count, **item, status="2xx") == 1
    assert grew(before, after, count, **item, status="4xx") == 1
    assert grew(before, after, count, route="/api/v1/story", method="GET", status="2xx") == 1
    assert grew(before, after, count, route="unmatched", method="GET", status="4xx") == 1
    assert grew(before, after, count, route="/api/v1/story", method="other", status="4xx") == 1
    routes = {dict(labels)["route"] for name, labels in after if name == count}
    assert f"/api/v1/items/{item_id}" not in routes, routes
    assert not any("999999999" in route or "/no/such" in route for route in routes), routes
    assert "/metrics" in routes  # the scrape itself is timed too


def test_metrics_need_no_key_and_can_be_turned_off(
    engine: Engine, tmp_path: Path, client: TestClient
) -> None:
    """A key exists, so reads need one; /metrics, like /health, does not."""
    assert client.get("/api/v1/story", headers={"Authorization": ""}).status_code == 401
    open_metrics = client.get("/metrics", headers={"Authorization": ""})
    assert open_metrics.status_code == 200
    assert "/metrics" not in client.get("/openapi.json").json()["paths"]
    off = _runtime(engine, tmp_path, metrics_enabled=False)
    with TestClient(create_app(runtime=off, start_scheduler=False)) as closed:
        assert closed.get("/metrics").status_code == 404


def test_openmetrics_is_served_to_a_scraper_that_asks_for_it(client: TestClient) -> None:
    response = client.get("/metrics", headers={"Accept": "application/openmetrics-text"})
    assert response.headers["content-type"].startswith("application/openmetrics-text")
    assert response.text.endswith("# EOF\n")


@contextmanager
def schema_of_its_own() -> Iterator[Engine]:
    """An engine on an empty PostgreSQL schema, dropped afterwards: the session's
    schema may hold procrastinate's real tables (a queued test made them)."""
    url = _postgres_url()
    assert url is not None
    schema = f"lp_queue_{uuid.uuid4().hex[:10]}"
    admin = make_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    own = make_engine(url, connect_args={"options": f"-csearch_path={schema}"})
    try:
        yield own
    finally:
        own.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def depth_of(engine: Engine) -> dict[tuple[str, str], float]:
    return {
        (dict(labels)["queue"], dict(labels)["status"]): v
        for (name, labels), v in parse(exposition(engine)[0].decode()).items()
        if name == "lp_queue_jobs"
    }


def test_queue_depth_counts_waiting_and_running_jobs_per_queue(engine: Engine) -> None:
    """A table shaped like procrastinate's (its enum status, the two columns that
    count): each scrape counts its rows waiting and running, per queue."""
    if engine.dialect.name != "postgresql":
        pytest.skip("the task queue lives in PostgreSQL")
    rows = [("sync", "todo")] * 3 + [("sync", "doing"), ("sync", "succeeded")]
    rows += [("reenrich", "todo"), ("reenrich", "failed"), ("alerts", "succeeded")]
    with schema_of_its_own() as own:
        with own.begin() as conn:
            conn.execute(
                text(
                    "CREATE TYPE procrastinate_job_status AS ENUM "
                    "('todo', 'doing', 'succeeded', 'failed', 'cancelled', 'aborted')"
                )
            )
            conn.execute(
                text(
                    "CREATE TABLE procrastinate_jobs (id bigserial PRIMARY KEY, "
                    "queue_name text NOT NULL, status procrastinate_job_status NOT NULL)"
                )
            )
            conn.execute(
                text("INSERT INTO procrastinate_jobs (queue_name, status) VALUES (:q, :s)"),
                [{"q": q, "s": s} for q, s in rows],
            )
        assert depth_of(own) == {
            ("sync", "todo"): 3,
            ("sync", "doing"): 1,
            ("reenrich", "todo"): 1,
            ("reenrich", "doing"): 0,
        }  # finished jobs are no depth; a queue with nothing pending has no series
        with own.begin() as conn:
            conn.execute(text("UPDATE procrastinate_jobs SET status = 'succeeded'"))
        assert depth_of(own) == {}  # read at each scrape: drained is drained


def test_no_queue_table_means_no_queue_depth(engine: Engine, client: TestClient) -> None:
    """SQLite, or a PostgreSQL schema the queue was never installed in: nothing,
    not a zero."""
    if engine.dialect.name == "postgresql":
        with schema_of_its_own() as empty:
            assert list(QueueDepth(empty).collect()) == []
            assert depth_of(empty) == {}
    else:
        assert list(QueueDepth(engine).collect()) == []
        assert not any(name == "lp_queue_jobs" for name, _ in scrape(client))


def test_a_worker_serves_its_metrics_on_a_port_of_its_own(engine: Engine) -> None:
    server, thread = serve_metrics(0, engine=engine, addr="127.0.0.1")
    try:
        answer = httpx.get(f"http://127.0.0.1:{server.server_port}/metrics", timeout=5)
        assert answer.status_code == 200
        names = {family.name for family in text_string_to_metric_families(answer.text)}
        assert {"lp_items_ingested", "lp_sync_seconds", "process_cpu_seconds"} <= names
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
