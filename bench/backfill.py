"""A large first import through the queue: N items into PostgreSQL by 1, 2, ... workers.

    python bench/backfill.py --postgres postgresql://postgres@127.0.0.1:5432/test \
        --items 1000000 --workers 1,2 [--baseline 20000] [--keep]

Generates a survey export of N answers of about 280 characters (clauses about
every journey stage, as bench/ingest.py), declares it as a `survey_file` source,
starts W real `listening-path worker` processes (LP_QUEUE=procrastinate) on a
fresh schema, queues one sync and times it from the enqueue to the run's end:
reading, enriching on the workers in parallel, storing in order. Prints items/s
end to end and each worker's peak RSS (VmHWM), and, as the baseline measured in
the same run, the inline path (`Runtime.sync` in this process, no queue) over
the first `--baseline` items of the same file.

The machine's cores are shared by the workers, PostgreSQL and this process:
on a 2-core machine, 2 workers is the most that can run side by side.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.db import make_engine
from bench.ingest import CLAUSES, FILLER

SOURCE = "bench-survey"


def generate(path: Path, n: int, seed: int = 19) -> int:
    """Write n answers to `path`, row by row (never the file in memory); its size."""
    rng = random.Random(seed)
    stages = list(CLAUSES)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["response_id", "submitted_at", "customer_id", "score", "answer"])
        for i in range(n):
            parts = [rng.choice(CLAUSES[rng.choice(stages)]) for _ in range(rng.randint(4, 6))]
            answer = rng.choice(FILLER) + ". ".join(p[0].upper() + p[1:] for p in parts)
            writer.writerow(
                [
                    f"r{i}",
                    (start + timedelta(seconds=61 * i)).isoformat(),
                    f"c{rng.randrange(n // 4 + 1)}",
                    rng.randrange(11),
                    f"{answer}. (ref {i})",
                ]
            )
    return path.stat().st_size


def write_sources(folder: Path, csv_name: str, batch_size: int) -> Path:
    sources = folder / f"sources-{csv_name}.yaml"
    sources.write_text(
        "sources:\n"
        f"  - id: {SOURCE}\n"
        "    name: Bench survey\n"
        "    kind: survey_file\n"
        "    config:\n"
        f"      path: {csv_name}\n"
        "      id_column: response_id\n"
        "      date_column: submitted_at\n"
        "      score_column: score\n"
        "      rating_scale: nps_0_10\n"
        "      customer_column: customer_id\n"
        f"      batch_size: {batch_size}\n"
        "      answers:\n"
        '        - {column: answer, question: "What is the main reason for your score?"}\n',
        encoding="utf-8",
    )
    return sources


def peak_rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def _schema_url(url: str, schema: str) -> str:
    base = url if "+psycopg" in url else url.replace("postgresql://", "postgresql+psycopg://", 1)
    return f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"


def baseline(url: str, folder: Path, csv_path: Path, n: int, batch_size: int) -> float:
    """The inline path over the first n rows: items/s."""
    from app.runtime import build_runtime
    from app.settings import Settings

    head = folder / "head.csv"
    with csv_path.open(encoding="utf-8") as src, head.open("w", encoding="utf-8") as dst:
        for i, line in enumerate(src):
            if i > n:
                break
            dst.write(line)
    schema = f"lp_backfill_{uuid.uuid4().hex[:8]}"
    admin = make_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = make_engine(url, connect_args={"options": f"-csearch_path={schema}"})
    try:
        settings = Settings(
            database_url=url,
            sources_file=write_sources(folder, head.name, batch_size),
            scheduler_enabled=False,
        )
        runtime = build_runtime(settings, engine=engine)
        started = time.perf_counter()
        result = runtime.jobs.sync(SOURCE, trigger="bench")
        elapsed = time.perf_counter() - started
        assert result.status == "succeeded", result.error
        rate = result.inserted / elapsed
        print(
            f"baseline  inline (1 process, no queue): {result.inserted:,} items in "
            f"{elapsed:.1f} s = {rate:,.0f} items/s; peak RSS {peak_rss_mb(os.getpid()):.0f} MB"
        )
        return rate
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def with_workers(
    url: str, folder: Path, csv_path: Path, workers: int, batch_size: int, keep: bool
) -> tuple[float, list[float]]:
    from app.queue.connection import deferring_app, ensure_queue_schema
    from app.queue.tasks import JobQueue
    from app.queue.worker import QUEUE_WORKERS

    schema = f"lp_backfill_{uuid.uuid4().hex[:8]}"
    admin = make_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = make_engine(url, connect_args={"options": f"-csearch_path={schema}"})
    schema_url = _schema_url(url, schema)
    env = {
        **os.environ,
        "DATABASE_URL": schema_url,
        "LP_DATABASE_URL": schema_url,
        "LP_SOURCES_FILE": str(write_sources(folder, csv_path.name, batch_size)),
        "LP_QUEUE": "procrastinate",
        "LP_SCHEDULER_ENABLED": "false",
    }
    command = [sys.executable, "-c", "from app.cli import main; main()"]
    subprocess.run([*command, "db", "upgrade"], env=env, check=True, capture_output=True)
    logs = [(folder / f"worker-{workers}-{i}.log").open("wb") for i in range(workers)]
    procs = [
        subprocess.Popen([*command, "worker"], env=env, stdout=log, stderr=subprocess.STDOUT)
        for log in logs
    ]
    try:
        ensure_queue_schema(engine)
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:  # every worker has loaded its pipeline
            with engine.connect() as conn:
                ready = conn.execute(text("SELECT count(*) FROM procrastinate_workers")).scalar()
            if ready is not None and ready >= workers * QUEUE_WORKERS:
                break
            time.sleep(0.5)
        app = deferring_app(engine)
        app.open()
        queue = JobQueue(app, in_flight=8)
        started = time.perf_counter()
        queue.sync(SOURCE, trigger="bench")
        queue.close()
        while True:
            with engine.connect() as conn:
                row = conn.execute(
                    text("SELECT status, inserted, error FROM sync_runs ORDER BY id DESC LIMIT 1")
                ).first()
            if row is not None and row.status != "running":
                break
            if any(p.poll() is not None for p in procs):
                raise SystemExit(f"a worker died: see {folder}")
            time.sleep(0.5)
        elapsed = time.perf_counter() - started
        assert row.status == "succeeded", row.error
        rss = [peak_rss_mb(p.pid) for p in procs]
        rate = row.inserted / elapsed
        print(
            f"{workers} worker(s): {row.inserted:,} items in {elapsed:.1f} s = {rate:,.0f} "
            f"items/s; peak RSS per worker {', '.join(f'{r:.0f}' for r in rss)} MB"
        )
        for log in logs:
            log.flush()
        print(f"          {where_the_time_went(folder, workers, elapsed)}")
        return rate, rss
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
        for log in logs:
            log.close()
        engine.dispose()
        if keep:
            print(f"kept schema {schema} (DATABASE_URL={schema_url})")
        else:
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


BATCH_LINE = re.compile(
    r"enriched in ([0-9.]+) s, waited ([0-9.]+) s for its turn, stored in ([0-9.]+) s"
)


def where_the_time_went(folder: Path, workers: int, elapsed: float) -> str:
    """The workers' own account of their batches (their log lines): enriching runs
    side by side, storing one batch at a time, so the stores' sum bounds the run."""
    enrich = wait = store = 0.0
    batches = 0
    for i in range(workers):
        for line in (folder / f"worker-{workers}-{i}.log").read_text(errors="replace").splitlines():
            found = BATCH_LINE.search(line)
            if found:
                batches += 1
                enrich += float(found[1])
                wait += float(found[2])
                store += float(found[3])
    if not batches:
        return "no batch lines in the workers' logs"
    return (
        f"{batches} batches: enriching {enrich / batches:.2f} s, waiting for the turn "
        f"{wait / batches:.2f} s, storing {store / batches:.2f} s a batch; the stores, one "
        f"at a time, took {store:.1f} s ({store / elapsed:.0%} of the run)"
    )


