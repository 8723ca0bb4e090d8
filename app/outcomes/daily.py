"""The outcomes-daily feed: per (day, event, segment), the events, the money they
moved and the profit stated, the same money the customer asset counts, so a BI
tool's sum over a period equals the asset's figure for it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import numpy as np
from sqlalchemy.engine import Connection

from app.feeds.formats import Column
from app.outcomes.ledger import day_number, ledger
from app.outcomes.records import EVENTS

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
    book = ledger(conn)
    picked = np.ones(len(book.day), dtype=bool)
    if start is not None:
        picked &= book.day >= day_number(start)
    if stop is not None:
        picked &= book.day < day_number(stop)
    at = np.flatnonzero(picked)
    if len(at) == 0:
        return
    running, labels = book.running(group_by)
    cells = np.stack([book.day[at], book.code[at], running[at]], axis=1)
    found, where = np.unique(cells, axis=0, return_inverse=True)
    where = where.reshape(-1)
    count = np.bincount(where, minlength=len(found))
    money = np.bincount(where, weights=book.money[at], minlength=len(found))
    profit = np.bincount(where, weights=np.nan_to_num(book.profit[at]), minlength=len(found))
    out = [
        [date.fromordinal(int(d)), EVENTS[int(e)], labels[int(s)], int(n), round(v, 2), round(p, 2)]
        for (d, e, s), n, v, p in zip(
            found.tolist(), count.tolist(), money.tolist(), profit.tolist(), strict=True
        )
    ]
    out.sort(key=lambda r: (r[0], r[1], r[2]))
    yield from out
