"""One outcome record, from a file row or a posted object, checked field by field."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from connectors.values import DEFAULT_DATES

EVENTS: tuple[str, ...] = ("joined", "left", "expanded", "contracted", "reactivated", "value")
"""`value`: a periodic statement of the customer's annual value (and profit)."""
KNOWN = frozenset(
    {"customer", "event", "occurred_at", "value_change", "value", "currency", "profit", "event_id"}
)
MAX_CUSTOMER = 256
MAX_MONEY = 1e12
MAX_ATTRIBUTES = 30


class OutcomeRecordError(ValueError):
    """A record that cannot be imported; the message is the reason kept with it."""


@dataclass(frozen=True, slots=True)
class OutcomeRecord:
    customer: str
    event: str
    occurred_at: datetime
    value_change: float | None = None
    value: float | None = None
    currency: str | None = None
    profit: float | None = None
    event_id: str | None = None
    attributes: dict[str, str | float | int | bool | None] = field(default_factory=dict)

    @property
    def day(self) -> date:
        return self.occurred_at.date()


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    text = str(value).strip()
    return text or None


def _money(row: Mapping[str, Any], name: str) -> float | None:
    raw = row.get(name)
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if isinstance(raw, bool):
        raise OutcomeRecordError(f"{name} must be a number, got {raw!r}")
    try:
        number = (
            float(str(raw).strip().replace(",", "").lstrip("£$€"))
            if isinstance(raw, str)
            else float(raw)
        )
    except ValueError:
        raise OutcomeRecordError(f"{name} must be a number, got {str(raw)[:40]!r}") from None
    if math.isnan(number):
        return None
    if not math.isfinite(number) or abs(number) > MAX_MONEY:
        raise OutcomeRecordError(f"{name} {number!r} is out of range")
    return number


def parse_record(row: Mapping[str, Any]) -> OutcomeRecord:
    """A checked record; `OutcomeRecordError` names the first problem."""
    customer = _text(row.get("customer"))
    if customer is None:
        raise OutcomeRecordError("customer is missing")
    if len(customer) > MAX_CUSTOMER:
        raise OutcomeRecordError(f"customer is longer than {MAX_CUSTOMER} characters")
    event = (_text(row.get("event")) or "").lower()
    if event not in EVENTS:
        raise OutcomeRecordError(
            f"event {str(row.get('event'))[:40]!r} is not one of {', '.join(EVENTS)}"
        )
    try:
        occurred_at = DEFAULT_DATES(row.get("occurred_at"))
    except (ValueError, OverflowError) as exc:
        raise OutcomeRecordError(f"occurred_at: {exc}") from None
    currency = _text(row.get("currency"))
    if currency is not None:
        currency = currency.upper()
        if len(currency) != 3 or not currency.isalpha():
            raise OutcomeRecordError(f"currency {currency[:10]!r} is not a 3-letter code")
    event_id = _text(row.get("event_id"))
    if event_id is not None and len(event_id) > 200:
        raise OutcomeRecordError("event_id is longer than 200 characters")
    attributes: dict[str, str | float | int | bool | None] = {}
    for key, value in row.items():
        if key in KNOWN or not isinstance(key, str) or not key.strip():
            continue
        if len(attributes) >= MAX_ATTRIBUTES:
            break
        if isinstance(value, bool | int | float) and not (
            isinstance(value, float) and not math.isfinite(value)
        ):
            attributes[key.strip()[:64]] = value
        else:
            text = _text(value)
            if text is not None:
                attributes[key.strip()[:64]] = text[:200]
    return OutcomeRecord(
        customer=customer,
        event=event,
        occurred_at=occurred_at,
        value_change=_money(row, "value_change"),
        value=_money(row, "value"),
        currency=currency,
        profit=_money(row, "profit"),
        event_id=event_id,
        attributes=attributes,
    )
