"""The outcomes-daily feed: per (day, event, segment), the events, the money they
moved and the profit stated, the same money the customer asset counts, so a BI
tool's sum over a period equals the asset's figure for it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import date
from typing import Any

from sqlalchemy.engine import Connection

from app.feeds.formats import Column
from app.outcomes.timeline import State, load, moved

COLUMNS = [
    Column("day", "date", "UTC day of the events"),
    Column("event", "str", "joined, left, expanded, contracted, reactivated or value"),
    Column("segment", "str", "the customer's group_by attribute (default: segment); '' unknown"),
    Column("events", "int", "events that day (a customer counts once per event)"),
    Column(
        "value",
        "float",
        "money moved: a joiner's value, a leaver's value before, growth, "
        "shrinkage, a stated value (the customer asset's figures)",
    ),
    Column("profit", "float", "profit stated on those events"),
]


def rows(
    conn: Connection, *, start: date | None, stop: date | None, group_by: str
) -> Iterator[list[Any]]:
    sums: dict[tuple[date, str, str], list[float]] = defaultdict(lambda: [0, 0.0, 0.0])
    for events in load(conn).values():
        state = State()
        for e in events:
            if stop is not None and e.day >= stop:
                break
            before, after = state.apply(e)
            if start is not None and e.day < start:
                continue
            segment = state.attributes.get(group_by)
            cell = sums[(e.day, e.event, "" if segment is None else str(segment))]
            cell[0] += 1
            cell[1] += moved(e.event, before, after)
            cell[2] += e.profit or 0.0
    for (day, event, segment), (count, value, profit) in sorted(sums.items()):
        yield [day, event, segment, int(count), round(value, 2), round(profit, 2)]
