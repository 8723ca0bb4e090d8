"""FastAPI dependencies as `Annotated` aliases: one place to see what a route gets."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlmodel import Session

from app.runtime import Runtime
from app.settings import Settings
from nlp.journey import Journey


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def get_session(runtime: RuntimeDep) -> AsyncIterator[Session]:
    """A session per request. Async on purpose: its closing (the connection back to
    the pool) then runs on the event loop. A sync dependency's exit needs a thread
    from the pool the routes run in, and under load every thread could be waiting
    for a connection that only such an exit would give back (measured: services
    idle, every request timing out)."""
    session = Session(runtime.engine)
    try:
        yield session
    finally:
        session.close()


def get_settings(runtime: RuntimeDep) -> Settings:
    return runtime.settings


def get_journey(runtime: RuntimeDep) -> Journey:
    return runtime.journey


SessionDep = Annotated[Session, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
JourneyDep = Annotated[Journey, Depends(get_journey)]
