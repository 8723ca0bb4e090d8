"""Each customer's events in time order, and what they add up to at a moment:
active or not, annual value, segment attributes. The asset and the said-versus-did
figures both walk these, so they count the same customers the same way."""

from __future__ import annotations

import threading
from collections import OrderedDict, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

STARTS = frozenset({"joined", "reactivated"})


@dataclass(frozen=True, slots=True)
class Event:
    day: date
    event: str
    value_change: float | None
    value: float | None
    profit: float | None
    attributes: Mapping[str, Any]


@dataclass(slots=True)
class State:
    active: bool = False
    value: float = 0.0
    attributes: dict[str, Any] = field(default_factory=dict)

    def apply(self, e: Event) -> tuple[float, float]:
        """Take in one event; returns the value before and after it."""
        before = self.value
        if e.event in STARTS:
            self.active = True
            self.value = e.value if e.value is not None else max(before + (e.value_change or 0), 0)
        elif e.event == "left":
            self.active = False
            self.value = 0.0
        elif e.value is not None:
            self.value = e.value
        elif e.value_change is not None:
            self.value = max(before + e.value_change, 0.0)
        self.attributes.update(e.attributes)
        return before, self.value


_CACHE: OrderedDict[str, tuple[tuple[Any, ...], dict[str, list[Event]]]] = OrderedDict()
_CACHE_SIZE = 4
_LOCK = threading.Lock()


def load(conn: Connection) -> dict[str, list[Event]]:
    """Every customer's events, in time order (callers stop at their period's end:
    one decoded copy serves every period).

    Kept in memory between requests, keyed by the table's version (largest id, row
    count, newest insertion: events are only added, or erased), so a page or an API call
    does not decode every customer's history each time; any import or erasure is
    seen at once. Callers must not change what they get."""
    table = SQLModel.metadata.tables["outcome_events"]
    version = tuple(
        conn.execute(select(func.max(table.c.id), func.count(), func.max(table.c.created_at))).one()
    )
    key = conn.engine.url.render_as_string(hide_password=True)
    with _LOCK:
        cached = _CACHE.get(key)
        if cached is not None and cached[0] == version:
            _CACHE.move_to_end(key)
            return cached[1]
    found = _read(conn)
    with _LOCK:
        _CACHE[key] = (version, found)
        _CACHE.move_to_end(key)
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return found


def _read(conn: Connection) -> dict[str, list[Event]]:
    table = SQLModel.metadata.tables["outcome_events"]
    query = select(
        table.c.customer,
        table.c.day,
        table.c.event,
        table.c.value_change,
        table.c.value,
        table.c.profit,
        table.c.attributes,
    ).order_by(table.c.customer, table.c.occurred_at, table.c.id)
    out: dict[str, list[Event]] = defaultdict(list)
    for customer, day, event, change, value, profit, attributes in conn.execute(query):
        when = day if isinstance(day, date) else date.fromisoformat(str(day))
        out[customer].append(Event(when, event, change, value, profit, attributes or {}))
    return out


MOVED = {
    "joined": "after",
    "reactivated": "after",
    "left": "before",
    "value": "after",
}


def moved(event: str, before: float, after: float) -> float:
    """The money an event moved, as the asset counts it: a new customer's value, a
    leaver's value before leaving, growth, shrinkage, a stated value."""
    if event == "expanded":
        return max(after - before, 0.0)
    if event == "contracted":
        return max(before - after, 0.0)
    return after if MOVED.get(event) == "after" else before
