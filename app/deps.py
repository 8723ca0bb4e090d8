"""FastAPI dependencies as `Annotated` aliases: one place to see what a route gets."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator, Callable
from typing import Annotated, TypeVar

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from sqlmodel import Session

from app.errors import ServiceBusyError
from app.runtime import Runtime
from app.settings import Settings
from nlp.journey import Journey

T = TypeVar("T")


async def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


GATE_WAIT_SECONDS = 10.0
_GATES: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
    weakref.WeakKeyDictionary()
)


def request_slots(runtime: Runtime) -> int:
    """Requests that may touch the database at once in this process: half its
    connections, as a request may hold two (its session, and a route's own
    connection for a feed or a write)."""
    return max(1, runtime.settings.db_connections // 2)


def _gate(runtime: Runtime) -> asyncio.Semaphore:
    loop = asyncio.get_running_loop()
    gate = _GATES.get(loop)
    if gate is None:
        gate = _GATES[loop] = asyncio.Semaphore(request_slots(runtime))
    return gate


async def _let_in(runtime: Runtime) -> asyncio.Semaphore:
    gate = _gate(runtime)
    try:
        await asyncio.wait_for(gate.acquire(), timeout=GATE_WAIT_SECONDS)
    except TimeoutError:
        raise ServiceBusyError(
            f"the service is busy: no request slot came free in {GATE_WAIT_SECONDS:.0f} s; "
            "try again"
        ) from None
    return gate


async def get_session(runtime: RuntimeDep) -> AsyncIterator[Session]:
    """A session per request, once the request is let in (`request_slots`).

    The wait to be let in is on the event loop, holding nothing. Without it, under
    load every worker thread could be taken by requests waiting for a connection,
    while the requests holding the connections wait for a thread for their next
    step (a dependency, the route, its response's validation): services idle,
    every request timing out (measured: 25 story/s at 1M items, both services
    stalled). Async on purpose too: its closing (the connection back to the pool)
    then runs on the event loop, needing no thread."""
    gate = await _let_in(runtime)
    session = Session(runtime.engine)
    try:
        yield session
    finally:
        session.close()
        gate.release()


async def in_session(runtime: Runtime, work: Callable[[Session], T]) -> T:
    """`work` on a session of its own, let in like a request and run on a worker
    thread: for a dependency that needs the database only now and then."""
    gate = await _let_in(runtime)
    try:

        def run() -> T:
            with Session(runtime.engine) as session:
                return work(session)

        return await run_in_threadpool(run)
    finally:
        gate.release()


async def get_settings(runtime: RuntimeDep) -> Settings:
    return runtime.settings


async def get_journey(runtime: RuntimeDep) -> Journey:
    return runtime.journey


SessionDep = Annotated[Session, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
JourneyDep = Annotated[Journey, Depends(get_journey)]
