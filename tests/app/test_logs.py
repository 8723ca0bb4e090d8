"""Log lines (both databases where a sync runs): with LP_LOG_FORMAT=json every line
is one JSON object, and the scheduler's line per sync carries the run's counters
as fields."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from app.models import SyncRun
from app.observability.logs import configure_logging, uvicorn_log_config
from app.runtime import build_runtime
from app.scheduler import SourceScheduler
from app.security import logs as safe_logs
from app.settings import Settings
from tests.conftest import FIXTURES


@pytest.fixture
def root_logging() -> Iterator[None]:
    """configure_logging changes the process's root logger: put it back."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    apscheduler = logging.getLogger("apscheduler").level
    names = ("uvicorn", "uvicorn.error", "uvicorn.access")
    uvicorn = {n: (logging.getLogger(n).level, logging.getLogger(n).propagate) for n in names}
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    logging.getLogger("apscheduler").setLevel(apscheduler)
    for name, (was, propagate) in uvicorn.items():
        logging.getLogger(name).setLevel(was)
        logging.getLogger(name).propagate = propagate


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_a_scheduled_sync_logs_one_json_line_with_the_runs_counters(
    engine: Engine, root_logging: None
) -> None:
    settings = Settings(
        database_url=str(engine.url),
        sources_file=FIXTURES / "app" / "sources.yaml",
        scheduler_enabled=False,
        log_format="json",
    )
    runtime = build_runtime(settings, engine=engine)
    stream = io.StringIO()
    configure_logging(settings, stream=stream)
    scheduler = SourceScheduler(runtime.jobs)  # not started: its job, run by hand
    scheduler._run("pulse-survey")
    scheduler._run("pulse-survey")  # again: from the cursor on, nothing new
    logged = lines(stream)  # every line parses
    summaries = [line for line in logged if line["logger"] == "app.scheduler"]
    assert len(summaries) == 2
    with Session(engine) as session:
        runs = {run.id: run for run in session.exec(select(SyncRun)).all()}
    for line in summaries:
        run = runs[line["run"]]
        assert line["level"] == "INFO"
        assert line["source"] == "pulse-survey"
        assert line["message"].startswith("sync pulse-survey succeeded: ")
        counters = ("status", "fetched", "inserted", "duplicates", "rejected", "updated")
        assert {k: line[k] for k in counters} == {k: getattr(run, k) for k in counters}
        assert isinstance(line["seconds"], float)
        assert line["seconds"] >= 0
        assert line["error"] is None
        assert line["time"].endswith("+00:00")
    first, second = summaries
    assert first["inserted"] > 0
    assert first["rejected"] > 0  # the fixture survey has bad rows: they are in the line
    assert (second["fetched"], second["inserted"]) == (0, 0)
    runtime.close()


def test_every_line_is_json_with_extras_access_fields_and_a_safe_exception(
    root_logging: None,
) -> None:
    stream = io.StringIO()
    # As a uvicorn server started earlier in the process at another level leaves them
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
    logging.getLogger("uvicorn.error").propagate = False
    configure_logging(Settings(log_format="json"), stream=stream)
    configure_logging(Settings(log_format="json"), stream=stream)  # replaces, never doubles
    safe_logs.install()
    log = logging.getLogger("app.test")
    log.info("plain %s", "words", extra={"source": "web-form", "count": 3})
    logging.getLogger("uvicorn.access").info(
        '%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET", "/api/v1/story", "1.1", 200
    )
    logging.getLogger("uvicorn.error").info(
        "Started server process [%d]", 7, extra={"color_message": "Started [\x1b[36m%d\x1b[0m]"}
    )
    try:
        raise OSError(2, "No such file or directory", "/home/someone/secret/file.csv")
    except OSError:
        log.exception("reading failed")
    logging.getLogger("apscheduler.scheduler").info("not at INFO")  # quieted as before
    plain, access, started, failure = lines(stream)
    assert plain["message"] == "plain words"
    assert (plain["source"], plain["count"], plain["logger"]) == ("web-form", 3, "app.test")
    assert set(plain) == {"time", "level", "logger", "message", "source", "count"}
    assert access["message"] == '127.0.0.1:5000 - "GET /api/v1/story HTTP/1.1" 200'
    assert (access["method"], access["path"], access["status"]) == ("GET", "/api/v1/story", 200)
    assert "color_message" not in started  # uvicorn's coloured copy stays out
    assert failure["level"] == "ERROR"
    assert "No such file" in failure["message"]
    assert "/home/someone" not in json.dumps(failure)  # app.security.logs still applies


def test_text_stays_the_default_and_keeps_uvicorns_own_config(root_logging: None) -> None:
    stream = io.StringIO()
    configure_logging(Settings(), stream=stream)
    logging.getLogger("app.test").info("hello")
    assert stream.getvalue().rstrip().endswith("INFO app.test: hello")
    assert uvicorn_log_config(Settings()) is not None
    assert uvicorn_log_config(Settings(log_format="json")) is None  # propagate to the root
