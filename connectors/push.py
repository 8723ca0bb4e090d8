"""`push`: records posted to the service (web forms, webhooks), not pulled.

The app's endpoint (`POST /api/v1/sources/{id}/items`) hands the posted JSON to
`PushConnector.accept`, which validates each record on its own and returns one
`Batch` (stored like any other, in one transaction) plus a result per record, so
the answer can say which were accepted and why the others were not. A record's
`id` is its external id: posting the same records again stores nothing twice.
`fetch` yields nothing: there is nothing to pull.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from connectors.contract import (
    AttributeValue,
    Batch,
    Connector,
    ConnectorConfig,
    Cursor,
    RawItem,
    RejectedRecord,
)
from connectors.errors import BatchTooLargeError
from connectors.parsing import excerpt
from connectors.values import StageHints, parse_timestamp


class PushConfig(ConnectorConfig):
    """Config of a `push` source."""

    max_records: int = Field(
        default=500,
        ge=1,
        le=10_000,
        description="Most records one POST may carry; a larger batch is refused whole "
        "(HTTP 413) so the sender splits it.",
    )
    rating_scale: str | None = Field(
        default=None,
        description="Scale of a record's `rating` when the record names none (e.g. "
        "`csat_1_5`); a rating with no scale at all is refused.",
    )
    channel: str = Field(
        default="web",
        min_length=1,
        description="Channel of the items (e.g. `web`, `chat`, `email`).",
    )
    stage_values: dict[str, str] = Field(
        default_factory=dict,
        description="A record's `topic` (any case) → journey stage key, e.g. "
        '`{"Billing question": billing}`; a record\'s own `stage` wins.',
    )

    @field_validator("stage_values")
    @classmethod
    def _stage_values(cls, value: dict[str, str]) -> dict[str, str]:
        StageHints.normalise(value)
        return value


Scalar = str | int | float | bool | None


class PushRecord(BaseModel):
    """One posted record. `id` and `text` are required; `occurred_at` defaults to the
    time it was received."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id: str | int = Field(description="The record's own id, unique in the source.")
    text: str = Field(min_length=1, description="What the customer wrote.")
    occurred_at: str | None = Field(default=None, description="ISO 8601; default: now.")
    author: str | None = Field(default=None, description="A customer reference.")
    rating: float | None = Field(default=None, description="A score, with `rating_scale`.")
    rating_scale: str | None = Field(default=None, description="The score's scale.")
    stage: str | None = Field(default=None, description="A journey stage key (a hint).")
    topic: str | None = Field(default=None, description="Looked up in `stage_values`.")
    attributes: dict[str, Scalar] = Field(default_factory=dict)

    @field_validator("id")
    @classmethod
    def _id(cls, value: str | int) -> str | int:
        if isinstance(value, str) and not value.strip():
            raise ValueError("id is empty")
        return value

    @field_validator("rating")
    @classmethod
    def _finite(cls, value: float | None) -> float | None:
        if value is not None and not math.isfinite(value):
            raise ValueError("rating is not a finite number")
        return value


@dataclass(frozen=True, slots=True)
class RecordResult:
    """What became of one posted record (`index`: its place in the batch, from 0)."""

    index: int
    status: Literal["accepted", "rejected"]
    external_id: str | None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class PushResult:
    batch: Batch
    results: list[RecordResult]


class PushConnector(Connector[PushConfig]):
    """Records posted to `POST /api/v1/sources/{id}/items` by web forms and webhooks.

    Each record is `{id, text, occurred_at?, author?, rating?, rating_scale?, stage?,
    topic?, attributes?}`; a bad record is refused on its own (quarantined, with the
    reason in the answer) and the others are kept. External id: the record's `id`.
    """

    kind: ClassVar[str] = "push"
    channel: ClassVar[str] = "web"
    config_model: ClassVar[type[PushConfig]] = PushConfig
    capabilities: ClassVar[frozenset[str]] = frozenset({"push"})

    def fetch(self, cursor: Cursor | None) -> Iterator[Batch]:  # noqa: ARG002
        return iter(())

    def accept(self, records: object, *, received_at: datetime | None = None) -> PushResult:
        """Validate a posted batch (a JSON array, or `{"items": [...]}`).

        Raises `BatchTooLargeError` past `max_records` and `TypeError` when the
        body is not a list of records at all.
        """
        if isinstance(records, dict) and "items" in records:
            records = records["items"]
        if not isinstance(records, Sequence) or isinstance(records, str | bytes):
            raise TypeError('expected a JSON array of records (or {"items": [...]})')
        if len(records) > self.config.max_records:
            raise BatchTooLargeError(
                f"{len(records)} records in one batch; this source takes at most "
                f"{self.config.max_records} (max_records): send them in smaller batches"
            )
        now = (received_at or datetime.now(UTC)).astimezone(UTC)
        hints = StageHints(self.config.stage_values, active=bool(self.config.stage_values))
        items: list[RawItem] = []
        rejected: list[RejectedRecord] = []
        results: list[RecordResult] = []
        for index, raw in enumerate(records):
            out = self._record(raw, index, now, hints)
            if isinstance(out, RawItem):
                items.append(out)
                results.append(RecordResult(index, "accepted", out.external_id))
            else:
                rejected.append(out)
                results.append(RecordResult(index, "rejected", out.external_id, out.reason))
        return PushResult(Batch(items, rejected, {}), results)

    def _record(
        self, raw: Any, index: int, now: datetime, hints: StageHints
    ) -> RawItem | RejectedRecord:
        where = f"record {index}"
        raw_id = raw.get("id") if isinstance(raw, dict) else None
        shown_id = str(raw_id) if isinstance(raw_id, str | int) and str(raw_id).strip() else None
        try:
            record = PushRecord.model_validate(raw)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or 'record'}: {err['msg']}"
                for err in exc.errors()
            )
            return RejectedRecord(problems, excerpt(raw), shown_id, where)
        external_id = str(record.id).strip()
        try:
            occurred_at = parse_timestamp(record.occurred_at) if record.occurred_at else now
        except ValueError as exc:
            return RejectedRecord(f"{exc} in `occurred_at`", excerpt(raw), external_id, where)
        scale = record.rating_scale or self.config.rating_scale
        if record.rating is not None and scale is None:
            return RejectedRecord(
                "a rating without a rating_scale (name it in the record, or set the "
                "source's rating_scale)",
                excerpt(raw),
                external_id,
                where,
            )
        hint = hints.lookup(record.topic)
        attributes: dict[str, AttributeValue] = dict(record.attributes)
        if record.topic is not None:
            attributes["topic"] = record.topic
        return RawItem(
            external_id=external_id,
            text=record.text,
            occurred_at=occurred_at,
            rating=record.rating,
            rating_scale=scale if record.rating is not None else None,
            author_ref=record.author or None,
            stage_hint=record.stage or hint.stage,
            hint_value=hint.value,
            channel=self.config.channel,
            attributes=attributes,
        )
