"""API shapes for alerts and their delivery log."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field

from app.alerts import delivery
from app.models import Alert


class AlertQuote(BaseModel):
    item_id: int
    text: str
    channel: str


class AlertPhrase(BaseModel):
    phrase: str
    count: int = Field(description="voices of the stage saying it that day")
    negative: int


class AlertPublic(BaseModel):
    id: int
    detector: str = Field(description="negative_surge, phrase_surge, nps_drop or quiet")
    stage: str
    phrase: str | None = Field(description="the surging phrase (phrase_surge)")
    status: str = Field(description="open, acknowledged or resolved")
    measure: str = Field(description="what was measured, in words")
    value: float = Field(description="the day's value")
    baseline: float = Field(description="what the stage's normal range expected")
    low: float
    high: float | None = Field(description="the top of the normal range; null: none (quiet)")
    fired_day: date = Field(description="the first day out of range")
    last_day: date = Field(description="the latest day out of range")
    top_phrases: list[AlertPhrase]
    quotes: list[AlertQuote]
    link: str = Field(description="the stage page for the days it covers")
    fired_at: datetime
    acknowledged_at: datetime | None
    resolved_at: datetime | None

    @classmethod
    def of(cls, alert: Alert) -> AlertPublic:
        assert alert.id is not None
        return cls(
            id=alert.id,
            detector=alert.detector,
            stage=alert.stage,
            phrase=alert.phrase,
            status=alert.status,
            measure=alert.measure,
            value=alert.value,
            baseline=alert.baseline,
            low=alert.low,
            high=alert.high,
            fired_day=alert.fired_day,
            last_day=alert.last_day,
            top_phrases=[AlertPhrase.model_validate(p) for p in alert.phrases],
            quotes=[AlertQuote.model_validate(q) for q in alert.quotes],
            link=delivery.page_path(alert),
            fired_at=alert.fired_at,
            acknowledged_at=alert.acknowledged_at,
            resolved_at=alert.resolved_at,
        )


class DeliveryPublic(BaseModel):
    id: int
    webhook: str
    format: str = Field(description="slack or cloudevents")
    alert_ids: list[int]
    status: str = Field(description="pending, sent or failed")
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    response_status: int | None
    created_at: datetime
    sent_at: datetime | None
    payload: dict[str, Any]
