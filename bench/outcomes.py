"""Said versus did, end to end: does `/api/v1/outcomes/by-stage` find an effect planted
in a generated company, and how fast does it answer?

    python bench/outcomes.py [--customers 100000] [--items 40000] [--seed 1 | --seeds 1,2,3]
                             [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/test]
                             [--requests 30] [--parquet]

A company of N customers over two years (feedback 2024-01-01 to 2025-12-31, outcomes
followed until 2026-06-30): three in four were customers before 2024, the rest join
during the two years; each has an annual value, a segment, a plan and a region, and
leaves at a constant background hazard (18% a year, so about 4.8% within any 90 days).
Some speak, in a survey export ingested through the real `survey_file` connector
(`build_runtime` + `jobs.sync`): 60% of speakers complain about one stage (a sentence
this product's NLP places there, negative), the rest only praise. The planted effect:
after their first billing complaint a customer leaves within 90 days at 3x the
background rate; after an onboarding complaint at 1.5x; nothing elsewhere.

The outcome events (joined, expanded, contracted, quarterly `value` with profit, left)
are written to a CSV (or Parquet) file and imported with `app.outcomes.service.import_file`,
then the by-stage answer is read through the app. The true lift is computed from the
generated truth by the product's definition (first negative voice in the stage, event
in (anchor, anchor + 90 days], base: customers negative nowhere and active at the
period's midpoint); the planted lift is the design (3, 1.5, 1). Checks: billing ranks
first; the interval of each planted stage contains its true lift (whether it holds the
planted lift too is printed); each stage without an effect has an interval containing 1,
a 95% interval: by chance alone about one null stage in twenty is "significant".
The true lift sits a little below the planted one: the base group (negative nowhere)
holds more of the customers who left early, before they had their chance to complain,
so its rate is above the background (about 5.0% against 4.8% at 100,000 customers).
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as `python bench/outcomes.py`, this file's folder comes first on sys.path and
# bench/connectors.py would hide the `connectors` package: put the project root there.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

import argparse  # noqa: E402
import csv  # noqa: E402
import math  # noqa: E402
import random  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from datetime import UTC, date, datetime, timedelta  # noqa: E402
from typing import Any  # noqa: E402

from sqlalchemy import text  # noqa: E402

START = date(2024, 1, 1)
STOP = date(2026, 1, 1)  # exclusive: the feedback period is 2024-01-01 .. 2025-12-31
FOLLOW_UNTIL = date(2026, 7, 1)  # outcomes are followed past the period's end
WINDOW = 90
ANNUAL_CHURN = 0.18
HAZARD = -math.log(1 - ANNUAL_CHURN) / 365  # per day
P90 = 1 - math.exp(-HAZARD * WINDOW)  # background chance of leaving within 90 days
PLANTED = {"billing": 3.0, "onboard": 1.5}

# Sentences checked with the product's enricher (default journey): each is placed in
# its stage with this sentiment (`--check-sentences` prints what the NLP says now).
NEGATIVE = {
    "discover": [
        "Comparing the plans on the website was confusing.",
        "Your advert was misleading about the speeds.",
    ],
    "purchase": [
        "Checkout kept failing at the payment step.",
        "The checkout page crashed twice when I tried to order.",
        "The sales rep pushed an upgrade I did not need.",
    ],
    "onboard": [
        "The installer did not turn up for my installation appointment.",
        "My installation was delayed for six weeks.",
        "The engineer missed two appointments for my installation.",
        "Setup took three attempts and the router arrived without a cable.",
    ],
    "use": [
        "The app crashes every evening.",
        "My internet connection is terrible and keeps dropping.",
        "The service is slow at peak times.",
    ],
    "support": [
        "I was on hold for forty minutes.",
        "Nobody answered my email for a week.",
        "The chatbot was useless and I could not reach a person.",
        "Customer service kept me on hold for an hour.",
    ],
    "billing": [
        "I was charged twice this month.",
        "The invoice was wrong.",
        "My direct debit was taken twice and the refund still has not arrived.",
        "I was overcharged again and had to pay an overdraft fee.",
        "The bill went up without any warning and the invoice is impossible to read.",
    ],
    "renew": [
        "My contract renewal quote was double what new customers pay.",
        "I am cancelling my contract because the renewal price is outrageous.",
        "My renewal price is far too high so I will cancel my contract.",
    ],
    "advocate": [
        "I would not recommend this to anyone.",
        "I would never recommend them to anyone.",
    ],
}
POSITIVE = {
    "discover": [
        "Your website made it easy to compare plans.",
        "I found you through a friend's post and the plans were easy to compare.",
    ],
    "purchase": [
        "Ordering was quick and easy.",
        "The online order was smooth and easy.",
        "I love how easy it was to buy online.",
    ],
    "onboard": [
        "Installation was quick and easy.",
        "The engineer did a great job with the installation.",
        "Setup was easy.",
        "Getting set up was easy, the router arrived the next day.",
    ],
    "use": [
        "The internet is fast and reliable.",
        "The broadband works perfectly and the speed is great.",
        "It works really well day to day.",
        "The broadband is fast and stable every evening.",
    ],
    "support": [
        "The support agent was really helpful.",
        "The support agent was kind and fixed my fault quickly.",
    ],
    "billing": [
        "My bill is clear and always correct.",
        "Paying by direct debit is easy and the invoice is clear.",
    ],
    "renew": [
        "I renewed for another year happily.",
        "I happily renewed my contract for another year.",
        "The renewal offer was great so I renewed.",
    ],
    "advocate": [
        "I recommend you to everyone.",
        "Five stars from me.",
        "I have recommended you to all my friends and family.",
    ],
}
# Of the customers who complain, where (billing and onboarding big enough to measure).
COMPLAINT_WEIGHTS = {
    "billing": 0.20,
    "onboard": 0.16,
    "use": 0.20,
    "support": 0.14,
    "renew": 0.10,
    "purchase": 0.08,
    "discover": 0.06,
    "advocate": 0.06,
}
STAGES = list(NEGATIVE)
PLANS = [("Fibre 150", 0.45), ("Fibre 500", 0.35), ("Fibre 900", 0.20)]
QUARTERS = [date(y, m, d) for y in (2024, 2025) for m, d in ((3, 31), (6, 30), (9, 30), (12, 31))]  # fmt: skip
REGIONS = ["London", "North West", "Scotland", "Midlands", "South West", "Wales"]


@dataclass
class Customer:
    ref: str
    joined: date
    left: date | None  # None: still a customer on FOLLOW_UNTIL
    value: float
    segment: str
    plan: str
    region: str
    complains_about: str | None = None
    voices: list[tuple[datetime, list[tuple[str, str]]]] = field(default_factory=list)


@dataclass
class Company:
    customers: list[Customer]
    feedback_rows: int


def _day(start: date, rng: random.Random, days: float) -> date:
    return start + timedelta(days=int(rng.random() * days))


def _leave_after(start: date, rng: random.Random) -> date | None:
    left = start + timedelta(days=1 + int(rng.expovariate(HAZARD)))
    return left if left < FOLLOW_UNTIL else None


def generate(n: int, items: int, seed: int) -> Company:
    rng = random.Random(seed)
    period_days = (STOP - START).days
    customers: list[Customer] = []
    for i in range(n):
        if rng.random() < 0.75:
            joined = _day(date(2019, 1, 1), rng, (START - date(2019, 1, 1)).days)
            alive_from = START
        else:
            joined = _day(START, rng, period_days)
            alive_from = joined
        plan = rng.choices([p for p, _ in PLANS], [w for _, w in PLANS])[0]
        business = rng.random() < 0.1
        base = {"Fibre 150": 300.0, "Fibre 500": 450.0, "Fibre 900": 650.0}[plan]
        value = round(base * (2.2 if business else 1.0) * rng.uniform(0.85, 1.25), 2)
        customers.append(
            Customer(
                ref=f"CU-{seed:02d}{i:07d}",
                joined=joined,
                left=_leave_after(alive_from, rng),
                value=value,
                segment="business" if business else "residential",
                plan=plan,
                region=rng.choice(REGIONS),
            )
        )
    # Speakers: about 1.5 items each on average.
    pool = rng.sample(customers, min(n, max(1, int(items / 1.5))))
    for c in pool:
        c.complains_about = (
            rng.choices(list(COMPLAINT_WEIGHTS), list(COMPLAINT_WEIGHTS.values()))[0]
            if rng.random() < 0.6
            else None
        )
    counts = [1] * len(pool)
    for _ in range(items - len(pool)):
        counts[rng.randrange(len(pool))] += 1
    written = 0
    for c, k in zip(pool, counts, strict=True):
        # Voices come at random moments of the period, whether or not the customer
        # will leave (placing them within the customer's remaining time instead would
        # put them close to leaving: a said-did link nobody planted).
        alive_from = max(c.joined, START)
        span = (STOP - alive_from).days - 2
        if span <= 0:
            continue
        base_dt = datetime.combine(alive_from, datetime.min.time(), tzinfo=UTC)
        drawn = sorted(
            base_dt + timedelta(seconds=86400 + rng.random() * span * 86400) for _ in range(k)
        )
        times = [t for t in drawn if c.left is None or t.date() < c.left]
        if not times:
            continue  # gone before they said anything
        stage = c.complains_about
        if stage in PLANTED:
            # The planted effect: from the first complaint, the chance of leaving within
            # 90 days is multiplied; after those 90 days the background hazard again.
            first = times[0]
            if rng.random() < PLANTED[stage] * P90:
                c.left = first.date() + timedelta(days=1 + rng.randrange(WINDOW - 1))
            else:
                c.left = _leave_after(first.date() + timedelta(days=WINDOW), rng)
            times = [t for t in drawn if c.left is None or t.date() < c.left or t == first]
        for j, when in enumerate(times):
            sentences: list[tuple[str, str]] = []
            if stage is not None and (j == 0 or rng.random() < 0.5):
                sentences.append((stage, "negative"))
            others = [s for s in STAGES if s != stage]
            if not sentences or rng.random() < 0.3:
                sentences.append((rng.choice(others), "positive"))
            rng.shuffle(sentences)
            c.voices.append((when, sentences))
        written += len(c.voices)
    return Company(customers=customers, feedback_rows=written)


def write_feedback(company: Company, path: Path, seed: int) -> int:
    rng = random.Random(seed + 1000)
    rows = 0
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["response_id", "submitted_at", "customer_id", "score", "answer"])
        for c in company.customers:
            for when, sentences in c.voices:
                words = " ".join(
                    rng.choice((NEGATIVE if label == "negative" else POSITIVE)[stage])
                    for stage, label in sentences
                )
                negative = any(label == "negative" for _, label in sentences)
                score = rng.randrange(0, 7) if negative else rng.randrange(8, 11)
                writer.writerow([f"r{rows}", when.isoformat(), c.ref, score, words])
                rows += 1
    return rows


def outcome_rows(company: Company, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed + 2000)
    rows: list[dict[str, Any]] = []
    for c in company.customers:
        attrs = {"segment": c.segment, "plan": c.plan, "region": c.region}
        end = c.left or FOLLOW_UNTIL
        rows.append(
            {"customer": c.ref, "event": "joined", "occurred_at": c.joined.isoformat(),
             "value_change": c.value, "value": c.value, "currency": "GBP", "profit": "", **attrs}
        )  # fmt: skip
        value = c.value
        change: tuple[date, float] | None = None
        if rng.random() < 0.12:
            when = _day(max(c.joined, START), rng, (end - max(c.joined, START)).days)
            if when < end and when > c.joined:
                up = rng.random() < 0.6
                new = round(value * (rng.uniform(1.1, 1.4) if up else rng.uniform(0.6, 0.9)), 2)
                rows.append(
                    {"customer": c.ref, "event": "expanded" if up else "contracted",
                     "occurred_at": when.isoformat(), "value_change": round(new - value, 2),
                     "value": new, "currency": "GBP", "profit": "", **attrs}
                )  # fmt: skip
                change = (when, new)
        for quarter in QUARTERS:
            if change is not None and change[0] < quarter:
                value = change[1]
            if c.joined < quarter < end:
                rows.append(
                    {"customer": c.ref, "event": "value", "occurred_at": quarter.isoformat(),
                     "value_change": "", "value": value, "currency": "GBP",
                     "profit": round(value / 4 * rng.uniform(0.12, 0.3), 2), **attrs}
                )  # fmt: skip
        if change is not None and change[0] < end:
            value = change[1]
        if c.left is not None:
            rows.append(
                {"customer": c.ref, "event": "left", "occurred_at": c.left.isoformat(),
                 "value_change": -value, "value": 0, "currency": "GBP", "profit": "", **attrs}
            )  # fmt: skip
    rows.sort(key=lambda r: r["occurred_at"])
    return rows


def write_outcomes(rows: list[dict[str, Any]], path: Path) -> None:
    columns = list(rows[0])
    if path.suffix == ".parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        def col(name: str) -> list[Any]:
            return [None if r[name] == "" else r[name] for r in rows]

        table = pa.table({name: col(name) for name in columns})
        pq.write_table(table, path)
        return
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)


# --- the truth, by the product's definition ------------------------------------------


@dataclass(frozen=True)
class Truth:
    customers: int
    with_event: int

    @property
    def rate(self) -> float:
        return self.with_event / self.customers if self.customers else float("nan")


def _had_left(c: Customer, anchor: date) -> bool:
    return c.left is not None and anchor < c.left <= anchor + timedelta(days=WINDOW)


def truth(company: Company) -> tuple[Truth, dict[str, Truth]]:
    midpoint = START + (STOP - START) / 2  # as the product computes it
    first_negative: dict[str, dict[str, date]] = {s: {} for s in STAGES}
    negative_anywhere: set[str] = set()
    for c in company.customers:
        for when, sentences in c.voices:
            day = when.astimezone(UTC).date()
            for stage, label in sentences:
                if label == "negative":
                    negative_anywhere.add(c.ref)
                    known = first_negative[stage].get(c.ref)
                    if known is None or day < known:
                        first_negative[stage][c.ref] = day
    base_n = base_e = 0
    for c in company.customers:
        if c.ref in negative_anywhere or c.joined >= midpoint:
            continue
        if c.left is not None and c.left < midpoint:
            continue
        base_n += 1
        base_e += _had_left(c, midpoint)
    by_ref = {c.ref: c for c in company.customers}
    stages = {
        s: Truth(len(group), sum(_had_left(by_ref[ref], d) for ref, d in group.items()))
        for s, group in first_negative.items()
    }
    return Truth(base_n, base_e), stages


# --- running the product ---------------------------------------------------------------


def write_sources(folder: Path) -> Path:
    sources = folder / "sources.yaml"
    sources.write_text(
        "sources:\n"
        "  - id: bench-survey\n"
        "    name: Bench relationship survey\n"
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
        '        - {column: answer, question: "What is the main reason for your score?"}\n',
        encoding="utf-8",
    )
    return sources


def run_seed(args: argparse.Namespace, seed: int) -> bool:

    from app.db import make_engine
    from app.outcomes.service import import_file
    from app.runtime import build_runtime
    from app.settings import Settings

    t0 = time.perf_counter()
    company = generate(args.customers, args.items, seed)
    base_truth, stage_truth = truth(company)
    print(f"\n== seed {seed}: {args.customers} customers, {company.feedback_rows} feedback items")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        rows = write_feedback(company, folder / "responses.csv", seed)
        events = outcome_rows(company, seed)
        outcomes = folder / ("outcomes.parquet" if args.parquet else "outcomes.csv")
        write_outcomes(events, outcomes)
        print(f"generated in {time.perf_counter() - t0:.1f} s: {len(events)} outcome events")
        url = args.postgres or f"sqlite:///{folder / 'bench.db'}"
        schema = None
        engine_kwargs: dict[str, Any] = {}
        admin = None
        if url.startswith("postgresql"):
            schema = args.schema or f"lp_bench_{uuid.uuid4().hex[:8]}"
            admin = make_engine(url)
            if not args.schema:
                with admin.begin() as conn:
                    conn.execute(text(f'CREATE SCHEMA "{schema}"'))
            engine_kwargs = {"connect_args": {"options": f"-csearch_path={schema}"}}
        engine = make_engine(url, **engine_kwargs)
        try:
            settings = Settings(
                database_url=url, sources_file=write_sources(folder), scheduler_enabled=False
            )
            runtime = build_runtime(settings, engine=engine)
            if args.schema:
                print(f"measuring the company already in schema {schema}")
                return _measure(args, runtime, base_truth, stage_truth)
            t1 = time.perf_counter()
            result = runtime.jobs.sync("bench-survey", trigger="bench")
            assert result.status == "succeeded", result.error
            print(
                f"ingest ({engine.dialect.name}): {result.inserted}/{rows} items in "
                f"{time.perf_counter() - t1:.1f} s"
            )
            t1 = time.perf_counter()
            imported = import_file(engine, outcomes, runtime.policy)
            print(
                f"outcomes import ({outcomes.suffix}): {imported.inserted} inserted, "
                f"{imported.rejected} rejected, {imported.duplicates} duplicates in "
                f"{time.perf_counter() - t1:.1f} s"
            )
            return _measure(args, runtime, base_truth, stage_truth)
        finally:
            engine.dispose()
            if args.keep and schema:
                print(f"kept schema {schema}: measure again with --schema {schema}")
            elif admin is not None and not args.schema:
                with admin.begin() as conn:
                    conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
                admin.dispose()


def _measure(args: argparse.Namespace, runtime: Any, base: Truth, stages: dict[str, Truth]) -> bool:
    from fastapi.testclient import TestClient

    from app.main import create_app

    with TestClient(create_app(runtime=runtime, start_scheduler=False)) as client:
        body, latencies = _ask(client, args.requests)
        if args.profile:
            _profile(client)
    return report(body, base, stages, latencies)


def _profile(client: Any) -> None:
    """Where one (warm) request's time goes: the top functions by own time."""
    import cProfile
    import pstats

    params = {"from": START.isoformat(), "to": (STOP - timedelta(days=1)).isoformat()}
    profiler = cProfile.Profile()
    profiler.enable()
    client.get("/api/v1/outcomes/by-stage", params=params)
    profiler.disable()
    pstats.Stats(profiler).sort_stats("tottime").print_stats(15)


