"""A batch as a job's arguments (JSON), and back.

A queued batch travels inside its job row, so the worker that enriches it needs
neither the source's file nor its API: whatever the kind, the batch is read once,
by the sync that queued it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from connectors.base import Batch, RawItem, RejectedRecord

_ITEM_FIELDS = (
    "external_id",
    "text",
    "occurred_at",
    "rating",
    "rating_scale",
    "author_ref",
    "stage_hint",
    "channel",
    "attributes",
    "hint_value",
)
_REJECT_FIELDS = ("reason", "excerpt", "external_id", "location")


def encode_batch(batch: Batch) -> dict[str, Any]:
    """Items and rejects as rows of values (half the bytes of one object each)."""
    items = []
    for item in batch.items:
        row: list[Any] = [getattr(item, name) for name in _ITEM_FIELDS]
        row[2] = item.occurred_at.isoformat()
        items.append(row)
    rejected = [[getattr(r, name) for name in _REJECT_FIELDS] for r in batch.rejected]
    return {"items": items, "rejected": rejected, "cursor": batch.cursor}


def decode_batch(payload: dict[str, Any]) -> Batch:
    items = []
    for row in payload["items"]:
        values = dict(zip(_ITEM_FIELDS, row, strict=True))
        values["occurred_at"] = datetime.fromisoformat(values["occurred_at"])
        items.append(RawItem(**values))
    rejected = [
        RejectedRecord(**dict(zip(_REJECT_FIELDS, row, strict=True))) for row in payload["rejected"]
    ]
    return Batch(items, rejected, payload["cursor"])
