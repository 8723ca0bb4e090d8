"""What the pages need of an alert, and where they get the open ones.

The pages show open alerts on top of the journey and of each stage page. They
need only these fields of an alert, whatever the alerts package stores:

    title      what fired, in words ("Billing: negative voices 3x the usual")
    stage_key  the journey stage it is about, or None for the whole journey
    severity   e.g. "warning" or "critical" (shown as a word, never colour alone)
    status     "open", "acknowledged" or "resolved"
    fired_on   the day it fired
    url        where to read it (the alert in the API, or its page)

`open_alerts` is the one place the pages ask for them. Until the alerts package
exists it answers an empty list, and the pages say "no open alerts" from that list
(nothing is made up); the alerts package replaces its body with a call to its
service.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Protocol

from sqlmodel import Session


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


def open_alerts(session: Session, *, stage: str | None = None) -> Sequence[AlertRow]:
    """Open alerts, newest first; with `stage`, that stage's only.

    No alerts package yet: none, honestly. (It will answer from its store here.)"""
    del session, stage
    return []
