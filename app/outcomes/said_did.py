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

import itertools
import math
import threading
from dataclasses import dataclass
from datetime import date

import numpy as np
from sqlalchemy.engine import Connection

from app.outcomes.ledger import DAY_BITS, Bools, Ints, Ledger, day_number, ledger
from app.outcomes.voices import Voices, first_per_group, voices
from nlp.journey import Journey

Z95 = 1.959964
TOP_PHRASES = 5
DAY_MASK = (1 << DAY_BITS) - 1


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


def _rate(
    customers_: Ints,
    anchors: Ints,
    book: Ledger,
    event: str,
    window: int,
    base: tuple[int, int] | None,
    min_customers: int,
) -> Rate:
    """`customers_`: ledger positions (-1: unknown to the outcomes, nothing can be
    said of what they did), each with the day its window starts."""
    known = customers_ >= 0
    # In key order: every figure below is a count or a sum, and the ledger's binary
    # searches run several times faster on sorted needles than on scattered ones.
    keys = np.sort((customers_[known] << DAY_BITS) | anchors[known])
    customers_, anchors = keys >> DAY_BITS, keys & DAY_MASK
    had, down, up = book.event_after(event, customers_, anchors, window)
    customers = len(customers_)
    with_event = int(had.sum())
    lost, gained = float(down.sum()), float(up.sum())
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


_LOCK = threading.Lock()
_LINKED: list[tuple[Ledger, Voices, Ints]] = []


def _positions(book: Ledger, heard: Voices) -> Ints:
    """Voice customer code -> ledger position (-1: unknown to the outcomes), made once
    per ledger and extended as the voices' vocabulary grows (a later copy of the
    voices shares it; codes never change within one vocabulary)."""
    with _LOCK:
        linked = next(iter(_LINKED), None)
    names = heard.customers.names
    known = len(names)  # the vocabulary may grow meanwhile: take what is there now
    if linked is not None and linked[0] is book and linked[1].customers is heard.customers:
        found = linked[2]
        if len(found) >= known:
            return found
        more = [book.index.get(c, -1) for c in names[len(found) : known]]
        found = np.concatenate([found, np.array(more, dtype=np.int64)])
    else:
        found = np.array([book.index.get(c, -1) for c in names[:known]], dtype=np.int64)
    with _LOCK:  # held, so the identities compared above cannot be reused
        _LINKED[:] = [(book, heard, found)]
    return found


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
    book = ledger(conn)
    heard = voices(conn)
    return compute(
        book,
        heard,
        journey,
        start=start,
        stop=stop,
        event=event,
        window_days=window_days,
        min_customers=min_customers,
    )


def compute(
    book: Ledger,
    heard: Voices,
    journey: Journey,
    *,
    start: date,
    stop: date,
    event: str,
    window_days: int,
    min_customers: int,
) -> SaidDid:
    """Said versus did from the columns in memory (no database: the request's cost)."""
    to_book = _positions(book, heard)
    first, last = day_number(start), day_number(stop)
    recent = last - window_days
    in_period = (heard.day >= first) & (heard.day < last)
    negative = in_period & heard.negative
    positive = in_period & ~heard.negative
    spoke_ill = np.zeros(book.size, dtype=bool)
    who = to_book[heard.customer[negative]]
    spoke_ill[who[who >= 0]] = True
    everyone = np.arange(book.size, dtype=np.int64)
    midpoint = day_number(start + (stop - start) / 2)
    active, _ = book.state_at(everyone, midpoint)
    base_group = everyone[active & ~spoke_ill]
    base = _rate(
        base_group,
        np.full(len(base_group), midpoint, dtype=np.int64),
        book,
        event,
        window_days,
        None,
        min_customers,
    )
    base_counts = (base.customers, base.with_event)

    def groups(mask: Bools) -> dict[int, tuple[Ints, Ints]]:
        """Per stage code, each customer's first voice under `mask` (ledger positions, days)."""
        rows = first_per_group(mask, heard.stage, heard.customer)
        stages = heard.stage[rows]  # sorted: the voices are in stage order
        cuts = [0, *(np.flatnonzero(stages[1:] != stages[:-1]) + 1).tolist(), len(rows)]
        who, days = to_book[heard.customer[rows]], heard.day[rows]
        return {int(stages[a]): (who[a:b], days[a:b]) for a, b in itertools.pairwise(cuts) if b > a}

    nothing = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))
    negatives, positives = groups(negative), groups(positive)
    recents = groups(heard.negative & (heard.day >= recent) & (heard.day < last))
    phrase_mask = (heard.phrase_day >= first) & (heard.phrase_day < last)  # all negative
    phrase_stage = heard.phrase_stage
    phrase_rows = first_per_group(phrase_mask, phrase_stage, heard.phrase, heard.phrase_customer)
    stages = []
    for stage in journey.stages:
        code = heard.stages.codes.get(stage.key, -1)
        negative_rate = _rate(
            *negatives.get(code, nothing), book, event, window_days, base_counts, min_customers
        )
        positive_rate = _rate(
            *positives.get(code, nothing), book, event, window_days, base_counts, min_customers
        )
        at_risk_who = recents.get(code, nothing)[0]
        at_risk_who = at_risk_who[at_risk_who >= 0]
        still, value = book.state_at(at_risk_who, last)
        here = phrase_rows[phrase_stage[phrase_rows] == code]
        counts = np.bincount(heard.phrase[here], minlength=len(heard.phrases.names))
        names = heard.phrases.names
        said = [(int(counts[p]), names[p], p) for p in np.flatnonzero(counts).tolist()]
        ranked = sorted(said, key=lambda cp: (-cp[0], cp[1]))[:TOP_PHRASES]
        phrases = []
        for _, _, phrase_code in ranked:
            rows = here[heard.phrase[here] == phrase_code]
            rate = _rate(
                to_book[heard.phrase_customer[rows]],
                heard.phrase_day[rows],
                book,
                event,
                window_days,
                base_counts,
                min_customers,
            )
            phrases.append(PhraseRate(heard.shown(phrase_code), rate))
        stages.append(
            StageOutcome(
                key=stage.key,
                name=stage.name,
                negative=negative_rate,
                positive=positive_rate,
                revenue_at_risk=round(float(value[still].sum()), 2),
                at_risk_customers=int(still.sum()),
                phrases=phrases,
            )
        )
    stages.sort(key=lambda s: (-s.negative.value_lost, -(s.negative.lift or 0), s.key))
    return SaidDid(event=event, window_days=window_days, base=base, stages=stages)
