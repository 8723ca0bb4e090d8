"""API shapes for sources. Config is shown without anything secret-looking."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import PurePath
from typing import Any, Literal, get_args

from pydantic import BaseModel, Field, SecretStr

from app.models import DuplicateBase, QuarantineBase, SyncRunBase

SECRET_WORDS = ("token", "secret", "password", "key", "auth", "credential")
MASK = "***"
_URL_CREDENTIALS = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/@\s]+@")


def redact_config(config: dict[str, Any], model: type[BaseModel] | None = None) -> dict[str, Any]:
    """A source's config as the API shows it. Secrets never leave the service: a field
    the connector types as a secret (`SecretStr`, at any depth: in nested models and
    lists) is masked, whatever it is called; so is a key that only looks like one
    (a config the model does not know), and credentials written into a URL. Nor do
    the host's paths: an absolute `path` is shown as its last part only."""
    fields = model.model_fields if model is not None else {}
    out: dict[str, Any] = {}
    for key, value in config.items():
        field = fields.get(key)
        annotation = field.annotation if field is not None else None
        if annotation is not None and _holds(annotation, SecretStr):
            out[key] = MASK
        elif field is None and any(word in key.lower() for word in SECRET_WORDS):
            out[key] = MASK
        elif key == "headers" and isinstance(value, dict):
            # A header's value is shown only as where it comes from ({env: NAME}):
            # a literal value may be a credential whatever the header is called.
            out[key] = {
                name: {k: v for k, v in ref.items() if k in ("env", "file")}
                if isinstance(ref, dict)
                else MASK
                for name, ref in value.items()
            }
        elif key == "path" and isinstance(value, str) and _absolute(value):
            out[key] = ".../" + PurePath(value.replace("\\", "/")).name
        else:
            out[key] = _shown(value, _model_in(annotation))
    return out


def _shown(value: Any, model: type[BaseModel] | None) -> Any:
    if isinstance(value, dict):
        return redact_config(value, model)
    if isinstance(value, list):
        return [_shown(v, model) for v in value]
    if isinstance(value, str):
        return _URL_CREDENTIALS.sub(lambda m: f"{m.group(1)}{MASK}@", value)
    return value


def _holds(annotation: Any, kind: type) -> bool:
    """Whether a field's type is `kind`, or contains it (`X | None`, `list[X]`...)."""
    if annotation is kind:
        return True
    return any(_holds(arg, kind) for arg in get_args(annotation))


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model a field holds (itself, in a list, or optional), if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


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
