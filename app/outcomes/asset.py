"""The customer asset of a period, in whole customers and in money: at the start
and the end, gained, lost, grew, shrank, reactivated, net; per segment on asking,
with the return on customer where profit is given."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from sqlalchemy.engine import Connection

from app.outcomes.timeline import Event, State, load, moved


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


def _walk(events: list[Event], start: date | None, stop: date | None, into: Asset) -> None:
    state = State()
    started = False
    for e in events:
        if stop is not None and e.day >= stop:
            break
        if start is not None and e.day >= start and not started:
            started = True
            if state.active:
                into.customers_start += 1
                into.value_start += state.value
        before, after = state.apply(e)
        if start is not None and e.day < start:
            continue
        started = True
        money = moved(e.event, before, after)
        if e.event == "joined":
            into.gained += 1
            into.value_gained += money
        elif e.event == "left":
            into.lost += 1
            into.value_lost += money
        elif e.event == "reactivated":
            into.reactivated += 1
            into.value_reactivated += money
        elif e.event == "expanded":
            into.grew += 1
            into.value_grew += money
        elif e.event == "contracted":
            into.shrank += 1
            into.value_shrank += money
        if e.profit is not None:
            into.profit += e.profit
            into.profit_known = True
    if not started and state.active:  # every event before the period
        into.customers_start += 1
        into.value_start += state.value
    if state.active:
        into.customers_end += 1
        into.value_end += state.value


def customer_asset(
    conn: Connection, *, start: date | None, stop: date | None, group_by: str | None
) -> tuple[Asset, dict[str, Asset]]:
    """The whole asset and, with `group_by`, one per value of that attribute (the
    customer's latest value of it by the end of the period)."""
    whole = Asset()
    groups: dict[str, Asset] = defaultdict(Asset)
    for events in load(conn).values():
        _walk(events, start, stop, whole)
        if group_by is not None:
            state = State()
            for e in events:
                if stop is not None and e.day >= stop:
                    break
                state.apply(e)
            group = state.attributes.get(group_by)
            _walk(events, start, stop, groups["" if group is None else str(group)])
    return whole, dict(sorted(groups.items()))
