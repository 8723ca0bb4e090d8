"""The access rule of every route, as one FastAPI dependency per scope.

Keys travel in headers only (`Authorization: Bearer KEY` or `X-API-Key: KEY`),
never in a cookie, so a page on another site cannot make a browser send one: a
cross-site form that posts to `/sync` arrives without credentials and is refused.

Read routes are open without a key only while the service listens on loopback
and no key exists (the demo on a laptop), or where `LP_READ_OPEN` says a proxy in
front authenticates readers. Ingest and admin routes always need their key.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request

from app.db_types import utcnow
from app.deps import RuntimeDep, in_session
from app.errors import ForbiddenError, UnauthorizedError
from app.security.keys import (
    ANONYMOUS,
    KEYS,
    Caller,
    Keys,
    is_loopback_host,
    read_keys,
    touch,
)
from app.settings import Settings

HOW = "send it as 'Authorization: Bearer KEY' or 'X-API-Key: KEY'"


def presented_secret(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise UnauthorizedError(f"the Authorization header must be 'Bearer KEY'; {HOW}")
        return token.strip()
    key = request.headers.get("x-api-key")
    return key.strip() if key else None


def require(scope: str) -> Callable[..., Awaitable[Caller]]:
    async def check(request: Request, runtime: RuntimeDep) -> Caller:
        secret = presented_secret(request)
        keys = KEYS.held(runtime.engine, secret)
        if keys is None:
            generation = KEYS.generation
            keys = KEYS.keep(runtime.engine, await in_session(runtime, read_keys), generation)
        caller = _check(scope, secret, keys, runtime.settings)
        now = utcnow()
        if keys.to_touch(caller, now):
            await in_session(runtime, lambda session: touch(session, caller, now))
        request.state.caller = caller
        return caller

    check.__name__ = f"require_{scope}"
    return check


def _check(scope: str, secret: str | None, keys: Keys, settings: Settings) -> Caller:
    if secret is None:
        if scope == "read" and (
            settings.read_open or (is_loopback_host(settings.host) and not keys.any_active)
        ):
            return ANONYMOUS
        always = "" if scope == "read" else f" ({scope} routes need a key even on this machine)"
        raise UnauthorizedError(
            f"this needs an API key with the '{scope}' scope{always}; {HOW}. An admin "
            f"makes one with: listening-path keys create NAME --scope {scope}"
        )
    caller = keys.caller(secret)
    if caller is None:
        raise UnauthorizedError(f"this API key is unknown or revoked; {HOW}")
    if not caller.may(scope):
        granted = ", ".join(sorted(caller.scopes)) or "none"
        raise ForbiddenError(f"{caller.name} has the scopes {granted}; this route needs '{scope}'")
    return caller


read_access = require("read")
ingest_access = require("ingest")
admin_access = require("admin")

ReadAccess = Depends(read_access)
IngestAccess = Depends(ingest_access)
AdminAccess = Depends(admin_access)
AdminDep = Annotated[Caller, AdminAccess]
IngestDep = Annotated[Caller, IngestAccess]
