"""The customer asset of a period, in whole customers and in money: at the start
and the end, gained, lost, grew, shrank, reactivated, net; per segment on asking,
with the return on customer where profit is given."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
from sqlalchemy.engine import Connection

from app.outcomes.ledger import CODE, Bools, Floats, Ints, Ledger, day_number, ledger


@dataclass(slots=True)
class Asset:
    customers_start: int = 0
    customers_end: int = 0
    gained: int = 0
    lost: int = 0
    grew: int = 0
    shrank: int = 0
    reactivated: int = 0
    value_start: float = 0.0
    value_end: float = 0.0
    value_gained: float = 0.0
    value_lost: float = 0.0
    value_grew: float = 0.0
    value_shrank: float = 0.0
    value_reactivated: float = 0.0
    profit: float = 0.0
    profit_known: bool = False

    @property
    def net(self) -> int:
        return self.customers_end - self.customers_start

    @property
    def value_net(self) -> float:
        return self.value_end - self.value_start

    @property
    def return_on_customer(self) -> float | None:
        """(profit in the period + change in customer value) / value at the start."""
        if not self.profit_known or self.value_start <= 0:
            return None
        return (self.profit + self.value_net) / self.value_start


_COUNTED = {  # event -> (count field, money field) of the asset
    "joined": ("gained", "value_gained"),
    "left": ("lost", "value_lost"),
    "reactivated": ("reactivated", "value_reactivated"),
    "expanded": ("grew", "value_grew"),
    "contracted": ("shrank", "value_shrank"),
}


def customer_asset(
    conn: Connection, *, start: date | None, stop: date | None, group_by: str | None
) -> tuple[Asset, dict[str, Asset]]:
    """The whole asset and, with `group_by`, one per value of that attribute (the
    customer's latest value of it by the end of the period)."""
    book = ledger(conn)
    first = None if start is None else day_number(start)
    last = None if stop is None else day_number(stop)
    everyone = np.arange(book.size, dtype=np.int64)
    at_start = book.last_before(everyone, first) if first is not None else None
    at_end = book.last_before(everyone, last)
    in_period = np.ones(len(book.day), dtype=bool)
    if first is not None:
        in_period &= book.day >= first
    if last is not None:
        in_period &= book.day < last
    if group_by is None:
        group = np.zeros(book.size, dtype=np.int64)
        labels = [""]
    else:
        running, labels = book.running(group_by)
        group = np.where(at_end >= 0, running[np.where(at_end >= 0, at_end, 0)], -1)
    whole = _sum(book, np.zeros(book.size, dtype=np.int64), 1, at_start, at_end, in_period)[0]
    if group_by is None:
        return whole, {}
    per = _sum(book, group, len(labels), at_start, at_end, in_period)
    seen = np.zeros(len(labels), dtype=bool)
    seen[group[group >= 0]] = True
    return whole, dict(sorted((labels[g], per[g]) for g in np.flatnonzero(seen).tolist()))


def _sum(
    book: Ledger,
    group: Ints,
    groups: int,
    at_start: Ints | None,
    at_end: Ints,
    in_period: Bools,
) -> list[Asset]:
    """Per group code (customers of group -1 count nowhere), the asset's figures."""
    out = [Asset() for _ in range(groups)]

    def per_group(picked: Ints, weights: Floats | None = None) -> list[float]:
        g = group[picked]
        keep = g >= 0
        w = None if weights is None else weights[keep]
        return np.bincount(g[keep], weights=w, minlength=groups).tolist()  # type: ignore[no-any-return]

    def standing(at: Ints) -> tuple[list[float], list[float]]:
        known = at >= 0
        safe = np.where(known, at, 0)
        on = known & book.active[safe]
        who = np.flatnonzero(on)
        return per_group(who), per_group(who, book.value_after[safe][on])

    if at_start is not None:
        counts, values = standing(at_start)
        for a, c, v in zip(out, counts, values, strict=True):
            a.customers_start, a.value_start = int(c), v
    counts, values = standing(at_end)
    for a, c, v in zip(out, counts, values, strict=True):
        a.customers_end, a.value_end = int(c), v
    period = np.flatnonzero(in_period)
    owners = book.customer[period]
    for event, (count_field, money_field) in _COUNTED.items():
        mask = book.code[period] == CODE[event]
        counts = per_group(owners[mask])
        money = per_group(owners[mask], book.money[period][mask])
        for a, c, m in zip(out, counts, money, strict=True):
            setattr(a, count_field, int(c))
            setattr(a, money_field, m)
    stated = ~np.isnan(book.profit[period])
    profit = per_group(owners[stated], book.profit[period][stated])
    known = per_group(owners[stated])
    for a, p, k in zip(out, profit, known, strict=True):
        a.profit, a.profit_known = p, k > 0
    return out
