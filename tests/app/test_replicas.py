"""Two service processes on one PostgreSQL (PostgreSQL only: SQLite runs one
scheduler by design). Real `listening-path serve` processes, a source due every
three seconds: each tick runs once whichever replica leads; kill the leader
(SIGKILL: no goodbye) and the standby takes over the same schedule."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from app.models import SyncRun
from tests.conftest import FIXTURES

INTERVAL = 3.0  # seconds between ticks of the source


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Replica:
    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.port = _free_port()
        self.log = log
        self._out = log.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-c", "from app.cli import main; main()", "serve"],
            env={**env, "LP_PORT": str(self.port)},
            stdout=self._out,
            stderr=subprocess.STDOUT,
        )

    def scheduler(self) -> str | None:
        try:
            answer = httpx.get(f"http://127.0.0.1:{self.port}/health", timeout=2)
        except httpx.HTTPError:
            return None
        return str(answer.json().get("scheduler")) if answer.status_code == 200 else None

    def wait_for(self, state: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            if self.scheduler() == state:
                return
            time.sleep(0.2)
        raise AssertionError(
            f"replica on :{self.port} never became {state!r}; its log:\n"
            + self.log.read_text(errors="replace")[-3000:]
        )

    def kill(self, sig: int) -> None:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            self.process.wait(30)
        self._out.close()


@pytest.fixture
def start_replica(engine: Engine, tmp_path: Path) -> Iterator[Callable[[str], Replica]]:
    """Starts `listening-path serve` processes on the test's database and schema."""
    if engine.dialect.name != "postgresql":
        pytest.skip("replicas share a PostgreSQL; SQLite deployments are one process")
    with engine.connect() as conn:
        schema = conn.execute(text("SELECT current_schema()")).scalar_one()
    url = engine.url.set(query={"options": f"-csearch_path={schema}"})
    sources = tmp_path / "sources.yaml"
    fixture = (FIXTURES / "app" / "sources.yaml").read_text(encoding="utf-8")
    pulse = fixture.split("  - id: field-notes")[0]  # the survey source only
    sources.write_text(
        pulse.replace("{every_minutes: 60}", f"{{every_minutes: {INTERVAL / 60}}}").replace(
            "path: survey/", f"path: {FIXTURES / 'app' / 'survey'}/"
        ),
        encoding="utf-8",
    )
    env = {
        **os.environ,
        "DATABASE_URL": url.render_as_string(hide_password=False),
        "LP_DATABASE_URL": url.render_as_string(hide_password=False),
        "LP_SOURCES_FILE": str(sources),
        "LP_SCHEDULER_ENABLED": "true",
    }
    started: list[Replica] = []

    def start(name: str) -> Replica:
        replica = Replica(env, tmp_path / f"{name}.log")
        started.append(replica)
        return replica

    try:
        yield start
    finally:
        for replica in started:
            replica.kill(signal.SIGKILL)


def _starts(engine: Engine) -> list[datetime]:
    with Session(engine) as session:
        runs = session.exec(select(SyncRun).where(SyncRun.trigger == "schedule")).all()
        return sorted(run.started_at for run in runs)


def test_two_processes_run_each_tick_once_and_the_standby_takes_over(
    start_replica: Callable[[str], Replica], engine: Engine
) -> None:
    first = start_replica("first")
    first.wait_for("running", 120)
    second = start_replica("second")
    second.wait_for("standby", 120)
    time.sleep(4 * INTERVAL)
    before = _starts(engine)
    assert len(before) >= 3  # the source ran on its ticks...
    first.kill(signal.SIGKILL)  # ...the leader dies without a word
    killed_at = time.monotonic()
    second.wait_for("running", 60)
    took_over = time.monotonic() - killed_at
    time.sleep(4 * INTERVAL)
    starts = _starts(engine)
    after = starts[len(before) :]
    assert len(after) >= 3, f"the standby ran nothing after taking over ({took_over:.1f} s)"
    # Once per tick while both live: two replicas running one tick would start within
    # a run's length of each other. After the takeover a tick the dead leader missed
    # runs late on the new leader, and on a loaded machine that can start just before
    # the next regular tick: one run each, counted by the bound below, not a double.
    gaps = [(b - a).total_seconds() for a, b in zip(before, before[1:], strict=False)]
    assert min(gaps) > 0.25, gaps
    assert len(starts) <= len(before) + (took_over + 4 * INTERVAL) / INTERVAL + 2
