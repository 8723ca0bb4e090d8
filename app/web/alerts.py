"""What the pages need of an alert, and where they get the open ones.

The pages show open alerts on top of the journey and of each stage page. They
need only these fields of an alert, whatever the alerts package stores:

    title      what fired, in words ("Billing: negative voices 3x the usual")
    stage_key  the journey stage it is about, or None for the whole journey
    severity   e.g. "warning" or "critical" (shown as a word, never colour alone)
    status     "open", "acknowledged" or "resolved"
    fired_on   the day it fired
    url        where to read it (the alert in the API, or its page)

`open_alerts` is the one place the pages ask for them: the alerts service's open
and acknowledged alerts (app.alerts.service), read as rows of this shape.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from sqlmodel import Session

from app.alerts import service
from app.alerts.delivery import page_path
from app.models import Alert


class AlertRow(Protocol):
    """An alert as a page shows it (read-only attributes)."""

    @property
    def title(self) -> str: ...
    @property
    def stage_key(self) -> str | None: ...
    @property
    def severity(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def fired_on(self) -> date: ...
    @property
    def url(self) -> str: ...


@dataclass(frozen=True, slots=True)
class _Shown:
    title: str
    stage_key: str | None
    severity: str
    status: str
    fired_on: date
    url: str


SEVERITY = {
    "negative_surge": "surge of complaints",
    "phrase_surge": "phrase surging",
    "nps_drop": "NPS drop",
    "quiet": "stage gone quiet",
    "revenue_at_risk": "revenue at risk",
}


def shown(alert: Alert, stage_names: dict[str, str] | None = None) -> _Shown:
    name = (stage_names or {}).get(alert.stage, alert.stage)
    expected = (
        f"threshold {alert.baseline:,.0f}"
        if alert.detector == "revenue_at_risk"
        else f"normal about {alert.baseline:g}"
    )
    return _Shown(
        title=f"{name}: {alert.measure} {alert.value:g} ({expected})",
        stage_key=alert.stage,
        severity=SEVERITY.get(alert.detector, alert.detector),
        status=alert.status,
        fired_on=alert.fired_day,
        url=page_path(alert),
    )


def open_alerts(
    session: Session, *, stage: str | None = None, stage_names: dict[str, str] | None = None
) -> Sequence[AlertRow]:
    """Open (and acknowledged) alerts, newest first; with `stage`, that stage's only."""
    return [shown(a, stage_names) for a in service.open_alerts(session, stage=stage)]
