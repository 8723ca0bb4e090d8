"""Alerts: judge the latest days of every stage, keep one alert per episode, queue
its messages, and let people acknowledge it.

`evaluate` is idempotent: judging the same days again (after every sync) updates
the alerts those days fired and fires nothing twice. An alert is resolved once
its measure has been back in range for `resolve_after_days` complete days (the
latest day with data may still be filling, so it never counts as back in range).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, col, select

from app.alerts import delivery, repository
from app.alerts.config import AlertsSpec
from app.alerts.detectors import Finding, negative_surge, nps_drop, phrase_surges, quiet
from app.db_types import utcnow
from app.errors import BadRequestError, NotFoundError
from app.models import Alert
from app.outcomes.pages import has_outcomes
from app.outcomes.said_did import said_versus_did
from app.readmodel.versions import ALERTS_CHANGED, bump
from app.story.repository import Slice, quote_candidates
from nlp.journey import Journey

OPEN = ("open", "acknowledged")
TOUCHPOINT = ""  # the `stage` of a touchpoint's alert: the whole journey, that touchpoint
STATUSES = ("open", "acknowledged", "resolved")


@dataclass(frozen=True, slots=True)
class Evaluation:
    judged: list[date]
    fired: list[Alert]
    resolved: list[Alert]


def _key(stage: str, finding: Finding) -> str:
    return f"{finding.detector}:{stage}:{finding.phrase or ''}"


def findings_for(
    conn: Connection, journey: Journey, spec: AlertsSpec, days: Sequence[date], latest: date
) -> dict[date, dict[str, list[Finding]]]:
    """Every finding of every detector, per judged day and stage."""
    t = spec.thresholds
    start = min(days) - timedelta(days=t.baseline_days + t.nps_window_days)
    series = repository.stage_series(conn, start, max(days))
    out: dict[date, dict[str, list[Finding]]] = {day: {} for day in days}
    for stage in journey.keys:
        mine = series.get(stage, {})
        if not mine:
            continue
        phrases = repository.phrase_series(conn, stage, start, max(days), days=set(days))
        for day in days:
            found: list[Finding] = []
            for finding in (negative_surge(mine, day, t), nps_drop(mine, day, t)):
                if finding is not None:
                    found.append(finding)
            if not found or found[0].detector != "negative_surge":
                # Phrases surging with a surge of complaints are that surge's words
                # (its alert lists them): one alert for one event, not four.
                found.extend(phrase_surges(phrases, day, t)[:3])
            if day < latest:  # a day still filling is not quiet yet
                silent = quiet(mine, day, t)
                if silent is not None:
                    found.append(silent)
            if found:
                out[day][stage] = found
    if t.revenue_at_risk_above is not None and has_outcomes(conn):
        # Judged on the latest day only: the money at risk is a state, not a day's count.
        risk = said_versus_did(
            conn,
            journey,
            start=latest - timedelta(days=t.revenue_window_days - 1),
            stop=latest + timedelta(days=1),
            event="left",
            window_days=t.revenue_window_days,
            min_customers=1,
        )
        for stage_outcome in risk.stages:
            if stage_outcome.revenue_at_risk > t.revenue_at_risk_above:
                out[latest].setdefault(stage_outcome.key, []).append(
                    Finding(
                        detector="revenue_at_risk",
                        measure=f"value of the {stage_outcome.at_risk_customers} customers who "
                        f"complained here in {t.revenue_window_days} days and have not left",
                        value=stage_outcome.revenue_at_risk,
                        baseline=t.revenue_at_risk_above,
                        low=0.0,
                        high=t.revenue_at_risk_above,
                    )
                )
    for attribute in spec.touchpoint_attributes:
        for value, mine in repository.touchpoint_series(conn, attribute, start, max(days)).items():
            for day in days:
                drop = nps_drop(mine, day, t)
                if drop is not None:
                    touchpoint = replace(
                        drop,
                        measure=f"NPS of {attribute} {value}"[:200],
                        phrase=f"{attribute}={value}"[:120],
                    )
                    out[day].setdefault(TOUCHPOINT, []).append(touchpoint)
    return out


def evaluate(
    engine: Engine,
    journey: Journey,
    spec: AlertsSpec,
    *,
    until: date | None = None,
    base_url: str = "",
) -> Evaluation:
    """Judge the `lookback_days` up to `until` (default: the latest day with data)."""
    with Session(engine) as session:
        conn = session.connection()
        latest = until or repository.latest_day(conn)
        if latest is None:
            return Evaluation([], [], [])
        days = [latest - timedelta(days=n) for n in range(spec.lookback_days - 1, -1, -1)]
        found = findings_for(conn, journey, spec, days, latest)
        unresolved = {
            a.key: a for a in session.exec(select(Alert).where(col(Alert.status).in_(OPEN))).all()
        }
        fired: list[Alert] = []
        for day in days:
            for stage, findings in found[day].items():
                for finding in findings:
                    key = _key(stage, finding)
                    alert = unresolved.get(key)
                    if alert is None:
                        alert = _new_alert(session, key, stage, finding, day)
                        unresolved[key] = alert
                        fired.append(alert)
                    elif day >= alert.last_day:
                        _update(alert, finding, day)
                    session.add(alert)
        resolved: list[Alert] = []
        complete = latest - timedelta(days=1)
        for alert in unresolved.values():
            if alert in fired:
                continue
            if (complete - alert.last_day).days >= spec.thresholds.resolve_after_days:
                alert.status = "resolved"
                alert.resolved_at = utcnow()
                session.add(alert)
                resolved.append(alert)
        session.flush()
        delivery.queue(session, spec, fired, base_url)
        bump(session.connection(), ALERTS_CHANGED)
        session.commit()
        for alert in [*fired, *resolved]:
            session.refresh(alert)
    return Evaluation(days, fired, resolved)


def _new_alert(session: Session, key: str, stage: str, finding: Finding, day: date) -> Alert:
    conn = session.connection()
    where = Slice(day_from=day, day_to=day + timedelta(days=1))
    label = (
        "negative" if finding.detector in ("negative_surge", "phrase_surge", "nps_drop") else None
    )
    if stage == TOUCHPOINT:
        label = None  # quotes are sampled per stage; a touchpoint's link shows its voices
    quotes: list[dict[str, Any]] = []
    if label is not None:
        for row in quote_candidates(conn, where, stage=stage, label=label, limit=12):
            if any(q["text"] == row.quote for q in quotes):
                continue  # three voices, not one voice three times
            if finding.phrase is None or finding.phrase.split()[0][:5] in row.quote.lower():
                quotes.append({"item_id": row.item_id, "text": row.quote, "channel": row.channel})
            if len(quotes) == 3:
                break
    alert = Alert(
        key=key,
        detector=finding.detector,
        stage=stage,
        phrase=finding.phrase,
        measure=finding.measure,
        value=finding.value,
        baseline=finding.baseline,
        low=finding.low,
        high=None if finding.high == float("inf") else finding.high,
        fired_day=day,
        last_day=day,
        phrases=repository.top_phrases(conn, stage, day) if stage != TOUCHPOINT else [],
        quotes=quotes,
    )
    return alert


def _update(alert: Alert, finding: Finding, day: date) -> None:
    alert.value, alert.baseline, alert.low = finding.value, finding.baseline, finding.low
    alert.high = None if finding.high == float("inf") else finding.high
    alert.last_day = day


def list_alerts(
    session: Session, *, status: str | None = None, stage: str | None = None, limit: int = 100
) -> list[Alert]:
    if status is not None and status not in STATUSES:
        raise BadRequestError(f"status must be one of {', '.join(STATUSES)}")
    query = select(Alert)
    if status is not None:
        query = query.where(Alert.status == status)
    if stage is not None:
        query = query.where(Alert.stage == stage)
    query = query.order_by(col(Alert.fired_day).desc(), col(Alert.id).desc()).limit(limit)
    return list(session.exec(query).all())


def open_alerts(session: Session, *, stage: str | None = None) -> list[Alert]:
    query = select(Alert).where(col(Alert.status).in_(OPEN))
    if stage is not None:
        query = query.where(Alert.stage == stage)
    return list(session.exec(query.order_by(col(Alert.fired_day).desc())).all())


def get_alert(session: Session, alert_id: int) -> Alert:
    alert = session.get(Alert, alert_id)
    if alert is None:
        raise NotFoundError(f"no alert with id {alert_id}")
    return alert


def acknowledge(session: Session, alert_id: int) -> Alert:
    """An open alert becomes acknowledged (someone is on it); it still resolves by itself."""
    alert = get_alert(session, alert_id)
    if alert.status == "open":
        alert.status = "acknowledged"
        alert.acknowledged_at = utcnow()
        session.add(alert)
        bump(session.connection(), ALERTS_CHANGED)
        session.commit()
        session.refresh(alert)
    return alert
