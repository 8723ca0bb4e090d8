"""API shapes for sources. Config is shown without anything secret-looking."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

SECRET_WORDS = ("token", "secret", "password", "key", "auth", "credential")


def redact_config(config: dict[str, Any]) -> dict[str, Any]:
    """Connector secrets never leave the service: mask any key that looks like one."""
    out: dict[str, Any] = {}
    for key, value in config.items():
        if any(word in key.lower() for word in SECRET_WORDS):
            out[key] = "***"
        elif isinstance(value, dict):
            out[key] = redact_config(value)
        else:
            out[key] = value
    return out


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


class SyncRunPublic(BaseModel):
    id: int
    source: str
    trigger: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    fetched: int
    inserted: int
    duplicates: int
    rejected: int
    ignored_hints: int
    error: str | None


class QuarantinePublic(BaseModel):
    id: int
    source: str
    run_id: int | None
    external_id: str | None
    location: str | None
    reason: str
    excerpt: str
    created_at: datetime
