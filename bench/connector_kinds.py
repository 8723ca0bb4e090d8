"""Per-connector figures (issue 16): every live kind, through faults and a crash, into
a fresh store, against what its fake vendor server served.

    python bench/connector_kinds.py [--records 3000] [--postgres URL]

For each kind — `mastodon` (a hashtag; an account with its mentions), `rss` (RSS 2.0
and Atom), `typeform`, `zendesk`, `rest` (link, cursor, page and offset paging),
`push` (posted to the service's `POST /api/v1/sources/{id}/items`) and a
`survey_file` drop folder (`watch: true`) — the bench serves N records from
`connectors.testing.vendors` on a real local HTTP server (`FakeServer`; the
sources allow loopback with `allow_networks`, the SSRF guard refusing it
otherwise), one of them without its id, and syncs through the real ingest
(`app.runtime.build_runtime`; `app.ingest.service.run_sync` for the crashed run)
into a fresh database (a SQLite file by default, a fresh PostgreSQL schema with
`--postgres`, dropped at the end):

1. a run crashed on purpose half-way (the batch callback raises after half the
   batches, as a killed process would: the batches stored so far stay);
2. a run whose first request answers 401 (an expired token; no kind refreshes
   one): it must fail at once, storing nothing;
3. runs to the end with faults injected on one request: 429 (`Retry-After: 0`),
   500, an answer slower than the timeout, truncated JSON/XML; and a repeated page
   later (a loop guard may stop that run: the next one resumes from its cursor);
4. one more run: nothing new.

Push has no server to fault: the client "crashes" after half its posts and posts
everything again, posts a truncated body (400) and an oversized one (413) that
must store nothing. The drop folder gets a file still being written (left for a
later run by `watch`), and a file that changes after it was read.

Then, per kind: served (records with an id the server holds), pulled (records the
connector delivered over all runs, re-deliveries included), stored, duplicates
(stored beyond one item per served record: must be 0), lost (served, not stored:
must be 0), quarantined (against the expected 1), faults injected and survived
(a fault is survived when the kind ends whole: nothing lost, nothing doubled,
the bad record quarantined once), runs, and the seconds it took.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as `python bench/connector_kinds.py`, this file's folder comes first on sys.path and
# bench/connectors.py would hide the `connectors` package: put the project root there instead.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

import argparse  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from collections.abc import Callable, Iterator  # noqa: E402
from contextlib import contextmanager  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from datetime import UTC, datetime, timedelta  # noqa: E402
from typing import Any  # noqa: E402

import yaml  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402
from sqlalchemy import text  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402

from app.db import make_engine  # noqa: E402
from app.ingest.service import BatchProgress, SyncResult, run_sync  # noqa: E402
from app.main import create_app  # noqa: E402
from app.runtime import Runtime, build_runtime  # noqa: E402
from app.settings import Settings  # noqa: E402
from connectors.registry import get_connector_class  # noqa: E402
from connectors.testing import LOOPBACK, FakeServer, Fault  # noqa: E402
from connectors.testing.vendors import (  # noqa: E402
    FakeFeed,
    FakeMastodon,
    FakeRest,
    FakeTypeform,
    FakeZendesk,
    FeedEntry,
    mastodon_mention,
    mastodon_status,
    typeform_response,
    zendesk_comment,
    zendesk_ticket,
)

TOKEN = "bench-token-" + "k" * 20
START = datetime(2026, 1, 1, tzinfo=UTC)
PHRASES = [
    "setup was painless", "the installer never came", "the app crashes every evening",
    "it works well day to day", "I was on hold for forty minutes", "the agent solved it",
    "I was charged twice this month", "my refund has not arrived", "the bill is clear",
    "I am going to cancel at renewal", "I renewed happily", "I recommend you to everyone",
]  # fmt: skip
FAST = {  # retries that cost no time: Retry-After 0, backoff of a few ms, a short timeout
    "backoff_seconds": 0.01,
    "max_backoff_seconds": 0.05,
    "timeout_seconds": 0.5,
    **LOOPBACK,
}
SLOW = 0.8  # seconds the slow fault waits: longer than timeout_seconds


def words(i: int, rng: random.Random) -> str:
    first = rng.choice(PHRASES)
    return f"{first[0].upper()}{first[1:]}, and {rng.choice(PHRASES)} (record {i})."


# --------------------------------------------------------------------------- cases


@dataclass
class Case:
    """One kind's source: its config, the ids the server serves, and its server."""

    name: str
    kind: str
    config: dict[str, Any]
    expected: set[str]
    server: FakeServer | None = None
    bad: int = 1  # records served without an id: each must be quarantined once
    env: dict[str, str] = field(default_factory=dict)
    # push and files: what the bench does instead of syncing a server
    push: list[dict[str, Any]] | None = None
    folder: Path | None = None

    @property
    def source_id(self) -> str:
        return "bench-" + re.sub(r"[^a-z0-9]+", "-", self.name.lower()).strip("-")


