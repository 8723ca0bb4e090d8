"""What the store accepts, on top of what each connector checks: one place for the
rules every source obeys, so no connector can forget one.

A record that breaks a rule is quarantined with the reason; it never reaches the
NLP or the story.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from app.customers.pseudonyms import Pseudonyms
from app.scales import Scales
from connectors.base import RawItem

MAX_TEXT_CHARS = 50_000
MAX_EXTERNAL_ID_CHARS = 512
MAX_AUTHOR_CHARS = 256
DEFAULT_OCCURRED_AFTER = date(1990, 1, 1)
DEFAULT_FUTURE_TOLERANCE = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class IngestPolicy:
    """`occurred_after` / `future_tolerance`: the window of believable dates (a year
    9999 sorts first in every newest-first list; a year 1 is an export's null)."""

    scales: Scales = field(default_factory=Scales)
    occurred_after: date = DEFAULT_OCCURRED_AFTER
    future_tolerance: timedelta = DEFAULT_FUTURE_TOLERANCE
    pseudonyms: Pseudonyms | None = None  # customer references that are personal data

    def customer_refs(self, ref: str) -> list[str]:
        """The stored forms of a customer reference (for erasure and filters)."""
        return self.pseudonyms.refs(ref) if self.pseudonyms is not None else [ref]

    def reject_reason(self, item: RawItem, *, now: datetime) -> str | None:
        if not item.external_id or len(item.external_id) > MAX_EXTERNAL_ID_CHARS:
            return f"external id is empty or longer than {MAX_EXTERNAL_ID_CHARS} characters"
        if not item.text or not item.text.strip():
            return "text is empty"
        if len(item.text) > MAX_TEXT_CHARS:
            return f"text is {len(item.text)} characters; the limit is {MAX_TEXT_CHARS}"
        if item.author_ref is not None and len(item.author_ref) > MAX_AUTHOR_CHARS:
            return f"author reference is longer than {MAX_AUTHOR_CHARS} characters"
        if item.occurred_at.tzinfo is None:
            return "occurred_at has no time zone"
        earliest = datetime.combine(self.occurred_after, time.min, tzinfo=UTC)
        latest = now + self.future_tolerance
        try:
            moment = item.occurred_at.astimezone(UTC)
        except OverflowError:
            return f"date {item.occurred_at.isoformat()} cannot be converted to UTC"
        if not earliest <= moment <= latest:
            return (
                f"date {moment.isoformat()} is outside the accepted window "
                f"{earliest.date().isoformat()} to now + {_days(self.future_tolerance)} "
                "(LP_OCCURRED_AFTER, LP_FUTURE_TOLERANCE_DAYS)"
            )
        return self.scales.problem(item.rating, item.rating_scale)


def _days(delta: timedelta) -> str:
    days = delta.total_seconds() / 86_400
    shown = int(days) if days.is_integer() else round(days, 2)
    return f"{shown} day" + ("" if shown == 1 else "s")
