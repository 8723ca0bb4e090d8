"""Jobs run one way and tell listeners after each committed batch (both databases)."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.errors import NotFoundError
from app.jobs import BatchCommitted, Event, JobFinished
from app.models import Item
from app.runtime import Runtime, build_runtime
from app.settings import Settings
from tests.conftest import FIXTURES


@pytest.fixture
def fresh(engine: Engine) -> Runtime:
    settings = Settings(
        database_url=str(engine.url),
        sources_file=FIXTURES / "app" / "sources.yaml",
        scheduler_enabled=False,
    )
    return build_runtime(settings, engine=engine)


def _stored(engine: Engine) -> int:
    with Session(engine) as session:
        return int(session.execute(select(func.count()).select_from(Item)).scalar_one())


def test_a_sync_tells_every_listener_after_each_batch_then_once_at_the_end(
    fresh: Runtime,
) -> None:
    heard: list[Event] = []
    mine: list[Event] = []
    stored_when_told: list[int] = []

    def listener(event: Event) -> None:
        heard.append(event)
        if isinstance(event, BatchCommitted):
            stored_when_told.append(_stored(fresh.engine))  # committed before it is told

    fresh.events.subscribe(listener)
    result = fresh.jobs.sync("pulse-survey", trigger="test", listener=mine.append)
    assert result.status == "succeeded"
    assert heard == mine  # the call's own listener hears what the process-wide one does
    batches = [e for e in heard if isinstance(e, BatchCommitted)]
    assert len(batches) >= 2  # the fixture survey comes in batches of three
    assert all(e.job == "sync" and e.source_id == "pulse-survey" for e in batches)
    read = [e.done for e in batches]
    assert read == sorted(read)
    assert read[-1] == result.fetched
    assert stored_when_told == sorted(stored_when_told)
    assert stored_when_told[-1] == result.inserted
    assert heard[-1] == JobFinished("sync", "pulse-survey", True, result.fetched, None)


def test_a_failing_listener_is_logged_and_the_job_goes_on(
    fresh: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(event: Event) -> None:
        raise RuntimeError("listener bug")

    unsubscribe = fresh.events.subscribe(broken)
    with caplog.at_level(logging.ERROR, logger="app.jobs"):
        result = fresh.jobs.sync("pulse-survey")
    assert result.status == "succeeded"
    assert _stored(fresh.engine) == result.inserted > 0
    assert "listener bug" in caplog.text
    unsubscribe()
    caplog.clear()
    fresh.jobs.rebuild()
    assert "listener bug" not in caplog.text  # removed: no longer told


def test_rebuild_and_reenrich_report_progress_to_the_total(fresh: Runtime) -> None:
    for source_id in fresh.sources:
        fresh.jobs.sync(source_id)
    items = _stored(fresh.engine)
    heard: list[Event] = []
    assert fresh.jobs.rebuild(listener=heard.append) == items
    last = [e for e in heard if isinstance(e, BatchCommitted)][-1]
    assert (last.job, last.done, last.total) == ("rebuild", items, items)
    assert heard[-1] == JobFinished("rebuild", None, True, items)
    heard.clear()
    assert fresh.jobs.reenrich(listener=heard.append) == 0  # all current already
    assert heard == [JobFinished("reenrich", None, True, 0)]


def test_an_undeclared_source_is_named_with_the_declared_ones(fresh: Runtime) -> None:
    with pytest.raises(NotFoundError, match="pulse-survey"):
        fresh.jobs.sync("nope")
