"""Said versus did: per journey stage, of the customers who spoke negatively there,
how many had the event (left, by default) within `window_days` after speaking,
against the base rate among customers who spoke negatively nowhere in the period,
as a lift with its 95% interval, and the money those customers took with them.

Who counts: customers known to the outcomes (at least one event). A negative voice
is a voice fact labelled negative in the stage (`voice_facts`, the read model the
story counts), dated in the period; the customer's first one there is the moment
the window starts. The base group's window starts at the period's midpoint, the
same length, and it counts only customers active then (someone already gone
cannot leave). Below `min_customers` in a group, no lift is given: the answer says
why instead of showing noise as a number.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

from app.outcomes.index import Compiled, customer_index
from app.readmodel.facts import theme_key
from nlp.journey import Journey

Z95 = 1.959964
TOP_PHRASES = 5


@dataclass(frozen=True, slots=True)
class Rate:
    customers: int
    with_event: int
    rate: float | None
    lift: float | None
    lift_low: float | None
    lift_high: float | None
    value_lost: float
    value_gained: float
    note: str | None


@dataclass(frozen=True, slots=True)
class PhraseRate:
    phrase: str
    rate: Rate


@dataclass(frozen=True, slots=True)
class StageOutcome:
    key: str
    name: str
    negative: Rate
    positive: Rate
    revenue_at_risk: float
    at_risk_customers: int
    phrases: list[PhraseRate]


@dataclass(frozen=True, slots=True)
class SaidDid:
    event: str
    window_days: int
    base: Rate
    stages: list[StageOutcome]


@dataclass(slots=True)
class _Voices:
    negative: dict[str, dict[str, date]] = field(default_factory=lambda: defaultdict(dict))
    positive: dict[str, dict[str, date]] = field(default_factory=lambda: defaultdict(dict))
    phrases: dict[str, dict[str, dict[str, date]]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(dict))
    )
    negative_anywhere: set[str] = field(default_factory=set)
    recent_negative: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))


def _voices(conn: Connection, start: date, stop: date, recent_from: date) -> _Voices:
    facts = SQLModel.metadata.tables["voice_facts"]
    out = _Voices()
    rows = conn.execute(
        select(facts.c.stage, facts.c.customer, facts.c.day, facts.c.label, facts.c.themes).where(
            facts.c.customer.is_not(None),
            facts.c.day >= min(start, recent_from),
            facts.c.day < stop,
            facts.c.label.in_(("negative", "positive")),
        )
    )
    for stage, customer, day, label, themes in rows:
        when = day if isinstance(day, date) else date.fromisoformat(str(day))
        if label == "negative" and when >= recent_from:
            out.recent_negative[stage].add(customer)
        if when < start:
            continue
        first = out.negative if label == "negative" else out.positive
        known = first[stage].get(customer)
        if known is None or when < known:
            first[stage][customer] = when
        if label == "negative":
            out.negative_anywhere.add(customer)
            for theme in themes or ():
                seen = out.phrases[stage][theme_key(theme)]
                if customer not in seen or when < seen[customer]:
                    seen[customer] = when
    return out


def _rate(
    group: Mapping[str, date],
    index: Mapping[str, Compiled],
    event: str,
    window: int,
    base: tuple[int, int] | None,
    min_customers: int,
) -> Rate:
    customers = with_event = 0
    lost = gained = 0.0
    for customer, anchor in group.items():
        compiled = index.get(customer)
        if compiled is None:
            continue  # unknown to the outcomes: nothing can be said of what they did
        customers += 1
        had, down, up = compiled.event_after(event, anchor, window)
        if had:
            with_event += 1
            lost += down
            gained += up
    rate = with_event / customers if customers else None
    lift = low = high = None
    note = None
    if customers < min_customers:
        note = f"{customers} customers here; a lift needs at least {min_customers}"
    elif base is not None:
        base_customers, base_with = base
        if base_customers < min_customers:
            note = f"the base group has {base_customers} customers; a lift needs {min_customers}"
        elif base_with == 0 or with_event == 0:
            note = "no event in one of the groups: the lift cannot be estimated"
        else:
            base_rate = base_with / base_customers
            lift = (with_event / customers) / base_rate
            se = math.sqrt(1 / with_event - 1 / customers + 1 / base_with - 1 / base_customers)
            low, high = lift * math.exp(-Z95 * se), lift * math.exp(Z95 * se)
    return Rate(
        customers=customers,
        with_event=with_event,
        rate=round(rate, 4) if rate is not None else None,
        lift=round(lift, 3) if lift is not None else None,
        lift_low=round(low, 3) if low is not None else None,
        lift_high=round(high, 3) if high is not None else None,
        value_lost=round(lost, 2),
        value_gained=round(gained, 2),
        note=note,
    )


def said_versus_did(
    conn: Connection,
    journey: Journey,
    *,
    start: date,
    stop: date,
    event: str,
    window_days: int,
    min_customers: int,
) -> SaidDid:
    recent_from = stop - timedelta(days=window_days)
    voices = _voices(conn, start, stop, recent_from)
    index = customer_index(conn)
    midpoint = start + (stop - start) / 2
    base_group = {
        customer: midpoint
        for customer, compiled in index.items()
        if customer not in voices.negative_anywhere and compiled.state_at(midpoint)[0]
    }
    base = _rate(base_group, index, event, window_days, None, min_customers)
    base_counts = (base.customers, base.with_event)
    stages = []
    for stage in journey.stages:
        negative = _rate(
            voices.negative.get(stage.key, {}),
            index,
            event,
            window_days,
            base_counts,
            min_customers,
        )
        positive = _rate(
            voices.positive.get(stage.key, {}),
            index,
            event,
            window_days,
            base_counts,
            min_customers,
        )
        at_risk = 0.0
        at_risk_customers = 0
        for customer in voices.recent_negative.get(stage.key, ()):
            compiled = index.get(customer)
            if compiled is None:
                continue
            active, value = compiled.state_at(stop)
            if active:
                at_risk += value
                at_risk_customers += 1
        ranked = sorted(
            voices.phrases.get(stage.key, {}).items(), key=lambda kv: (-len(kv[1]), kv[0])
        )[:TOP_PHRASES]
        stages.append(
            StageOutcome(
                key=stage.key,
                name=stage.name,
                negative=negative,
                positive=positive,
                revenue_at_risk=round(at_risk, 2),
                at_risk_customers=at_risk_customers,
                phrases=[
                    PhraseRate(
                        phrase,
                        _rate(group, index, event, window_days, base_counts, min_customers),
                    )
                    for phrase, group in ranked
                ],
            )
        )
    stages.sort(key=lambda s: (-s.negative.value_lost, -(s.negative.lift or 0), s.key))
    return SaidDid(event=event, window_days=window_days, base=base, stages=stages)