def _ask(client: Any, requests: int) -> tuple[dict[str, Any], list[float]]:
    params = {"from": START.isoformat(), "to": (STOP - timedelta(days=1)).isoformat(),
              "window_days": WINDOW, "event": "left", "min_customers": 30}  # fmt: skip
    latencies = []
    body: dict[str, Any] = {}
    for _ in range(requests):
        t1 = time.perf_counter()
        response = client.get("/api/v1/outcomes/by-stage", params=params)
        latencies.append(time.perf_counter() - t1)
        assert response.status_code == 200, response.text
        body = response.json()
    return body, latencies


def _fmt(x: float | None, spec: str = ".2f") -> str:
    return "-" if x is None else format(x, spec)


def report(
    body: dict[str, Any], base: Truth, stages: dict[str, Truth], latencies: list[float]
) -> bool:
    found_base = body["base"]
    print(
        f"base: {found_base['with_event']}/{found_base['customers']} left "
        f"(truth {base.with_event}/{base.customers}; background {P90:.3f})"
    )
    print(
        f"{'stage':9s} {'found n':>8s} {'truth n':>8s} {'lift':>6s} {'95% CI':>13s} "
        f"{'true':>6s} {'planted':>7s} {'value lost':>11s}  check"
    )
    ok = True
    misses: list[str] = []
    for s in body["stages"]:
        neg = s["negative"]
        key = s["key"]
        t = stages[key]
        true_lift = t.rate / base.rate if t.customers and base.with_event else None
        planted = PLANTED.get(key, 1.0)
        low, high = neg["lift_low"], neg["lift_high"]
        inside = low is not None and high is not None
        covers_true = inside and true_lift is not None and low <= true_lift <= high
        covers_planted = inside and low <= planted <= high
        if key in PLANTED:
            good = covers_true
            verdict = "ok" if good else "MISS (true lift outside the interval)"
            verdict += "" if covers_planted else f"; planted {planted} outside"
        else:
            good = inside and low <= 1.0 <= high
            verdict = "ok" if good else "MISS (a null stage looks significant)"
        if not good:
            misses.append(key)
        print(
            f"{key:9s} {neg['with_event']:>4d}/{neg['customers']:<5d} {t.with_event:>3d}/{t.customers:<5d}"
            f"{_fmt(neg['lift']):>6s} [{_fmt(low)}, {_fmt(high)}]".ljust(58)
            + f"{_fmt(true_lift):>6s} {planted:7.1f} {neg['value_lost']:11,.0f}  {verdict}"
        )
    first = body["stages"][0]["key"] if body["stages"] else None
    print(f"ranked first by value lost: {first} ({'ok' if first == 'billing' else 'MISS'})")
    ok = first == "billing" and not misses
    # The first request reads every event and voice into memory; the rest are warm.
    cold, lat = latencies[0], sorted(latencies[1:] or latencies)
    p95 = lat[min(len(lat) - 1, math.ceil(0.95 * len(lat)) - 1)]
    print(
        f"/outcomes/by-stage latency: first (cold) {cold * 1000:.0f} ms; over {len(lat)} warm "
        f"requests median {statistics.median(lat) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms"
    )
    return ok


