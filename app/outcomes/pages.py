"""What the leadership pages show of the outcomes: the customer asset band above
the journey, and per stage what those who complained there did next. Nothing when
no outcome is imported (the band would be zeros that mean "not measured")."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

from app.outcomes.asset import Asset, customer_asset
from app.outcomes.said_did import SaidDid, said_versus_did
from app.readmodel.versions import FACTS_ADDED, FACTS_REMOVED, OUTCOMES_CHANGED, read
from nlp.journey import Journey

WINDOW_DAYS = 90
MIN_CUSTOMERS = 30


@dataclass(frozen=True, slots=True)
class OutcomesBand:
    day_from: date
    day_to: date  # exclusive
    asset: Asset
    said_did: SaidDid


def has_outcomes(conn: Connection) -> bool:
    table = SQLModel.metadata.tables["outcome_events"]
    return conn.execute(select(table.c.id).limit(1)).first() is not None


_BANDS: OrderedDict[tuple[Any, ...], OutcomesBand | None] = OrderedDict()
_BANDS_KEPT = 32
_GUARD = threading.Lock()
_MAKING: dict[tuple[Any, ...], threading.Lock] = {}
_LATEST: OrderedDict[tuple[Any, ...], tuple[tuple[int, ...], OutcomesBand | None]] = OrderedDict()


def outcomes_band(
    conn: Connection, journey: Journey, *, day_from: date | None, day_to: date | None, anchor: date
) -> OutcomesBand | None:
    """The band, computed once per period and state of the data: every story and
    page request asks for it, and at a million voices it costs a few hundred ms.
    Keyed by the voices' and outcomes' change counters (bumped in the writing
    transactions), so a request after a write sees it. While one request computes
    a newer band for the period, the others get the one before instead of waiting:
    under a stream of pushes (each a new state) they would otherwise queue behind
    a band that is stale again by the time it is made, each holding a connection."""
    version = read(conn, FACTS_ADDED, FACTS_REMOVED, OUTCOMES_CHANGED)
    period = (
        conn.engine.url.render_as_string(hide_password=True),
        journey,
        day_from,
        day_to,
        anchor,
    )
    key = (*period, version)
    with _GUARD:
        if key in _BANDS:
            _BANDS.move_to_end(key)
            return _BANDS[key]
        making = _MAKING.setdefault(period, threading.Lock())
        previous = _LATEST.get(period)
    if previous is not None:  # made for another state of the data
        if not making.acquire(blocking=False):
            return previous[1]  # one newer is being made: this one, a moment old
    else:
        making.acquire()
    try:
        with _GUARD:
            if key in _BANDS:
                return _BANDS[key]
        band = _band(conn, journey, day_from=day_from, day_to=day_to, anchor=anchor)
        with _GUARD:
            _BANDS[key] = band
            while len(_BANDS) > _BANDS_KEPT:
                _BANDS.popitem(last=False)
            _LATEST[period] = (version, band)
            _LATEST.move_to_end(period)
            while len(_LATEST) > _BANDS_KEPT:
                _LATEST.popitem(last=False)
    finally:
        making.release()
        with _GUARD:  # forget the locks of periods no longer kept (any may be asked)
            for gone in [
                p for p, lock in _MAKING.items() if p not in _LATEST and not lock.locked()
            ]:
                del _MAKING[gone]
    return band


def _band(
    conn: Connection, journey: Journey, *, day_from: date | None, day_to: date | None, anchor: date
) -> OutcomesBand | None:
    if not has_outcomes(conn):
        return None
    stop = day_to or anchor + timedelta(days=1)
    start = day_from or stop - timedelta(days=WINDOW_DAYS)
    asset, _ = customer_asset(conn, start=start, stop=stop, group_by=None)
    found = said_versus_did(
        conn,
        journey,
        start=start,
        stop=stop,
        event="left",
        window_days=WINDOW_DAYS,
        min_customers=MIN_CUSTOMERS,
    )
    return OutcomesBand(start, stop, asset, found)
