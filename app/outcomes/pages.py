"""What the leadership pages show of the outcomes: the customer asset band above
the journey, and per stage what those who complained there did next. Nothing when
no outcome is imported (the band would be zeros that mean "not measured")."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlmodel import SQLModel

from app.outcomes.asset import Asset, customer_asset
from app.outcomes.ledger import ledger
from app.outcomes.said_did import SaidDid, said_versus_did
from app.outcomes.voices import voices
from app.readmodel.answers import Answers
from app.readmodel.versions import FACTS_ADDED, FACTS_REMOVED, OUTCOMES_CHANGED, read
from nlp.journey import Journey

log = logging.getLogger(__name__)

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


BANDS: Answers[OutcomesBand | None] = Answers()


def outcomes_band(
    conn: Connection, journey: Journey, *, day_from: date | None, day_to: date | None, anchor: date
) -> OutcomesBand | None:
    """The band, made once per period and state of the data (`app.readmodel.answers`):
    every story and page request asks for it, and at a million voices it costs a
    few hundred ms. Keyed by the voices' and outcomes' change counters, so a request
    after a write sees it."""
    state = read(conn, FACTS_ADDED, FACTS_REMOVED, OUTCOMES_CHANGED)
    period = (
        conn.engine.url.render_as_string(hide_password=True),
        journey,
        day_from,
        day_to,
        anchor,
    )
    return BANDS.get(
        period,
        state,
        lambda: _band(conn, journey, day_from=day_from, day_to=day_to, anchor=anchor),
    )


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


def warm(engine: Engine) -> bool:
    """Read the in-memory copies the band is counted from (the outcome ledger, the
    voices), before the service takes requests: at a million voices that is 20-30 s,
    which the first requests after a start otherwise queue behind (503s under load).
    A replica that is still warming does not listen, so the balancer's health check
    keeps traffic off it. A failure is left to the first request to meet; returns
    whether the copies were read."""
    try:
        with engine.connect() as conn:
            if not has_outcomes(conn):
                return False
            ledger(conn)
            voices(conn)
    except DBAPIError as exc:
        log.warning("outcomes not read ahead at start: %s", exc)
        return False
    return True