def check_sentences() -> None:
    from nlp.journey import load_journey
    from nlp.pipeline import build_enricher

    enricher = build_enricher(load_journey())
    wrong = 0
    for bank, label in ((NEGATIVE, "negative"), (POSITIVE, "positive")):
        for stage, sentences in bank.items():
            for sentence in sentences:
                seg = enricher.enrich(sentence).segments[0]
                got = (seg.stage.stage, seg.sentiment.label)
                mark = "ok" if got == (stage, label) else "WRONG"
                wrong += mark != "ok"
                print(f"{mark:5s} want {stage}/{label:8s} got {got[0]}/{got[1]:8s} {sentence}")
    print(f"{wrong} sentences placed elsewhere")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--items", type=int, default=40_000, help="feedback items (about)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--seeds", help="comma-separated seeds, e.g. 1,2,3")
    parser.add_argument("--postgres", help="a PostgreSQL URL; SQLite in a temp dir otherwise")
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--parquet", action="store_true", help="outcomes as Parquet, not CSV")
    parser.add_argument("--check-sentences", action="store_true")
    parser.add_argument("--profile", action="store_true", help="profile one warm request")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL schema")
    parser.add_argument(
        "--schema", help="measure a kept PostgreSQL schema again (same seed and sizes), no ingest"
    )
    args = parser.parse_args()
    if args.check_sentences:
        check_sentences()
        return
    seeds = [int(s) for s in args.seeds.split(",")] if args.seeds else [args.seed]
    results = {seed: run_seed(args, seed) for seed in seeds}
    print("\n" + ", ".join(f"seed {s}: {'ok' if ok else 'MISS'}" for s, ok in results.items()))


if __name__ == "__main__":
    main()
