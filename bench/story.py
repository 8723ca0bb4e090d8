"""Read-side speed at scale: the story, a stage page and the feeds over N items.

    python bench/story.py --items 1000000 [--postgres URL] [--skip-sqlite]

Loads N generated survey answers spread over eight months through the product's
own ingest (connector, NLP, store, read model: `Runtime.sync`), then serves the
database with `listening-path serve` in a child process and times, over HTTP on
loopback: the 30-day story, the all-time story, a stage page, the stage-daily
feed for a year, and the items feed streamed end to end (rows/s). The service's
peak RSS is read from /proc. Medians and p95 of 7 requests (the first not counted).
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import select, text
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

# bench/ingest.py's corpus, loaded by path: putting bench/ on sys.path would let
# bench/connectors.py shadow the connectors package.
_spec = importlib.util.spec_from_file_location(
    "bench_ingest", Path(__file__).with_name("ingest.py")
)
assert _spec is not None
assert _spec.loader is not None
_ingest = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_ingest)
CLAUSES, FILLER = _ingest.CLAUSES, _ingest.FILLER


# The repository first: Python puts bench/ on the path, where bench/connectors.py
# would shadow the connectors package.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.bulk import insert_rows  # noqa: E402
from app.db import make_engine  # noqa: E402
from app.runtime import build_runtime  # noqa: E402
from app.settings import Settings  # noqa: E402

DAYS = 240
TOUCHPOINTS = ["Order", "Installation", "First bill", "In use", "Repair"]


def generate(path: Path, n: int, seed: int = 11) -> None:
    rng = random.Random(seed)
    stages = list(CLAUSES)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    step = DAYS * 86_400 / n
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["response_id", "submitted_at", "customer_id", "score", "touchpoint", "answer"]
        )
        for i in range(n):
            words = rng.choice(FILLER) + rng.choice(CLAUSES[rng.choice(stages)])
            if rng.random() < 0.4:
                words += rng.choice([", but ", " and ", ". Also, "]) + rng.choice(
                    CLAUSES[rng.choice(stages)]
                )
            writer.writerow(
                [
                    f"r{i}",
                    (start + timedelta(seconds=step * i)).isoformat(),
                    f"c{rng.randrange(n // 3 + 1)}",
                    rng.randrange(11),
                    rng.choice(TOUCHPOINTS),
                    words[0].upper() + words[1:] + f". (ref {i})",
                ]
            )


SOURCES = """sources:
  - id: bench-survey
    name: Bench survey
    kind: survey_file
    config:
      path: responses.csv
      id_column: response_id
      date_column: submitted_at
      score_column: score
      rating_scale: nps_0_10
      customer_column: customer_id
      batch_size: 2000
      answers:
        - {column: answer, question: "Why?"}
      attributes: [touchpoint]
"""


def free_port() -> int:
    """A port nobody listens on (a fixed one may be another service's: the bench
    would then time that service)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def timed(
    client: httpx.Client, path: str, params: dict[str, str], runs: int = 7
) -> tuple[float, float]:
    client.get(path, params=params).raise_for_status()  # warm-up, not counted
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        client.get(path, params=params).raise_for_status()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, int(0.95 * len(times)))]


def copy_items(source_url: str, engine: Engine) -> int:
    """The stored items and sentences of another database (the SQLite run's), as
    they are: the NLP already read them there. The read model is then rebuilt."""
    source = make_engine(source_url)
    total = 0
    try:
        for name in ("items", "segments"):
            table = SQLModel.metadata.tables[name]
            after = 0
            while True:
                with source.connect() as conn:
                    rows = [
                        dict(r)
                        for r in conn.execute(
                            select(table)
                            .where(table.c.id > after)
                            .order_by(table.c.id)
                            .limit(20_000)
                        ).mappings()
                    ]
                if not rows:
                    break
                with engine.begin() as conn:
                    insert_rows(conn, table, rows)
                after = rows[-1]["id"]
                total += len(rows) if name == "items" else 0
            with engine.begin() as conn:
                conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), (SELECT max(id) FROM {name}))"
                    )
                )
    finally:
        source.dispose()
    return total


