"""Many more requests at once than the process has database connections (both
databases, a real uvicorn server): they are all served, in turn. A request waits
for its turn holding nothing, so the requests holding connections always find a
thread for their next step (before, at 25 story/s over 1M items, both services
stalled: every thread waited for a connection, every connection for a thread)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy.engine import Engine

from app.db import make_engine
from app.main import create_app
from app.runtime import build_runtime, pool_options
from app.settings import Settings
from tests.app.helpers import admin_headers, served
from tests.conftest import FIXTURES


@pytest.fixture
def small_service(engine: Engine) -> Iterator[tuple[str, dict[str, str]]]:
    """The fixture sources served with two database connections (one request slot)."""
    settings = Settings(
        database_url=engine.url.render_as_string(hide_password=False),
        sources_file=FIXTURES / "app" / "sources.yaml",
        scheduler_enabled=False,
        db_connections=2,
    )
    small = make_engine(settings.database_url, **pool_options(settings))
    runtime = build_runtime(settings, engine=small)
    for source_id in runtime.sources:
        assert runtime.jobs.sync(source_id).status == "succeeded"
    headers = admin_headers(small, "read")
    try:
        with served(create_app(runtime=runtime, start_scheduler=False)) as base:
            yield base, headers
    finally:
        runtime.close()
        small.dispose()


def test_forty_requests_at_once_on_two_connections_are_all_served(
    small_service: tuple[str, dict[str, str]],
) -> None:
    base, headers = small_service
    paths = ["/api/v1/story", "/api/v1/stages/billing", "/api/v1/items?limit=5"] * 13 + [
        "/api/v1/feeds/stage-daily.csv"
    ]

    async def ask_all() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60) as client:
            return await asyncio.gather(*(client.get(path) for path in paths))

    started = time.monotonic()
    answers = asyncio.run(ask_all())
    took = time.monotonic() - started
    statuses = [answer.status_code for answer in answers]
    assert statuses == [200] * len(paths), [a.text[:200] for a in answers if a.status_code != 200]
    # served in turn, not after time-outs freed the pool (its time-out is 10 s)
    assert took < 10, f"{took:.1f} s"
