"""API keys: made with a secret shown once, kept as its SHA-256, granted scopes.

A key is `lp_` and 43 URL-safe characters (256 random bits), so a hash without
salt or stretching is enough: nobody guesses such a secret from its digest.

Requests are checked against the key table as this process last read it
(`KeyTable`), not with a query each: under load the lookup and its session were
a database round trip and a connection slot per request. The table is read again
when it is `FRESH_SECONDS` old, at once when this process makes or revokes a key,
and when a secret it does not know arrives (a key just made on another replica).
So a key revoked on another replica or with the CLI stops working there within
`FRESH_SECONDS`.
"""

from __future__ import annotations

import hashlib
import ipaddress
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.engine import Engine
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
FRESH_SECONDS = 2.0
"""How old the key table may be before a request reads it again."""
MISS_RELOAD_SECONDS = 0.25
"""An unknown secret reads the table again only if it is older than this, so a
stream of made-up keys costs at most a few reads a second."""


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
    KEYS.forget(session.get_bind())
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
    KEYS.forget(session.get_bind())
    return key


def any_active_key(session: Session) -> bool:
    found = session.exec(select(ApiKey.id).where(col(ApiKey.revoked_at).is_(None)).limit(1))
    return found.first() is not None


@dataclass(slots=True)
class Keys:
    """The key table as read at `read_at` (a `time.monotonic()`): the callers by
    digest, with revoked keys as None, and each key's last recorded use."""

    by_digest: dict[str, Caller | None]
    last_used: dict[int, datetime | None]
    read_at: float

    @property
    def any_active(self) -> bool:
        return any(caller is not None for caller in self.by_digest.values())

    def caller(self, secret: str) -> Caller | None:
        """The caller a secret stands for; None for an unknown or revoked one."""
        if not secret.startswith(SECRET_PREFIX) or len(secret) > 200:
            return None
        return self.by_digest.get(digest(secret))

    def to_touch(self, caller: Caller, now: datetime) -> bool:
        """Whether the key's last use is worth a write (once a minute at most); if
        so it counts as written."""
        if caller.key_id is None:
            return False
        last = self.last_used.get(caller.key_id)
        if last is not None and now - last <= _TOUCH_EVERY:
            return False
        self.last_used[caller.key_id] = now
        return True


def read_keys(session: Session) -> Keys:
    by_digest: dict[str, Caller | None] = {}
    last_used: dict[int, datetime | None] = {}
    for key in session.exec(select(ApiKey)).all():
        assert key.id is not None
        by_digest[key.secret_hash] = (
            None
            if key.revoked_at is not None
            else Caller(
                key_id=key.id, name=f"key:{key.name} ({key.prefix})", scopes=frozenset(key.scopes)
            )
        )
        last_used[key.id] = key.last_used_at
    return Keys(by_digest=by_digest, last_used=last_used, read_at=time.monotonic())


def touch(session: Session, caller: Caller, now: datetime) -> None:
    session.execute(update(ApiKey).where(col(ApiKey.id) == caller.key_id).values(last_used_at=now))
    session.commit()


class KeyTable:
    """Each database's key table as this process last read it."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._read: dict[str, Keys] = {}
        self._forgotten = 0

    def held(self, engine: Engine, secret: str | None) -> Keys | None:
        """The table, if a request with this secret may be checked against it
        without reading it again; None if it must be read first (then `keep` it)."""
        with self._guard:
            keys = self._read.get(_name(engine))
        now = time.monotonic()
        if keys is None or now - keys.read_at >= FRESH_SECONDS:
            return None
        if secret is not None and digest(secret) not in keys.by_digest:
            return None if now - keys.read_at >= MISS_RELOAD_SECONDS else keys
        return keys

    @property
    def generation(self) -> int:
        """Taken before a read, given to `keep`: a table read while this process
        made or revoked a key is used once, not kept."""
        with self._guard:
            return self._forgotten

    def keep(self, engine: Engine, keys: Keys, generation: int) -> Keys:
        with self._guard:
            if generation != self._forgotten:
                return keys
            held = self._read.get(_name(engine))
            if held is not None:
                for key_id, used in held.last_used.items():  # touches written since
                    known = keys.last_used.get(key_id)
                    if key_id in keys.last_used and used is not None:
                        keys.last_used[key_id] = used if known is None else max(known, used)
            self._read[_name(engine)] = keys
            return keys

    def forget(self, bind: object = None) -> None:
        """Read the table again on the next request: a key made or revoked in this
        process, or (with no engine) the tables emptied under it, as tests do."""
        with self._guard:
            self._forgotten += 1
            if isinstance(bind, Engine):
                self._read.pop(_name(bind), None)
            else:
                self._read.clear()


def _name(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


KEYS = KeyTable()


def is_loopback_host(host: str) -> bool:
    """Whether binding to `host` keeps the service on this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