def run(label: str, url: str, folder: Path, port: int, copy_from: str | None = None) -> None:
    kwargs = {}
    schema = None
    env = dict(os.environ)
    if url.startswith("postgresql"):
        schema = f"lp_story_{uuid.uuid4().hex[:8]}"
        admin = make_engine(url)
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        kwargs = {"connect_args": {"options": f"-csearch_path={schema}"}}
        env["PGOPTIONS"] = f"-csearch_path={schema}"
    engine = make_engine(url, **kwargs)
    sources = folder / "sources.yaml"
    try:
        settings = Settings(database_url=url, sources_file=sources, scheduler_enabled=False)
        runtime = build_runtime(settings, engine=engine)
        started = time.perf_counter()
        if copy_from is None:
            result = runtime.jobs.sync("bench-survey", trigger="bench")
            assert result.status == "succeeded", result.error
            inserted = result.inserted
            how = "read model included"
        else:
            inserted = copy_items(copy_from, engine)
            copied = time.perf_counter() - started
            runtime.jobs.rebuild()
            how = f"copied from the SQLite run in {copied:.0f} s, then `rollups rebuild`"
        load_s = time.perf_counter() - started
        runtime.close()
        print(
            f"\n{label}: {inserted:,} items loaded in {load_s:.0f} s ({inserted / load_s:,.0f} items/s, {how})"
        )
        env.update(
            DATABASE_URL=url,
            LP_SOURCES_FILE=str(sources),
            LP_SCHEDULER_ENABLED="false",
            LP_PORT=str(port),
        )
        server = subprocess.Popen(
            [sys.executable, "-c", "from app.cli import main; main()", "serve"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            with httpx.Client(base_url=base, timeout=600) as client:
                for _ in range(600):
                    assert server.poll() is None, "the service exited (port taken?)"
                    try:
                        if client.get("/health").status_code == 200:
                            break
                    except httpx.TransportError:
                        time.sleep(0.5)
                last = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=DAYS - 1)
                month = {
                    "from": (last - timedelta(days=29)).date().isoformat(),
                    "to": last.date().isoformat(),
                }
                year = {"from": "2026-01-01", "to": "2026-12-31"}
                rows = [
                    ("30-day story", "/api/v1/story", month, 100),
                    ("all-time story", "/api/v1/story", {}, 250),
                    ("stage page (billing, 30 days)", "/api/v1/stages/billing", month, 150),
                    ("stage-daily feed, a year (CSV)", "/api/v1/feeds/stage-daily.csv", year, 500),
                    (
                        "30-day story, attr.touchpoint filter",
                        "/api/v1/story",
                        {**month, "attr.touchpoint": "First bill"},
                        None,
                    ),
                ]
                print(f"{'request':40s} {'median ms':>10s} {'p95 ms':>8s} {'target':>8s}")
                for name, path, params, target in rows:
                    med, p95 = timed(client, path, params)
                    shown = f"< {target}" if target else "-"
                    print(f"{name:40s} {med:10.1f} {p95:8.1f} {shown:>8s}")
                # The client only counts bytes and line ends: decoding lines in Python
                # here would cost as much CPU as the service (same two cores). Every
                # item is one row (quoted texts hold no line end in this corpus).
                started = time.perf_counter()
                lines = size = 0
                with client.stream("GET", "/api/v1/feeds/items.csv") as response:
                    for piece in response.iter_raw(1 << 20):
                        lines += piece.count(b"\n")
                        size += len(piece)
                seconds = time.perf_counter() - started
                count = lines - 1
                assert count == inserted, (count, inserted, size)
                print(
                    f"items feed streamed: {count:,} rows ({size / 1e6:,.0f} MB) in {seconds:.1f} s = {count / seconds:,.0f} rows/s (target >= 50,000)"
                )
            print(f"service peak RSS: {peak_rss_mb(server.pid):.0f} MB (target < 400)")
        finally:
            server.terminate()
            server.wait(30)
    finally:
        engine.dispose()
        if schema is not None:
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--postgres", default=None)
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--port", type=int, default=0, help="default: a free port")
    parser.add_argument(
        "--postgres-from-sqlite",
        action="store_true",
        help="load PostgreSQL by copying the SQLite run's items and sentences, then "
        "`rollups rebuild` (the NLP is not run twice; ingest speed is bench/ingest.py's)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        generate(folder / "responses.csv", args.items)
        (folder / "sources.yaml").write_text(SOURCES, encoding="utf-8")
        if not args.skip_sqlite:
            run("sqlite", f"sqlite:///{folder / 'story.db'}", folder, args.port or free_port())
        if args.postgres:
            url = args.postgres
            if url.startswith("postgresql://"):
                url = "postgresql+psycopg://" + url.split("://", 1)[1]
            copy_from = f"sqlite:///{folder / 'story.db'}" if args.postgres_from_sqlite else None
            run(
                "postgresql",
                url,
                folder,
                free_port() if not args.port else args.port + 1,
                copy_from,
            )


if __name__ == "__main__":
    main()
