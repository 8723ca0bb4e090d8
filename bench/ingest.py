"""Ingest throughput: sync + enrich + store of a generated corpus, SQLite and PostgreSQL.

    python bench/ingest.py --items 50000 [--postgres postgresql://postgres@127.0.0.1:5432/test]
    python bench/ingest.py --items 50000 --against 91dc3fe --rounds 3

Generates a survey export of N responses (one open answer each, composed from
clauses about every journey stage, some with two stages), declares it as a
`survey_file` source, and times `Runtime.sync` end to end on each backend.
Enrichment alone is timed against bare vaderSentiment on the same texts in the
same run, and reported as a ratio, since these machines are shared and noisy.

`--against REV` measures a baseline in the same run: this bench and the bench of
commit REV (checked out into a temporary git worktree, run on this interpreter
with that checkout first on the path) alternate as child processes, `--rounds`
times each, and the medians are compared per database.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import text

# The repository first: Python puts bench/ on the path, where bench/connectors.py
# would shadow the connectors package.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.db import make_engine
from app.runtime import build_runtime
from app.settings import Settings
from nlp.enrichment import EnrichRequest

CLAUSES = {
    "discover": [
        "I found you through a friend's post",
        "comparing the plans on the website was confusing",
        "the ads promised more than the product does",
        "the pricing page made it clear what I would pay",
    ],
    "purchase": [
        "ordering online took two minutes",
        "checkout kept failing at the payment step",
        "the sales rep pushed an upgrade I did not need",
        "buying it was simple",
    ],
    "onboard": [
        "setup was easy",
        "the installer never showed up",
        "delivery came a day early",
        "activating my account took three attempts",
    ],
    "use": [
        "the app crashes every evening",
        "it works really well day to day",
        "the service is slow at peak times",
        "the new dashboard is great",
    ],
    "support": [
        "I was on hold for forty minutes",
        "the agent solved it in one call",
        "nobody answered my email for a week",
        "the help centre article fixed it",
    ],
    "billing": [
        "the invoice was wrong",
        "I was charged twice this month",
        "my refund still has not arrived",
        "the bill is clear and fair",
    ],
    "renew": [
        "I am going to cancel at renewal",
        "the renewal price went up without warning",
        "I renewed for another year happily",
        "cancelling was made deliberately hard",
    ],
    "advocate": [
        "I recommend you to everyone",
        "I would not recommend this to anyone",
        "I told my colleagues to sign up",
        "five stars from me",
    ],
}
FILLER = ["", "Honestly, ", "Overall ", "To be fair, ", "Well, "]


def generate(path: Path, n: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    stages = list(CLAUSES)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    texts: list[str] = []
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["response_id", "submitted_at", "customer_id", "score", "answer"])
        for i in range(n):
            first = rng.choice(CLAUSES[rng.choice(stages)])
            text_ = rng.choice(FILLER) + first
            if rng.random() < 0.4:
                text_ += rng.choice([", but ", " and ", ". Also, "]) + rng.choice(
                    CLAUSES[rng.choice(stages)]
                )
            text_ = text_[0].upper() + text_[1:] + f". (ref {i})"
            texts.append(text_)
            when = start + timedelta(minutes=7 * i)
            writer.writerow(
                [
                    f"r{i}",
                    when.isoformat(),
                    f"c{rng.randrange(n // 3 + 1)}",
                    rng.randrange(11),
                    text_,
                ]
            )
    return texts


def write_sources(folder: Path) -> Path:
    sources = folder / "sources.yaml"
    sources.write_text(
        "sources:\n"
        "  - id: bench-survey\n"
        "    name: Bench survey\n"
        "    kind: survey_file\n"
        "    config:\n"
        "      path: responses.csv\n"
        "      id_column: response_id\n"
        "      date_column: submitted_at\n"
        "      score_column: score\n"
        "      rating_scale: nps_0_10\n"
        "      customer_column: customer_id\n"
        "      batch_size: 1000\n"
        "      answers:\n"
        '        - {column: answer, question: "Why?"}\n',
        encoding="utf-8",
    )
    return sources


def run_backend(label: str, url: str, sources: Path, n: int) -> float:
    engine_kwargs = {}
    schema = None
    if url.startswith("postgresql"):
        schema = f"lp_bench_{uuid.uuid4().hex[:8]}"
        admin = make_engine(url)
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        engine_kwargs = {"connect_args": {"options": f"-csearch_path={schema}"}}
    engine = make_engine(url, **engine_kwargs)
    try:
        settings = Settings(database_url=url, sources_file=sources, scheduler_enabled=False)
        runtime = build_runtime(settings, engine=engine)
        started = time.perf_counter()
        result = runtime.jobs.sync("bench-survey", trigger="bench")
        elapsed = time.perf_counter() - started
        assert result.status == "succeeded", result.error
        assert result.inserted == n, (result.inserted, n)
        again = time.perf_counter()
        rerun = runtime.jobs.sync("bench-survey", trigger="bench")
        rerun_s = time.perf_counter() - again
        print(
            f"{label:10s} {n} items in {elapsed:6.1f} s = {n / elapsed:7.0f} items/s "
            f"(re-sync: {rerun.inserted} new in {rerun_s:.2f} s)"
        )
        return n / elapsed
    finally:
        engine.dispose()
        if schema is not None:
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()


def enrichment_ratio(texts: list[str]) -> None:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    from nlp.journey import load_journey
    from nlp.pipeline import build_enricher

    sample = texts[:20000]
    analyzer = SentimentIntensityAnalyzer()
    enricher = build_enricher(load_journey())
    list(enricher.enrich_many(EnrichRequest(t) for t in sample[:500]))  # warm-up
    t0 = time.perf_counter()
    for t in sample:
        analyzer.polarity_scores(t)
    vader_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    for _ in enricher.enrich_many(EnrichRequest(t) for t in sample):
        pass
    pipe_s = time.perf_counter() - t0
    print(
        f"enrichment alone: {len(sample) / pipe_s:7.0f} texts/s; bare vaderSentiment "
        f"{len(sample) / vader_s:7.0f} texts/s; pipeline speed = {vader_s / pipe_s:.2f}x VADER"
    )


RATE = re.compile(r"^(sqlite|postgresql)\s+\d+ items in .*=\s*(\d+) items/s", re.MULTILINE)


def _child(checkout: Path, args: argparse.Namespace) -> dict[str, int]:
    command = [sys.executable, str(checkout / "bench" / "ingest.py"), "--items", str(args.items)]
    command += ["--skip-postgres"] if args.skip_postgres else ["--postgres", args.postgres]
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    done = subprocess.run(
        command, cwd=checkout, env=env, capture_output=True, text=True, check=True
    )
    return {backend: int(rate) for backend, rate in RATE.findall(done.stdout)}


def against(args: argparse.Namespace) -> None:
    here = Path(__file__).resolve().parent.parent
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "baseline"
        subprocess.run(
            ["git", "-C", str(here), "worktree", "add", "--detach", str(base), args.against],
            check=True,
            capture_output=True,
        )
        try:
            runs: dict[str, dict[str, list[int]]] = {"current": {}, args.against: {}}
            for round_ in range(args.rounds):
                for label, checkout in (("current", here), (args.against, base)):
                    for backend, rate in _child(checkout, args).items():
                        runs[label].setdefault(backend, []).append(rate)
                        print(f"round {round_ + 1} {label:10s} {backend:10s} {rate:6d} items/s")
        finally:
            subprocess.run(
                ["git", "-C", str(here), "worktree", "remove", "--force", str(base)],
                check=False,
                capture_output=True,
            )
    for backend, rates in runs["current"].items():
        old = runs[args.against].get(backend)
        if not old:
            continue
        now, then = statistics.median(rates), statistics.median(old)
        print(
            f"{backend:10s} median {now:6.0f} items/s vs {then:6.0f} at {args.against}: "
            f"{now / then:.2f}x"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=50_000)
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--against", metavar="REV", help="also run the bench of commit REV")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if args.against:
        against(args)
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        texts = generate(folder / "responses.csv", args.items)
        sources = write_sources(folder)
        print(
            f"corpus: {args.items} survey answers, {sum(len(t) for t in texts) / len(texts):.0f} chars on average"
        )
        enrichment_ratio(texts)
        sqlite_rate = run_backend("sqlite", f"sqlite:///{folder / 'bench.db'}", sources, args.items)
        if not args.skip_postgres:
            pg_rate = run_backend("postgresql", args.postgres, sources, args.items)
            print(f"postgresql / sqlite throughput: {pg_rate / sqlite_rate:.2f}")


if __name__ == "__main__":
    main()
