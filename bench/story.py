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
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).parent))
from ingest import CLAUSES, FILLER  # noqa: E402

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


def run(label: str, url: str, folder: Path, port: int) -> None:
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
        result = runtime.jobs.sync("bench-survey", trigger="bench")
        load_s = time.perf_counter() - started
        assert result.status == "succeeded", result.error
        runtime.close()
        print(
            f"\n{label}: {result.inserted:,} items loaded in {load_s:.0f} s ({result.inserted / load_s:,.0f} items/s, read model included)"
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
                assert count == result.inserted, (count, result.inserted)
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
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        generate(folder / "responses.csv", args.items)
        (folder / "sources.yaml").write_text(SOURCES, encoding="utf-8")
        if not args.skip_sqlite:
            run("sqlite", f"sqlite:///{folder / 'story.db'}", folder, args.port)
        if args.postgres:
            url = args.postgres
            if url.startswith("postgresql://"):
                url = "postgresql+psycopg://" + url.split("://", 1)[1]
            run("postgresql", url, folder, args.port + 1)


if __name__ == "__main__":
    main()
