"""Write `outcomes-2026.csv`: what Fernhill's customers did in 2026, with a planted
said-did link for a newcomer to find (customers who complained about billing leave
far more often within 90 days than the rest).

    python app/sample_data/outcomes/make_outcomes.py [--out PATH]

Who complained about billing is decided by the product itself: the sample sources
are loaded (`sources.yaml`, the real connectors and NLP, into a temporary SQLite
file) and a customer is a billing complainer when one of their voices in the read
model (`voice_facts`) is in stage `billing` and labelled negative, the same voices
`/api/v1/outcomes/by-stage` counts. Only Fernhill account numbers (`FH-` and six
digits) get outcomes: Mastodon handles and research participants are not accounts. Everything else is drawn from a fixed seed, so
the file is the same on every run while the NLP places the same voices.
"""

from __future__ import annotations

import argparse
import csv
import random
import re
import sys
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlmodel import SQLModel

ACCOUNT = re.compile(r"FH-\d{6}")  # Fernhill's account numbers
HERE = Path(__file__).resolve().parent
SEED = 2026
EXTRA_CUSTOMERS = 400  # customers who never said anything this quarter
PERIOD_START = date(2026, 8, 1)
PERIOD_STOP = date(2026, 11, 1)  # the sample feedback: 1 August to 31 October 2026
LEAVE_FROM, LEAVE_UNTIL = date(2026, 8, 1), date(2026, 12, 31)
P_LEAVE_BILLING = 0.40  # within 90 days of the first billing complaint
P_LEAVE_OTHER = 0.10  # anyone else, over August to December
QUARTERS = [date(2026, 3, 31), date(2026, 6, 30), date(2026, 9, 30), date(2026, 12, 31)]
PLAN_VALUE = {"Fibre 150": (300, 390), "Fibre 500": (420, 560), "Fibre 900": (600, 760)}
FERNBOX = 96.0
REGIONS = ["North West", "Scotland", "Yorkshire", "Midlands", "London", "South West", "Wales"]
COLUMNS = ["event_id", "customer", "event", "occurred_at", "value_change", "value",
           "currency", "profit", "segment", "plan", "region"]  # fmt: skip


@dataclass
class Spoke:
    """What the sample feedback says of one customer, as the product read it."""

    first_day: date
    last_day: date
    first_billing_complaint: date | None
    plan: str | None = None
    region: str | None = None
    tenure_months: int | None = None


def read_feedback() -> dict[str, Spoke]:
    """Load the sample sources through the product; each known customer's voices."""
    from app.runtime import build_runtime
    from app.settings import Settings

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            database_url=f"sqlite:///{Path(tmp) / 'sample.db'}",
            sources_file=None,  # the bundled sample sources and journey
            scheduler_enabled=False,
        )
        runtime = build_runtime(settings)
        try:
            for source_id, spec in runtime.sources.items():
                if spec.enabled:
                    runtime.jobs.sync(source_id, trigger="make_outcomes")
            facts = SQLModel.metadata.tables["voice_facts"]
            with runtime.engine.connect() as conn:
                rows = conn.execute(
                    select(
                        facts.c.customer, facts.c.day, facts.c.stage, facts.c.label,
                        facts.c.attributes,
                    ).where(facts.c.customer.is_not(None))
                ).all()  # fmt: skip
        finally:
            runtime.close()
    spoke: dict[str, Spoke] = {}
    for customer, day_, stage, label, attributes in sorted(rows, key=lambda r: (r[0], str(r[1]))):
        if not ACCOUNT.fullmatch(customer):
            continue  # a Mastodon handle, a research participant: not an account of ours
        day = day_ if isinstance(day_, date) else date.fromisoformat(str(day_))
        known = spoke.get(customer)
        if known is None:
            known = spoke[customer] = Spoke(day, day, None)
        known.first_day, known.last_day = min(known.first_day, day), max(known.last_day, day)
        if stage == "billing" and label == "negative":
            first = known.first_billing_complaint
            known.first_billing_complaint = day if first is None else min(first, day)
        attrs = attributes or {}
        known.plan = known.plan or attrs.get("plan")
        known.region = known.region or attrs.get("region") or attrs.get("Region")
        if known.tenure_months is None and str(attrs.get("tenure_months", "")).isdigit():
            known.tenure_months = int(attrs["tenure_months"])
    return spoke


def _plan(rng: random.Random, given: str | None) -> tuple[str, bool]:
    """A base plan and whether it comes with a Fernbox ('Fibre 500 + Fernbox')."""
    if given:
        base = given.split("+")[0].strip()
        if base in PLAN_VALUE:
            return base, "fernbox" in given.lower()
    base = rng.choices(list(PLAN_VALUE), [0.4, 0.4, 0.2])[0]
    return base, rng.random() < 0.35


def _day_between(rng: random.Random, start: date, stop: date) -> date:
    return start + timedelta(days=rng.randrange(max((stop - start).days, 1)))


