"""FastAPI dependencies as `Annotated` aliases: one place to see what a route gets."""

from __future__ import annotations

from collections.abc import Iterator
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


def get_session(runtime: RuntimeDep) -> Iterator[Session]:
    with Session(runtime.engine) as session:
        yield session


def get_settings(runtime: RuntimeDep) -> Settings:
    return runtime.settings


def get_journey(runtime: RuntimeDep) -> Journey:
    return runtime.journey


SessionDep = Annotated[Session, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
JourneyDep = Annotated[Journey, Depends(get_journey)]