def queue_overhead(url: str, folder: Path, jobs: int) -> None:
    """What the queue itself costs a job: `jobs` batch jobs of a run that does not
    exist (each returns after one query) through one worker process."""
    from app.queue.connection import deferring_app, ensure_queue_schema

    schema = f"lp_backfill_{uuid.uuid4().hex[:8]}"
    admin = make_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = make_engine(url, connect_args={"options": f"-csearch_path={schema}"})
    schema_url = _schema_url(url, schema)
    csv_path = folder / "tiny.csv"
    generate(csv_path, 10)
    env = {
        **os.environ,
        "DATABASE_URL": schema_url,
        "LP_DATABASE_URL": schema_url,
        "LP_SOURCES_FILE": str(write_sources(folder, csv_path.name, 10)),
        "LP_QUEUE": "procrastinate",
        "LP_SCHEDULER_ENABLED": "false",
    }
    command = [sys.executable, "-c", "from app.cli import main; main()"]
    subprocess.run([*command, "db", "upgrade"], env=env, check=True, capture_output=True)
    ensure_queue_schema(engine)
    log = (folder / "overhead.log").open("wb")
    proc = subprocess.Popen([*command, "worker"], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        while True:
            with engine.connect() as conn:
                if conn.execute(text("SELECT count(*) FROM procrastinate_workers")).scalar():
                    break
            time.sleep(0.2)
        app = deferring_app(engine)
        app.open()
        empty = {"items": [], "rejected": [], "cursor": {}}
        args = [
            {"run_id": -1, "seq": i, "source_id": SOURCE, "channel": "survey", "batch": empty}
            for i in range(jobs)
        ]
        started = time.perf_counter()
        app.configure_task("lp.batch").batch_defer(*args)
        while True:
            with engine.connect() as conn:
                left = conn.execute(text("SELECT count(*) FROM procrastinate_jobs")).scalar()
            if not left:
                break
            time.sleep(0.05)
        elapsed = time.perf_counter() - started
        app.close()
        print(
            f"queue overhead: {jobs} jobs in {elapsed:.1f} s = {jobs / elapsed:,.0f} jobs/s, "
            f"{1000 * elapsed / jobs:.1f} ms per job (defer, fetch, run, delete) on one worker"
        )
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)
        log.close()
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--postgres", required=True, help="a PostgreSQL URL")
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--workers", default="1,2", help="worker counts to run, e.g. 1,2,4")
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--baseline", type=int, default=20_000, help="inline items (0: none)")
    parser.add_argument("--keep", action="store_true", help="keep the last run's schema")
    parser.add_argument(
        "--queue-overhead",
        type=int,
        default=0,
        help="also time N empty jobs (the queue's own cost)",
    )
    args = parser.parse_args()
    url = args.postgres
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    counts = [int(w) for w in args.workers.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if args.queue_overhead:
            queue_overhead(url, folder, args.queue_overhead)
        csv_path = folder / "responses.csv"
        t0 = time.perf_counter()
        size = generate(csv_path, args.items)
        print(
            f"generated {args.items:,} answers ({size / 1e6:.0f} MB) in "
            f"{time.perf_counter() - t0:.0f} s; {os.cpu_count()} cores"
        )
        base = (
            baseline(url, folder, csv_path, args.baseline, args.batch_size)
            if args.baseline
            else None
        )
        for i, workers in enumerate(counts):
            rate, _ = with_workers(
                url, folder, csv_path, workers, args.batch_size, args.keep and i == len(counts) - 1
            )
            if base:
                print(f"          {rate / base:.2f}x the inline baseline")


if __name__ == "__main__":
    main()