def build(spoke: dict[str, Spoke]) -> list[dict[str, object]]:
    rng = random.Random(SEED)
    customers = sorted(spoke)
    taken = set(customers)
    while len(customers) < len(spoke) + EXTRA_CUSTOMERS:
        ref = f"FH-{rng.randrange(100000, 1000000)}"
        if ref not in taken:
            taken.add(ref)
            customers.append(ref)
    rows: list[dict[str, object]] = []
    for ref in customers:
        said = spoke.get(ref)
        business = rng.random() < 0.12
        segment = "business" if business else "residential"
        base, fernbox = _plan(rng, said.plan if said else None)
        plan = base + (" + Fernbox" if fernbox else "")
        region = (said.region if said and said.region else None) or rng.choice(REGIONS)
        low, high = PLAN_VALUE[base]
        value = round(rng.uniform(low, high) + (FERNBOX if fernbox else 0), 2)
        if business:
            value = round(min(value * 1.25, 900.0), 2)
        if said and said.tenure_months is not None:
            joined = PERIOD_START - timedelta(days=round(said.tenure_months * 30.4))
            joined = min(joined, date(2026, 6, 30))
        else:
            joined = _day_between(rng, date(2019, 1, 1), date(2026, 7, 1))
        attrs = {"segment": segment, "plan": plan, "region": region}
        events: list[dict[str, object]] = [
            {"customer": ref, "event": "joined", "occurred_at": joined,
             "value_change": value, "value": value, **attrs}
        ]  # fmt: skip
        # Leaving: after the first billing complaint, often and soon; anyone else rarely,
        # and never before the last thing they said.
        left: date | None = None
        complaint = said.first_billing_complaint if said else None
        if complaint is not None:
            if rng.random() < P_LEAVE_BILLING:
                left = complaint + timedelta(days=rng.randrange(7, 86))
        elif rng.random() < P_LEAVE_OTHER:
            left = _day_between(rng, LEAVE_FROM, LEAVE_UNTIL)
        if left is not None and said is not None:
            left = max(left, said.last_day + timedelta(days=1))
        if left is not None and left > LEAVE_UNTIL:
            left = None
        change: tuple[date, str, float] | None = None
        roll = rng.random()  # 8% upgrade (a Fernbox, a faster plan), 4% cut back
        if roll < 0.12:
            end = left or LEAVE_UNTIL
            when = _day_between(rng, max(joined, date(2026, 1, 1)) + timedelta(days=1), end)
            up = roll < 0.08
            new = round(value + (rng.choice([96.0, 180.0]) if up else -rng.choice([60.0, 96.0])), 2)
            if when < end:
                change = (when, "expanded" if up else "contracted", max(new, 120.0))
        current = value
        for quarter in QUARTERS:
            if change is not None and change[0] <= quarter and current != change[2]:
                events.append(
                    {"customer": ref, "event": change[1], "occurred_at": change[0],
                     "value_change": round(change[2] - current, 2), "value": change[2], **attrs}
                )  # fmt: skip
                current = change[2]
            if joined < quarter and (left is None or quarter < left):
                events.append(
                    {"customer": ref, "event": "value", "occurred_at": quarter, "value": current,
                     "profit": round(current / 4 * rng.uniform(0.1, 0.3), 2), **attrs}
                )  # fmt: skip
        if left is not None:
            events.append(
                {"customer": ref, "event": "left", "occurred_at": left,
                 "value_change": -current, "value": 0, **attrs}
            )  # fmt: skip
        rows.extend(events)
    rows.sort(key=lambda r: (str(r["occurred_at"]), str(r["customer"])))
    for n, row in enumerate(rows, start=1):
        row["event_id"] = f"OE-{n:05d}"
        row["currency"] = "GBP"
        row["occurred_at"] = str(row["occurred_at"])
    return rows


def summary(spoke: dict[str, Spoke], rows: list[dict[str, object]]) -> str:
    left = {str(r["customer"]): date.fromisoformat(str(r["occurred_at"])) for r in rows if r["event"] == "left"}  # fmt: skip
    groups: dict[str, list[bool]] = defaultdict(list)
    for ref, said in spoke.items():
        if said.first_billing_complaint is not None:
            gone = left.get(ref)
            soon = gone is not None and gone <= said.first_billing_complaint + timedelta(days=90)
            groups["billing complainers"].append(soon)
        else:
            groups["other speakers"].append(ref in left)
    customers = {str(r["customer"]) for r in rows}
    groups["never spoke"] = [ref in left for ref in customers - set(spoke)]
    parts = [f"{len(rows)} events, {len(customers)} customers"]
    for name, flags in groups.items():
        parts.append(f"{name}: {sum(flags)}/{len(flags)} left")
    return "; ".join(parts)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE / "outcomes-2026.csv")
    args = parser.parse_args(argv)
    spoke = read_feedback()
    rows = build(spoke)
    with args.out.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    sys.stdout.write(f"{args.out.name}: {summary(spoke, rows)}\n")


if __name__ == "__main__":
    main()
