"""API shapes for sources. Config is shown without anything secret-looking."""

from __future__ import annotations

from datetime import datetime
from pathlib import PurePath
from typing import Any, Literal

from pydantic import BaseModel, Field

from app.models import DuplicateBase, QuarantineBase, SyncRunBase

SECRET_WORDS = ("token", "secret", "password", "key", "auth", "credential")


def redact_config(config: dict[str, Any]) -> dict[str, Any]:
    """Connector secrets never leave the service: mask any key that looks like one.
    Nor do the host's paths: an absolute `path` is shown as its last part only."""
    out: dict[str, Any] = {}
    for key, value in config.items():
        if any(word in key.lower() for word in SECRET_WORDS):
            out[key] = "***"
        elif key == "headers" and isinstance(value, dict):
            # A header's value is shown only as where it comes from ({env: NAME}):
            # a literal value may be a credential whatever the header is called.
            out[key] = {
                name: {k: v for k, v in ref.items() if k in ("env", "file")}
                if isinstance(ref, dict)
                else "***"
                for name, ref in value.items()
            }
        elif key == "path" and isinstance(value, str) and _absolute(value):
            out[key] = ".../" + PurePath(value.replace("\\", "/")).name
        elif isinstance(value, dict):
            out[key] = redact_config(value)
        else:
            out[key] = value
    return out


def _absolute(path: str) -> bool:
    return path.startswith(("/", "~", "\\")) or (len(path) > 2 and path[1:3] in (":/", ":\\"))


class SourcePublic(BaseModel):
    id: str
    name: str
    kind: str
    channel: str
    enabled: bool
    schedule: dict[str, Any]
    config: dict[str, Any]
    status: str
    last_run_at: datetime | None
    last_error: str | None
    next_run_at: datetime | None


class RejectReasonPublic(BaseModel):
    reason: str = Field(description="one reject's reason, as an example of its kind")
    count: int = Field(description="rejects of this kind in the run")


class SyncRunPublic(SyncRunBase):
    id: int
    source: str
    started_at: datetime
    reject_reasons: list[RejectReasonPublic] = Field(
        description="the commonest kinds of reject, most frequent first"
    )


class DuplicatePublic(DuplicateBase):
    id: int
    rule: Literal["external_id", "content"] = Field(
        description="external_id: this record is stored already; content: its known author "
        "said the same words on the same day in this source"
    )


class SyncRunDetail(SyncRunPublic):
    duplicate_records: list[DuplicatePublic] = Field(
        description=f"the first {100} duplicates; page on with `duplicates_next`"
    )
    duplicates_next: str | None = Field(
        description="URL of the next page of duplicates, or null when all are listed"
    )


class DuplicatePage(BaseModel):
    duplicates: list[DuplicatePublic]
    next: str | None


class QuarantinePublic(QuarantineBase):
    id: int
    source: str


class PushedRecord(BaseModel):
    index: int = Field(description="the record's place in the posted batch, from 0")
    external_id: str | None
    status: Literal["inserted", "updated", "duplicate", "rejected"] = Field(
        description="inserted; updated (the id was stored with other content); duplicate "
        "(stored already: posting again is safe); rejected (quarantined, see reason)"
    )
    reason: str | None = None


class PushResponse(BaseModel):
    run: SyncRunPublic
    records: list[PushedRecord]
