"""API keys: made with a secret shown once, kept as its SHA-256, granted scopes.

A key is `lp_` and 43 URL-safe characters (256 random bits), so a hash without
salt or stretching is enough: nobody guesses such a secret from its digest, and
looking a key up by its digest costs one index probe per request.
"""

from __future__ import annotations

import hashlib
import ipaddress
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from app.db_types import utcnow
from app.errors import BadRequestError, NotFoundError
from app.models import ApiKey

SCOPES: tuple[str, ...] = ("read", "ingest", "admin")
"""`read`: story, items, feeds, pages, alerts. `ingest`: the push endpoint.
`admin`: everything, including sources, syncs, keys, deletion and the audit log."""

SECRET_PREFIX = "lp_"
MAX_NAME = 80
_TOUCH_EVERY = timedelta(minutes=1)  # last_used_at is a hint, not a write per request


@dataclass(frozen=True, slots=True)
class Caller:
    """Who a request comes from: a key, or nobody (an open read on loopback)."""

    key_id: int | None
    name: str
    scopes: frozenset[str]

    @property
    def actor(self) -> str:
        return self.name

    def may(self, scope: str) -> bool:
        return "admin" in self.scopes or scope in self.scopes


ANONYMOUS = Caller(key_id=None, name="anonymous (open read)", scopes=frozenset({"read"}))


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def check_scopes(scopes: list[str]) -> list[str]:
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown or not scopes:
        raise BadRequestError(
            f"scopes must be some of {', '.join(SCOPES)}"
            + (f"; unknown: {', '.join(unknown)}" if unknown else "")
        )
    return [s for s in SCOPES if s in scopes]


def create_key(
    session: Session, *, name: str, scopes: list[str], created_by: str
) -> tuple[ApiKey, str]:
    """A new key and its secret (the only time the secret exists outside the caller)."""
    name = name.strip()
    if not name or len(name) > MAX_NAME:
        raise BadRequestError(f"a key's name is 1 to {MAX_NAME} characters")
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(
        name=name,
        prefix=secret[:10],
        secret_hash=digest(secret),
        scopes=check_scopes(scopes),
        created_by=created_by[:120],
    )
    session.add(key)
    session.commit()
    session.refresh(key)
    return key, secret


def list_keys(session: Session) -> list[ApiKey]:
    return list(session.exec(select(ApiKey).order_by(col(ApiKey.id))).all())


def revoke_key(session: Session, key_ref: str) -> ApiKey:
    """Revoke by id or by prefix; revoking twice is not an error."""
    query = select(ApiKey)
    query = (
        query.where(ApiKey.id == int(key_ref))
        if key_ref.isdigit() and len(key_ref) < 10
        else query.where(ApiKey.prefix == key_ref)
    )
    key = session.exec(query).first()
    if key is None:
        raise NotFoundError(f"no API key {key_ref!r} (give its id or its prefix, lp_...)")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        session.add(key)
        session.commit()
        session.refresh(key)
    return key


def any_active_key(session: Session) -> bool:
    found = session.exec(select(ApiKey.id).where(col(ApiKey.revoked_at).is_(None)).limit(1))
    return found.first() is not None


def authenticate(session: Session, secret: str) -> Caller | None:
    """The caller a secret stands for; None for an unknown or revoked one."""
    if not secret.startswith(SECRET_PREFIX) or len(secret) > 200:
        return None
    key = session.exec(select(ApiKey).where(ApiKey.secret_hash == digest(secret))).first()
    if key is None or key.revoked_at is not None:
        return None
    now = utcnow()
    if key.last_used_at is None or now - key.last_used_at > _TOUCH_EVERY:
        session.execute(update(ApiKey).where(col(ApiKey.id) == key.id).values(last_used_at=now))
        session.commit()
    return Caller(
        key_id=key.id, name=f"key:{key.name} ({key.prefix})", scopes=frozenset(key.scopes)
    )


def is_loopback_host(host: str) -> bool:
    """Whether binding to `host` keeps the service on this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
