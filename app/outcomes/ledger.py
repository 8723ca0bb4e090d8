"""Every outcome event as columns (numpy arrays), in customer and time order, with
what each event left behind: active or not, the value before and after, the money
it moved. The asset, the outcomes-daily feed and said-versus-did all count from
these columns, so they count the same customers the same way; and a question about
100,000 customers (their state at a day, their first `left` after a day) is one
vectorised search instead of a Python walk per customer.

Built once per version of the outcomes table and kept in memory (`ledger`)."""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import select
from sqlalchemy.engine import Connection

from app.models import table
from app.outcomes.records import EVENTS
from app.readmodel.versions import OUTCOMES_CHANGED, read

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]

CODE = {name: i for i, name in enumerate(EVENTS)}
STARTS = frozenset({CODE["joined"], CODE["reactivated"]})
DAY_BITS = 20  # a day's ordinal (739,000 in 2026) fits below 2**20 until the year 2870


def day_number(day: date) -> int:
    return day.toordinal()


def moved(event: str, before: float, after: float) -> float:
    """The money an event moved, as the asset counts it: a new customer's value, a
    leaver's value before leaving, growth, shrinkage, a stated value."""
    if event == "expanded":
        return max(after - before, 0.0)
    if event == "contracted":
        return max(before - after, 0.0)
    if event in ("joined", "reactivated", "value"):
        return after
    return before


