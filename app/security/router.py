"""Keys and the audit log, for admins."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from app.deps import SessionDep
from app.models import ApiKey
from app.params import MAX_ID
from app.security import audit, keys
from app.security.access import AdminDep

router = APIRouter(prefix="/api/v1", tags=["access"])


class KeyPublic(BaseModel):
    id: int
    name: str
    prefix: str = Field(description="the secret's first characters, to tell keys apart")
    scopes: list[str]
    created_at: datetime
    created_by: str
    last_used_at: datetime | None = Field(description="to the minute")
    revoked_at: datetime | None

    @classmethod
    def of(cls, key: ApiKey) -> KeyPublic:
        return cls.model_validate(key, from_attributes=True)


class KeyCreate(BaseModel):
    name: str = Field(min_length=1, max_length=keys.MAX_NAME, pattern=r"^[^\x00-\x1f\x7f]+$")
    scopes: list[Literal["read", "ingest", "admin"]] = Field(min_length=1, max_length=3)


class KeyCreated(KeyPublic):
    secret: str = Field(description="shown this once: it is kept only as a hash")


class AuditPublic(BaseModel):
    id: int
    at: datetime
    actor: str
    action: str
    target: str | None
    detail: dict[str, object]


@router.get("/keys", response_model=list[KeyPublic], summary="The API keys (never their secrets)")
def list_keys(session: SessionDep, _: AdminDep) -> list[KeyPublic]:
    return [KeyPublic.of(k) for k in keys.list_keys(session)]


@router.post("/keys", response_model=KeyCreated, status_code=201, summary="Make an API key")
def create_key(body: KeyCreate, session: SessionDep, caller: AdminDep) -> KeyCreated:
    key, secret = keys.create_key(
        session, name=body.name, scopes=list(body.scopes), created_by=caller.actor
    )
    audit.record(
        session,
        actor=caller.actor,
        action="key.create",
        target=f"{key.name} ({key.prefix})",
        detail={"scopes": key.scopes},
    )
    return KeyCreated(**KeyPublic.of(key).model_dump(), secret=secret)


@router.delete("/keys/{key_ref}", response_model=KeyPublic, summary="Revoke an API key")
def revoke_key(
    key_ref: Annotated[str, Path(max_length=64, description="the key's id or prefix")],
    session: SessionDep,
    caller: AdminDep,
) -> KeyPublic:
    key = keys.revoke_key(session, key_ref)
    audit.record(
        session, actor=caller.actor, action="key.revoke", target=f"{key.name} ({key.prefix})"
    )
    return KeyPublic.of(key)


@router.get("/audit", response_model=list[AuditPublic], summary="The audit log, newest first")
def audit_log(
    session: SessionDep,
    _: AdminDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    before_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> list[AuditPublic]:
    return [
        AuditPublic.model_validate(e, from_attributes=True)
        for e in audit.entries(session, limit=limit, before_id=before_id)
    ]