def mastodon_hashtag(n: int, rng: random.Random) -> tuple[FakeMastodon, dict[str, Any], set[str]]:
    statuses = [
        mastodon_status(
            110_000_000_000_000_000 + i,
            f"<p>{words(i, rng)} <a href='#'>#acme</a></p>",
            when=START + timedelta(minutes=3 * i),
            acct=f"user{i % 97}@example.social",
            tags=("acme",),
        )
        for i in range(n)
    ]
    broken = statuses[n // 3]
    broken["id"], broken["_pos"] = None, str(110_000_000_000_000_000 + n // 3)
    expected = {s["id"] for s in statuses if s["id"]}
    config = {"hashtag": "acme", "token_env": "BENCH_MASTODON_TOKEN", "page_size": 40}
    return FakeMastodon(statuses, token=TOKEN), config, expected


def mastodon_account(n: int, rng: random.Random) -> tuple[FakeMastodon, dict[str, Any], set[str]]:
    own = n // 2
    statuses = [
        mastodon_status(
            120_000_000_000_000_000 + i,
            f"<p>{words(i, rng)}</p>",
            when=START + timedelta(minutes=5 * i),
            acct="acme@example.social",
            account_id="7",
        )
        for i in range(own)
    ]
    mentions = [
        mastodon_mention(
            5000 + i,
            mastodon_status(
                130_000_000_000_000_000 + i,
                f"<p>@acme {words(i, rng)}</p>",
                when=START + timedelta(minutes=5 * i + 1),
                acct=f"customer{i % 89}@example.social",
                account_id=str(100 + i % 89),
            ),
        )
        for i in range(n - own)
    ]
    broken = mentions[len(mentions) // 2]["status"]
    broken["id"] = None
    expected = {s["id"] for s in statuses} | {m["status"]["id"] for m in mentions} - {None}
    fake = FakeMastodon(
        statuses,
        token=TOKEN,
        accounts={"acme@example.social": "7"},
        notifications=mentions,
        token_owner="7",
    )
    config = {
        "account": "acme@example.social",
        "token_env": "BENCH_MASTODON_TOKEN",
        "page_size": 40,
    }
    return fake, config, expected


def feed(n: int, rng: random.Random, *, atom: bool) -> tuple[FakeFeed, dict[str, Any], set[str]]:
    entries = [
        FeedEntry(
            f"rv-{i}",
            f"{'★' * (1 + i % 5)} Review {i}",
            words(i, rng),
            START + timedelta(minutes=7 * i),
            rating=1 + i % 5,
        )
        for i in range(n)
    ]
    entries[n // 2] = FeedEntry(None, "No id", "Neither a guid nor a link.", START)
    expected = {e.id for e in entries if e.id}
    return FakeFeed(entries, atom=atom), {"page_size": 100}, expected


def typeform(n: int, rng: random.Random) -> tuple[FakeTypeform, dict[str, Any], set[str]]:
    fake = FakeTypeform(token=TOKEN)
    expected: set[str] = set()
    for i in range(n):
        why = words(i, rng)
        response = typeform_response(
            f"tf{i:06d}",
            submitted_at=START + timedelta(minutes=11 * i),
            why=why,
            nps=i % 11,
            hidden={"customer_id": f"c{i % 301}"},
        )
        if i == n // 2 + 1:  # not last on its page: the cursor is the last token read
            del response["response_id"], response["token"]
        else:
            expected.add(f"tf{i:06d}:why")
        fake.responses.append(response)
    config = {"form_id": fake.form["id"], "token_env": "BENCH_TYPEFORM_TOKEN", "page_size": 200}
    return fake, config, expected


def zendesk(n: int, rng: random.Random) -> tuple[FakeZendesk, dict[str, Any], set[str]]:
    """n // 2 tickets, each an opening comment by the requester and a later one: two
    items per ticket (and one request per ticket for its comments)."""
    fake = FakeZendesk(token=TOKEN)
    expected: set[str] = set()
    tickets = n // 2
    for t in range(1, tickets + 1):
        description = words(t, rng)
        ticket = zendesk_ticket(t, f"Ticket {t}", description, when=START + timedelta(hours=t))
        fake.comments[t] = [
            zendesk_comment(t * 10 + 1, 501, description),
            zendesk_comment(t * 10 + 2, 9, "Thanks, we are on it."),
            zendesk_comment(t * 10 + 3, 501, words(t + 1, rng)),
        ]
        if t == tickets // 2:
            del ticket["id"]
        else:
            expected |= {str(t), f"{t}:c{t * 10 + 3}"}
        fake.tickets.append(ticket)
    config = {
        "email": fake.email,
        "token_env": "BENCH_ZENDESK_TOKEN",
        "start_date": "2025-12-01",
        "page_size": 100,
    }
    return fake, config, expected


def rest(n: int, rng: random.Random, style: str) -> tuple[FakeRest, dict[str, Any], set[str]]:
    records = [
        {
            "id": f"r{i}",
            "created_at": (START + timedelta(minutes=13 * i)).isoformat(),
            "title": f"Review {i}",
            "body": words(i, rng),
            "stars": 1 + i % 5,
        }
        for i in range(n)
    ]
    del records[n // 2]["id"]
    expected = {r["id"] for r in records if "id" in r}
    pagination: dict[str, Any] = {"style": style, "size_param": "per_page"}
    if style == "cursor":
        pagination["next_path"] = "meta.next_cursor"
    config = {
        "headers": {"X-Api-Key": {"env": "BENCH_REST_KEY"}},
        "records_path": "data.reviews",
        "fields": {"id": "id", "text": ["title", "body"], "date": "created_at", "rating": "stars"},
        "rating_scale": "stars_1_5",
        "pagination": pagination,
        "page_size": 100,
    }
    return FakeRest(records, style=style, api_key=TOKEN), config, expected


def push_records(n: int, rng: random.Random) -> tuple[list[dict[str, Any]], set[str]]:
    records: list[dict[str, Any]] = [
        {
            "id": f"p{i}",
            "text": words(i, rng),
            "occurred_at": (START + timedelta(minutes=i)).isoformat(),
            "rating": 1 + i % 5,
        }
        for i in range(n)
    ]
    del records[n // 2]["id"]
    return records, {str(r["id"]) for r in records if "id" in r}


def csv_rows(first: int, count: int, rng: random.Random, *, bad_at: int | None = None) -> str:
    lines = ["response_id,submitted_at,comment"]
    for i in range(first, first + count):
        rid = "" if i == bad_at else f"s{i}"
        when = (START + timedelta(minutes=17 * i)).strftime("%Y-%m-%dT%H:%M:%SZ")
        lines.append(f'{rid},{when},"{words(i, rng)}"')
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- runs


@dataclass
class Row:
    name: str
    served: int = 0
    pulled: int = 0
    stored: int = 0
    duplicates: int = 0
    lost: int = 0
    quarantined: int = 0
    expected_quarantined: int = 1
    faults: list[str] = field(default_factory=list)
    runs: list[str] = field(default_factory=list)
    last_new: int = 0
    seconds: float = 0.0

    @property
    def whole(self) -> bool:
        return (
            self.duplicates == 0
            and self.lost == 0
            and self.quarantined == self.expected_quarantined
            and self.last_new == 0
        )


def _mark(result: SyncResult) -> str:
    return "ok" if result.status == "succeeded" else "failed"


def crash_run(runtime: Runtime, source_id: str, after: int) -> SyncResult:
    """A sync that dies after `after` batches are stored (the callback raises, as
    a killed process would stop: what was committed stays)."""
    spec = runtime.sources[source_id]
    connector = get_connector_class(spec.kind).from_mapping(
        spec.config, base_dir=runtime.jobs.base_dir
    )
    seen = 0

    def crash(progress: BatchProgress) -> None:
        del progress
        nonlocal seen
        seen += 1
        if seen == after:
            raise RuntimeError("simulated crash")

    logging.disable(logging.ERROR)  # the crash is on purpose: no traceback for it
    try:
        return run_sync(
            runtime.engine,
            source_id=source_id,
            connector=connector,
            enricher=runtime.enricher,
            journey=runtime.journey,
            policy=runtime.policy,
            trigger="bench",
            on_batch=crash,
        )
    finally:
        logging.disable(logging.NOTSET)


def count_batches(runtime: Runtime, case: Case) -> int:
    """Batches a clean full read makes (read by the connector alone, nothing stored)."""
    spec = runtime.sources[case.source_id]
    connector = get_connector_class(spec.kind).from_mapping(
        spec.config, base_dir=runtime.jobs.base_dir
    )
    assert case.server is not None
    before = case.server.request_count
    batches = sum(1 for _ in connector.fetch(None))
    case.server.requests[before:] = []  # not part of what the runs asked
    return batches


def pull_case(runtime: Runtime, case: Case, row: Row) -> None:
    server = case.server
    assert server is not None
    batches = count_batches(runtime, case)
    results: list[SyncResult] = []
    first = crash_run(runtime, case.source_id, max(1, batches // 2))
    results.append(first)
    row.runs.append("crash:" + _mark(first))
    assert first.status == "failed", first
    server.inject(Fault.unauthorized(401))  # an expired token: no kind refreshes one
    expired = runtime.jobs.sync(case.source_id, trigger="bench")
    results.append(expired)
    row.runs.append("401:" + _mark(expired))
    assert expired.status == "failed", expired
    assert "401" in (expired.error or ""), expired.error
    assert expired.inserted == 0, expired
    # faults on one request (retried in the run), then a page repeated later on
    server.inject(
        Fault.rate_limited(0), Fault.server_error(500), Fault.slow(SLOW), Fault.truncated()
    )
    server.inject(Fault.repeat(), at=6)  # the answer before again: a page repeated
    for _ in range(4):  # a loop guard may stop a run on the repeated page: resume
        result = runtime.jobs.sync(case.source_id, trigger="bench")
        results.append(result)
        row.runs.append(_mark(result))
        if result.status == "succeeded":
            break
    server.clear_faults()
    again = runtime.jobs.sync(case.source_id, trigger="bench")
    results.append(again)
    row.runs.append("again:" + _mark(again))
    row.last_new = again.inserted + again.updated
    row.pulled = sum(r.fetched for r in results)
    row.faults = ["crash", *server.faults_served]


def push_case(runtime: Runtime, case: Case, row: Row) -> None:
    assert case.push is not None
    url = f"/api/v1/sources/{case.source_id}/items"
    size = int(case.config["max_records"])
    chunks = [case.push[i : i + size] for i in range(0, len(case.push), size)]
    with TestClient(create_app(runtime=runtime, start_scheduler=False)) as client:

        def post(body: Any) -> None:
            answer = client.post(url, json=body)
            assert answer.status_code == 200, answer.text[:300]
            row.pulled += len(answer.json()["records"])

        for chunk in chunks[: max(1, len(chunks) // 2)]:
            post(chunk)
        row.faults.append("crash")  # the client dies here, not knowing what was stored
        row.runs.append("crash")
        before = stored_count(runtime.engine, case.source_id)
        cut = json.dumps(chunks[-1])[:1000]
        answer = client.post(url, content=cut, headers={"Content-Type": "application/json"})
        assert answer.status_code == 400, answer.text[:300]
        row.faults.append("truncated body")
        answer = client.post(url, json=(case.push * 2)[: size + 1])
        assert answer.status_code == 413, answer.text[:300]
        row.faults.append("oversized batch")
        assert stored_count(runtime.engine, case.source_id) == before  # neither stored a thing
        for chunk in chunks:  # the client starts over from the first record
            post(chunk)
        row.runs.append(f"{len(chunks)} posts")
        post(chunks[0])  # one chunk posted twice (a webhook's retry)
        row.faults.append("repeated post")
        before = stored_count(runtime.engine, case.source_id)
        for chunk in chunks:
            post(chunk)
        row.runs.append("again")
        row.last_new = stored_count(runtime.engine, case.source_id) - before


def files_case(runtime: Runtime, case: Case, row: Row, rng: random.Random, n: int) -> None:
    folder = case.folder
    assert folder is not None
    per_file = 250
    files = max(2, n // per_file)
    old = time.time() - 3600
    for f in range(files - 1):  # the export job's earlier files, settled
        path = folder / f"nps-{f:03d}.csv"
        bad = n // 2 if f * per_file <= n // 2 < (f + 1) * per_file else None
        path.write_text(csv_rows(f * per_file, per_file, rng, bad_at=bad), encoding="utf-8")
        os.utime(path, (old, old))
    last = folder / f"nps-{files - 1:03d}.csv"
    body = csv_rows((files - 1) * per_file, n - (files - 1) * per_file, rng)
    last.write_text(body[: len(body) // 2], encoding="utf-8")  # still being copied in
    row.faults.append("file still being written")
    results: list[SyncResult] = []
    batches = -(-((files - 1) * per_file) // 200)
    first = crash_run(runtime, case.source_id, max(1, batches // 2))
    results.append(first)
    row.runs.append("crash:" + _mark(first))
    row.faults.insert(0, "crash")
    second = runtime.jobs.sync(case.source_id, trigger="bench")
    results.append(second)
    row.runs.append(_mark(second))
    held_back = {f"s{i}:comment" for i in range((files - 1) * per_file, n)}
    with runtime.engine.connect() as conn:
        early = set(
            conn.execute(
                text("SELECT external_id FROM items WHERE source_id = :s"), {"s": case.source_id}
            ).scalars()
        )
    assert early == case.expected - held_back, "watch read a file still being written"
    last.write_text(body, encoding="utf-8")  # the copy finished
    os.utime(last, (old, old))
    changed = folder / "nps-000.csv"  # an earlier file re-exported with a row edited
    text_ = changed.read_text(encoding="utf-8").replace("(record 3).", "(record 3, edited).")
    changed.write_text(text_, encoding="utf-8")
    os.utime(changed, (old + 60, old + 60))
    row.faults.append("file changed after it was read")
    third = runtime.jobs.sync(case.source_id, trigger="bench")
    results.append(third)
    row.runs.append(_mark(third))
    again = runtime.jobs.sync(case.source_id, trigger="bench")
    results.append(again)
    row.runs.append("again:" + _mark(again))
    row.last_new = again.inserted + again.updated
    row.pulled = sum(r.fetched for r in results)


def stored_count(engine: Engine, source_id: str) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                text("SELECT count(*) FROM items WHERE source_id = :s"), {"s": source_id}
            ).scalar_one()
        )


def measure(engine: Engine, case: Case, row: Row) -> None:
    with engine.connect() as conn:
        stored = list(
            conn.execute(
                text("SELECT external_id FROM items WHERE source_id = :s"), {"s": case.source_id}
            ).scalars()
        )
        row.quarantined = int(
            conn.execute(
                text("SELECT count(*) FROM quarantine WHERE source_id = :s"),
                {"s": case.source_id},
            ).scalar_one()
        )
    distinct = set(stored)
    row.served = len(case.expected)
    row.stored = len(stored)
    row.duplicates = (len(stored) - len(distinct)) + len(distinct - case.expected)
    row.lost = len(case.expected - distinct)
    row.expected_quarantined = case.bad


# --------------------------------------------------------------------------- main


@contextmanager
def database(url: str | None) -> Iterator[tuple[str, Engine]]:
    """A fresh store: a SQLite file in a temporary folder, or a new PostgreSQL schema."""
    if url is None:
        with tempfile.TemporaryDirectory() as tmp:
            sqlite_url = f"sqlite:///{tmp}/bench.db"
            engine = make_engine(sqlite_url)
            try:
                yield sqlite_url, engine
            finally:
                engine.dispose()
        return
    url = Settings(database_url=url).database_url
    schema = f"lp_bench_kinds_{uuid.uuid4().hex[:8]}"
    admin = make_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = make_engine(url, connect_args={"options": f"-csearch_path={schema}"})
    try:
        yield url, engine
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def build_cases(n: int, rng: random.Random, tmp: Path) -> list[Case]:
    cases: list[Case] = []

    def served(
        name: str,
        kind: str,
        made: tuple[Any, dict[str, Any], set[str]],
        url_key: str,
        path: str = "",
    ) -> None:
        fake, config, expected = made
        server = FakeServer(fake).start()
        config = {url_key: server.url + path, **config, **FAST}
        cases.append(Case(name, kind, config, expected, server=server))

    served("mastodon hashtag", "mastodon", mastodon_hashtag(n, rng), "base_url")
    served("mastodon account", "mastodon", mastodon_account(n, rng), "base_url")
    served("rss (RSS 2.0)", "rss", feed(n, rng, atom=False), "url", "/feed")
    served("rss (Atom)", "rss", feed(n, rng, atom=True), "url", "/feed")
    served("typeform", "typeform", typeform(n, rng), "base_url")
    served("zendesk", "zendesk", zendesk(n, rng), "base_url")
    for style in ("link", "cursor", "page", "offset"):
        served(f"rest {style}", "rest", rest(n, rng, style), "url", "/v1/reviews")
    records, expected = push_records(n, rng)
    cases.append(
        Case(
            "push",
            "push",
            {"rating_scale": "stars_1_5", "max_records": 100},
            expected,
            push=records,
        )
    )
    folder = tmp / "drop"
    folder.mkdir()
    file_expected = {f"s{i}:comment" for i in range(n) if i != n // 2}
    cases.append(
        Case(
            "survey_file (watch)",
            "survey_file",
            {
                "path": str(folder),
                "watch": True,
                "settle_seconds": 5,
                "id_column": "response_id",
                "date_column": "submitted_at",
                "answers": [{"column": "comment"}],
            },
            file_expected,
            folder=folder,
        )
    )
    return cases


def write_sources(cases: list[Case], path: Path) -> None:
    sources = [
        {"id": c.source_id, "name": f"Bench {c.name}", "kind": c.kind, "config": c.config}
        for c in cases
    ]
    path.write_text(yaml.safe_dump({"sources": sources}, sort_keys=False), encoding="utf-8")


def table(rows: list[Row]) -> str:
    head = (
        "| kind | served | pulled | stored | duplicates | lost | quarantined | "
        "faults survived / injected | runs | s |"
    )
    out = [head, "|" + " --- |" * 10]
    for r in rows:
        faults = f"{len(r.faults) if r.whole else 0} / {len(r.faults)}"
        out.append(
            f"| {r.name} | {r.served} | {r.pulled} | {r.stored} | {r.duplicates} | {r.lost} | "
            f"{r.quarantined} (of {r.expected_quarantined}) | {faults} | "
            f"{' '.join(r.runs)} | {r.seconds:.1f} |"
        )
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=3000, help="records served per kind")
    parser.add_argument("--postgres", default=None, help="a PostgreSQL URL (default: SQLite)")
    parser.add_argument("--only", default=None, help="run the kinds whose name has this")
    args = parser.parse_args()
    n = max(40, args.records)
    rng = random.Random(16)
    for name in ("BENCH_MASTODON_TOKEN", "BENCH_TYPEFORM_TOKEN", "BENCH_ZENDESK_TOKEN"):
        os.environ[name] = TOKEN
    os.environ["BENCH_REST_KEY"] = TOKEN
    started = time.perf_counter()
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp, database(args.postgres) as (url, engine):
        cases = build_cases(n, rng, Path(tmp))
        if args.only:
            cases = [c for c in cases if args.only in c.name]
        try:
            sources = Path(tmp) / "sources.yaml"
            write_sources(cases, sources)
            settings = Settings(database_url=url, sources_file=sources, scheduler_enabled=False)
            runtime = build_runtime(settings, engine=engine)
            for case in cases:
                row = Row(case.name)
                t0 = time.perf_counter()
                run: Callable[[], None]
                if case.push is not None:
                    run = lambda case=case, row=row: push_case(runtime, case, row)  # noqa: E731
                elif case.folder is not None:
                    run = lambda case=case, row=row: files_case(runtime, case, row, rng, n)  # noqa: E731
                else:
                    run = lambda case=case, row=row: pull_case(runtime, case, row)  # noqa: E731
                run()
                row.seconds = time.perf_counter() - t0
                measure(engine, case, row)
                rows.append(row)
                print(
                    f"{case.name}: {row.stored} stored of {row.served}, {row.lost} lost, "
                    f"{row.duplicates} doubled, {row.quarantined} quarantined, "
                    f"runs {' '.join(row.runs)} ({row.seconds:.1f} s)",
                    flush=True,
                )
        finally:
            for case in cases:
                if case.server is not None:
                    case.server.stop()
    store = "PostgreSQL" if args.postgres else "SQLite"
    print()
    print(
        f"{n} records per kind (one without an id), {store}, "
        f"{time.perf_counter() - started:.0f} s in all:"
    )
    print(table(rows))
    if not all(r.whole for r in rows):
        sys.exit(1)


if __name__ == "__main__":
    main()