@dataclass(slots=True)
class Ledger:
    customers: list[str]  # index -> reference, sorted
    index: dict[str, int]
    offsets: Ints  # customer i's events are [offsets[i], offsets[i + 1])
    customer: Ints
    day: Ints
    code: Ints
    active: Bools  # after the event
    value_before: Floats
    value_after: Floats
    money: Floats  # what the asset counts for the event (`moved`)
    profit: Floats  # NaN where none was stated
    attributes: list[Mapping[str, Any]]
    key: Ints = field(init=False)  # customer << DAY_BITS | day: sorted
    _kinds: dict[int, tuple[Ints, Ints]] = field(default_factory=dict, init=False)
    _running: dict[str, tuple[Ints, list[str]]] = field(default_factory=dict, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    def __post_init__(self) -> None:
        self.key = (self.customer << DAY_BITS) | self.day

    @property
    def size(self) -> int:
        return len(self.customers)

    def last_before(self, customers: Ints, day: int | None) -> Ints:
        """Per customer, the position of their last event before `day` (None: their
        last event of all), -1 where there is none."""
        if day is None:
            last = self.offsets[customers + 1] - 1
        else:
            last = np.searchsorted(self.key, (customers << DAY_BITS) | day, side="left") - 1
        return np.where(last >= self.offsets[customers], last, -1)

    def state_at(self, customers: Ints, day: int) -> tuple[Bools, Floats]:
        """Active, and value, at the start of `day` (events before it)."""
        last = self.last_before(customers, day)
        known = last >= 0
        safe = np.where(known, last, 0)
        return known & self.active[safe], np.where(known, self.value_after[safe], 0.0)

    def event_after(
        self, event: str, customers: Ints, anchors: Ints, window: int
    ) -> tuple[Bools, Floats, Floats]:
        """Whether `event` happened in (anchor, anchor + window], and the money it moved
        down and up (value before minus after, after minus before)."""
        positions, keys = self._kind(CODE[event])
        none = np.zeros(len(customers), dtype=bool)
        if len(positions) == 0 or len(customers) == 0:
            return none, np.zeros(len(customers)), np.zeros(len(customers))
        j = np.searchsorted(keys, (customers << DAY_BITS) | anchors, side="right")
        inside = j < len(keys)
        e = positions[np.where(inside, j, 0)]
        had = inside & (self.customer[e] == customers) & (self.day[e] <= anchors + window)
        hit = e[had]
        change = self.value_after[hit] - self.value_before[hit]
        drop, rise = np.zeros(len(customers)), np.zeros(len(customers))
        drop[had], rise[had] = np.maximum(-change, 0.0), np.maximum(change, 0.0)
        return had, drop, rise

    def running(self, attribute: str) -> tuple[Ints, list[str]]:
        """Per event, the customer's latest value of `attribute` once the event is in
        (as a code into the returned labels; label '' is unknown)."""
        with self._lock:
            found = self._running.get(attribute)
        if found is not None:
            return found
        labels = [""]
        codes_of: dict[str, int] = {"": 0}
        out = np.zeros(len(self.customer), dtype=np.int64)
        current = 0
        previous = -1
        for i, (who, attrs) in enumerate(zip(self.customer.tolist(), self.attributes, strict=True)):
            if who != previous:
                current, previous = 0, who
            if attribute in attrs:
                raw = attrs[attribute]
                label = "" if raw is None else str(raw)
                code = codes_of.get(label)
                if code is None:
                    code = codes_of[label] = len(labels)
                    labels.append(label)
                current = code
            out[i] = current
        built = (out, labels)
        with self._lock:
            self._running[attribute] = built
        return built

    def _kind(self, code: int) -> tuple[Ints, Ints]:
        with self._lock:
            found = self._kinds.get(code)
            if found is None:
                positions = np.flatnonzero(self.code == code)
                found = self._kinds[code] = (positions, self.key[positions])
            return found


def _build(conn: Connection) -> Ledger:
    events = table("outcome_events")
    query = select(
        events.c.customer,
        events.c.day,
        events.c.event,
        events.c.value_change,
        events.c.value,
        events.c.profit,
        events.c.attributes,
    ).order_by(events.c.customer, events.c.occurred_at, events.c.id)
    customers: list[str] = []
    offsets: list[int] = []
    who: list[int] = []
    days: list[int] = []
    codes: list[int] = []
    active: list[bool] = []
    before_l: list[float] = []
    after_l: list[float] = []
    money: list[float] = []
    profit: list[float] = []
    attributes: list[Mapping[str, Any]] = []
    previous: str | None = None
    is_active, value = False, 0.0
    left = CODE["left"]
    for customer, day, event, change, stated, gain, attrs in conn.execute(query):
        if customer != previous:
            previous = customer
            customers.append(customer)
            offsets.append(len(who))
            is_active, value = False, 0.0
        when = day if isinstance(day, date) else date.fromisoformat(str(day))
        code = CODE[event]
        before = value
        if code in STARTS:
            is_active = True
            value = stated if stated is not None else max(before + (change or 0.0), 0.0)
        elif code == left:
            is_active, value = False, 0.0
        elif stated is not None:
            value = stated
        elif change is not None:
            value = max(before + change, 0.0)
        who.append(len(customers) - 1)
        days.append(day_number(when))
        codes.append(code)
        active.append(is_active)
        before_l.append(before)
        after_l.append(value)
        money.append(moved(event, before, value))
        profit.append(math.nan if gain is None else gain)
        attributes.append(attrs or {})
    offsets.append(len(who))
    return Ledger(
        customers=customers,
        index={c: i for i, c in enumerate(customers)},
        offsets=np.array(offsets, dtype=np.int64),
        customer=np.array(who, dtype=np.int64),
        day=np.array(days, dtype=np.int64),
        code=np.array(codes, dtype=np.int64),
        active=np.array(active, dtype=bool),
        value_before=np.array(before_l, dtype=np.float64),
        value_after=np.array(after_l, dtype=np.float64),
        money=np.array(money, dtype=np.float64),
        profit=np.array(profit, dtype=np.float64),
        attributes=attributes,
    )


_CACHE: OrderedDict[str, tuple[tuple[Any, ...], Ledger]] = OrderedDict()
_CACHE_SIZE = 4
_LOCK = threading.Lock()
_BUILDING: dict[str, threading.Lock] = {}


def ledger(conn: Connection) -> Ledger:
    """The ledger of the outcomes stored now. Kept between requests, keyed by the
    table's change counter (bumped by every import and erasure, in its transaction),
    so any change is seen at once. Callers must not change what they get."""
    version = read(conn, OUTCOMES_CHANGED)
    key = conn.engine.url.render_as_string(hide_password=True)
    with _LOCK:
        cached = _CACHE.get(key)
        if cached is not None and cached[0] == version:
            _CACHE.move_to_end(key)
            return cached[1]
        building = _BUILDING.setdefault(key, threading.Lock())
    # One build at a time per database: requests arriving during a (cold) build wait
    # for it rather than each reading every event again (memory and time).
    with building:
        with _LOCK:
            cached = _CACHE.get(key)
            if cached is not None and cached[0] == version:
                return cached[1]
        built = _build(conn)
        with _LOCK:
            _CACHE[key] = (version, built)
            _CACHE.move_to_end(key)
            while len(_CACHE) > _CACHE_SIZE:
                _CACHE.popitem(last=False)
    return built
