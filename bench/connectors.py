"""Live-connector throughput: statuses pulled from a local fake Mastodon server through
the product's ingest (sync + enrich + store) into PostgreSQL, through injected faults.

    python bench/connectors.py [--statuses 20000] [--batch-size 1000]
                               [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/test]

The fake server (`connectors.testing.vendors.FakeMastodon` on a real local HTTP
server) holds N statuses under one hashtag; the source reads them 40 per page, and
1 page in 50 answers 429 (Retry-After: 0) or 500 first. The run is crashed once
on purpose (an exception from the batch callback after 150 batches: the run fails
there, as a killed process would, its stored batches kept), then synced again to
the end, then once more (nothing new). It prints items/s for the pulls, and what
the store holds against what the server served: lost, doubled. Everything goes to
a fresh schema, dropped at the end.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as `python bench/connectors.py`, this file's folder comes first on sys.path and
# its name would hide the `connectors` package: put the project root there instead.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

import argparse  # noqa: E402
import logging  # noqa: E402
import random  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from datetime import UTC, datetime, timedelta  # noqa: E402

from sqlalchemy import text  # noqa: E402

from app.db import make_engine  # noqa: E402
from app.ingest.service import BatchProgress, run_sync  # noqa: E402
from app.runtime import build_runtime  # noqa: E402
from app.settings import Settings  # noqa: E402
from connectors.registry import get_connector_class  # noqa: E402
from connectors.testing import LOOPBACK, FakeRequest, FakeResponse, FakeServer  # noqa: E402
from connectors.testing.vendors import FakeMastodon, mastodon_status  # noqa: E402

WORDS = {
    "onboard": ["setup was painless", "the installer never came", "activation took three tries"],
    "use": ["the app crashes every evening", "it works well day to day", "the new dashboard is great"],
    "support": ["I was on hold for forty minutes", "the agent solved it in one call"],
    "billing": ["I was charged twice this month", "my refund has not arrived", "the bill is clear"],
    "renew": ["I am going to cancel at renewal", "I renewed for another year happily"],
    "advocate": ["I recommend you to everyone", "I would not recommend this to anyone"],
}  # fmt: skip


class FaultyPages:
    """Wraps the fake API: 1 page in `every` answers 429 or 500 the first time it is asked."""

    def __init__(self, api: FakeMastodon, every: int, seed: int = 16) -> None:
        self.api = api
        self.every = every
        self.rng = random.Random(seed)
        self.pages_served = 0
        self.faults = {"429": 0, "500": 0}
        self._failed: set[str] = set()

    def __call__(self, request: FakeRequest) -> FakeResponse:
        key = request.arg("min_id") or "0"
        if key not in self._failed and request.path.startswith("/api/v1/timelines/"):
            if self.pages_served % self.every == self.every - 1:
                self._failed.add(key)
                if self.rng.random() < 0.5:
                    self.faults["429"] += 1
                    return FakeResponse.json(
                        {"error": "Too many requests"}, status=429, headers={"Retry-After": "0"}
                    )
                self.faults["500"] += 1
                return FakeResponse.json({"error": "Internal server error"}, status=500)
        response = self.api(request)
        self.pages_served += 1
        return response


def make_statuses(n: int, seed: int = 7) -> list[dict[str, object]]:
    rng = random.Random(seed)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    out: list[dict[str, object]] = []
    for i in range(n):
        stage = rng.choice(list(WORDS))
        words = rng.choice(WORDS[stage])
        if rng.random() < 0.3:
            words += ", but " + rng.choice(WORDS[rng.choice(list(WORDS))])
        html = f"<p>{words[0].upper()}{words[1:]} (#{i}) <a href='#'>#acme</a></p>"
        out.append(
            mastodon_status(
                110_000_000_000_000_000 + i,
                html,
                when=start + timedelta(minutes=3 * i),
                acct=f"user{rng.randrange(n // 4 + 1)}@example.social",
                tags=("acme",),
                favourites=rng.randrange(20),
                reblogs=rng.randrange(5),
            )
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--statuses", type=int, default=20_000)
    parser.add_argument("--every", type=int, default=50, help="1 page in EVERY faults first")
    parser.add_argument("--crash-after-batches", type=int, default=150)
    parser.add_argument(
        "--batch-size", type=int, default=None, help="group pages into batches of this many"
    )
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()

    statuses = make_statuses(args.statuses)
    served_ids = {str(s["id"]) for s in statuses}
    fake = FaultyPages(FakeMastodon(statuses), every=args.every)
    schema = f"lp_bench_conn_{uuid.uuid4().hex[:8]}"
    admin = make_engine(args.postgres)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = make_engine(args.postgres, connect_args={"options": f"-csearch_path={schema}"})
    try:
        with FakeServer(fake) as server, tempfile.TemporaryDirectory() as tmp:
            sources = Path(tmp) / "sources.yaml"
            sources.write_text(
                "sources:\n"
                "  - id: bench-mastodon\n"
                "    name: Bench Mastodon\n"
                "    kind: mastodon\n"
                "    config:\n"
                f"      base_url: {server.url}\n"
                "      hashtag: acme\n"
                "      allow_networks: [127.0.0.1]  # the fake server (the SSRF guard)\n"
                "      page_size: 40\n"
                "      backoff_seconds: 0.05\n"
                "      max_backoff_seconds: 0.5\n"
                + (f"      batch_size: {args.batch_size}\n" if args.batch_size else ""),
                encoding="utf-8",
            )
            settings = Settings(
                database_url=args.postgres, sources_file=sources, scheduler_enabled=False
            )
            runtime = build_runtime(settings, engine=engine)

            pages = 0

            def crash(progress: BatchProgress) -> None:
                del progress
                nonlocal pages
                pages += 1
                if pages == args.crash_after_batches:
                    raise RuntimeError("simulated crash")

            started = time.perf_counter()
            logging.disable(logging.ERROR)  # the crash is on purpose: no traceback for it
            spec = runtime.sources["bench-mastodon"]
            first = run_sync(
                engine,
                source_id="bench-mastodon",
                connector=get_connector_class(spec.kind).from_mapping(
                    spec.config, base_dir=runtime.jobs.base_dir
                ),
                enricher=runtime.enricher,
                journey=runtime.journey,
                policy=runtime.policy,
                trigger="bench",
                on_batch=crash,
            )
            logging.disable(logging.NOTSET)
            second = runtime.jobs.sync("bench-mastodon", trigger="bench")
            elapsed = time.perf_counter() - started
            again_started = time.perf_counter()
            third = runtime.jobs.sync("bench-mastodon", trigger="bench")
            again_s = time.perf_counter() - again_started

            assert first.status == "failed", first
            assert second.status == "succeeded", second.error
            with engine.connect() as conn:
                rows = conn.execute(
                    text("SELECT external_id FROM items WHERE source_id = 'bench-mastodon'")
                ).scalars()
                stored = list(rows)
            distinct = set(stored)
            lost = len(served_ids - distinct)
            doubled = len(stored) - len(distinct)
            pulled = first.inserted + second.inserted
            print(
                f"mastodon -> ingest -> postgresql: {args.statuses} statuses, pages of 40, "
                f"1 in {args.every} pages faulted first ({fake.faults['429']} x 429, "
                f"{fake.faults['500']} x 500), {fake.pages_served} pages served, "
                f"batch = {f'{args.batch_size} records' if args.batch_size else 'one page'}"
            )
            print(
                f"  crashed run: {first.inserted} stored before the crash ({first.error}); "
                f"resumed run: {second.inserted} stored"
            )
            print(
                f"  {pulled} items in {elapsed:.1f} s = {pulled / elapsed:.0f} items/s "
                f"(re-sync: {third.inserted} new, {third.fetched} fetched in {again_s:.2f} s)"
            )
            print(f"  {lost} lost, {doubled} doubled ({len(distinct)} stored of {len(served_ids)})")
            alone = get_connector_class("mastodon").from_mapping(
                {"base_url": server.url, "hashtag": "acme", "page_size": 40, **LOOPBACK},
                base_dir=Path(tmp),
            )
            t0 = time.perf_counter()
            pulled_alone = sum(len(b.items) for b in alone.fetch(None))
            alone_s = time.perf_counter() - t0
            print(
                f"  the connector alone (no ingest): {pulled_alone} statuses in {alone_s:.1f} s "
                f"= {pulled_alone / alone_s:.0f} statuses/s"
            )
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


if __name__ == "__main__":
    main()
