"""Each customer's timeline compiled for questions asked many times per request:
the state at a day, and the first event of a kind after a day, by bisection
instead of a walk. Built once per version of the outcomes table, with the
timelines it is made from (`timeline.load`)."""

from __future__ import annotations

import threading
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy.engine import Connection

from app.outcomes.timeline import Event, State, load


@dataclass(frozen=True, slots=True)
class Compiled:
    days: tuple[date, ...]  # every event's day, in order
    active: tuple[bool, ...]  # the state after each event
    value: tuple[float, ...]
    by_event: dict[str, tuple[tuple[date, ...], tuple[int, ...]]]  # kind -> (days, positions)

    @classmethod
    def of(cls, events: list[Event]) -> Compiled:
        state = State()
        active: list[bool] = []
        value: list[float] = []
        kinds: dict[str, tuple[list[date], list[int]]] = {}
        for i, e in enumerate(events):
            state.apply(e)
            active.append(state.active)
            value.append(state.value)
            days, positions = kinds.setdefault(e.event, ([], []))
            days.append(e.day)
            positions.append(i)
        return cls(
            days=tuple(e.day for e in events),
            active=tuple(active),
            value=tuple(value),
            by_event={k: (tuple(d), tuple(p)) for k, (d, p) in kinds.items()},
        )

    def state_at(self, day: date) -> tuple[bool, float]:
        """Active, and value, at the start of `day` (events before it)."""
        i = bisect_left(self.days, day) - 1
        return (self.active[i], self.value[i]) if i >= 0 else (False, 0.0)

    def event_after(self, kind: str, anchor: date, window: int) -> tuple[bool, float, float]:
        """Whether `kind` happened in (anchor, anchor + window], and the money it
        moved down and up (value before minus after, after minus before)."""
        found = self.by_event.get(kind)
        if found is None:
            return False, 0.0, 0.0
        days, positions = found
        k = bisect_right(days, anchor)
        if k == len(days) or days[k] > anchor + timedelta(days=window):
            return False, 0.0, 0.0
        i = positions[k]
        before = self.value[i - 1] if i > 0 else 0.0
        after = self.value[i]
        return True, max(before - after, 0.0), max(after - before, 0.0)


_LOCK = threading.Lock()
_BUILT: list[tuple[dict[str, list[Event]], dict[str, Compiled]]] = []


def customer_index(conn: Connection) -> dict[str, Compiled]:
    """The index of the timelines `load` gives now: the timelines object itself is
    the key (a new one per table version), held here so its identity cannot be
    reused by another."""
    timelines = load(conn)
    with _LOCK:
        for source, built in _BUILT:
            if source is timelines:
                return built
    built = {customer: Compiled.of(events) for customer, events in timelines.items()}
    with _LOCK:
        _BUILT[:] = [(timelines, built)]  # one version at a time
    return built
