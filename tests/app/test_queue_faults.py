"""Queued syncs under faults, with real `listening-path worker` processes
(PostgreSQL only: the queue lives there).

- A worker SIGKILLed in the middle of a batch: started again, the run ends with
  every record stored once, the cursor at the end of the file.
- PostgreSQL restarted under a running service and worker (a private server in
  a temporary folder, so the shared one is untouched): the API answers 503 with a
  message while it is down, the worker reconnects, the interrupted work is
  retried, nothing is lost or doubled.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.db import make_engine, upgrade_database
from app.models import Item, Source, SyncRun
from app.queue.worker import QUEUE_WORKERS
from tests.app.test_queue import expected_counts, queued_runtime, write_survey

ROWS = 1_500
BATCH = 50
PG_BIN = Path("/usr/lib/postgresql")


class Process:
    """A `listening-path` command in its own process, its output in a log file."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path) -> None:
        self.log = log
        self._out = log.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-c", "from app.cli import main; main()", *args],
            env=env,
            stdout=self._out,
            stderr=subprocess.STDOUT,
        )

    def stop(self, sig: int = signal.SIGKILL) -> None:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            self.process.wait(60)
        self._out.close()

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


def _env(engine: Engine, sources: Path) -> dict[str, str]:
    with engine.connect() as conn:
        schema = conn.execute(text("SELECT current_schema()")).scalar_one()
    url = engine.url.set(query={"options": f"-csearch_path={schema}"})
    rendered = url.render_as_string(hide_password=False)
    return {
        **os.environ,
        "DATABASE_URL": rendered,
        "LP_DATABASE_URL": rendered,
        "LP_SOURCES_FILE": str(sources),
        "LP_QUEUE": "procrastinate",
        "LP_WORKER_HEARTBEAT_SECONDS": "1",
        "LP_SCHEDULER_ENABLED": "false",
        "LP_READ_OPEN": "true",
    }


@pytest.fixture
def processes() -> Iterator[Callable[[list[str], dict[str, str], Path], Process]]:
    started: list[Process] = []

    def start(args: list[str], env: dict[str, str], log: Path) -> Process:
        process = Process(args, env, log)
        started.append(process)
        return process

    try:
        yield start
    finally:
        for process in started:
            process.stop()


def _wait(predicate: Callable[[], bool], timeout: float, what: str, *logs: Process) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except Exception:  # the database may be down on purpose
            pass
        time.sleep(0.2)
    raise AssertionError(
        f"{what} did not happen in {timeout:.0f} s\n" + "\n".join(p.tail() for p in logs)
    )


def _committed(engine: Engine) -> int:
    with engine.connect() as conn:
        value = conn.execute(text("SELECT max(chunks_committed) FROM sync_runs")).scalar()
        return int(value or 0)


def _succeeded(engine: Engine) -> bool:
    with engine.connect() as conn:
        return bool(
            conn.execute(text("SELECT count(*) FROM sync_runs WHERE status = 'succeeded'")).scalar()
        )


def _assert_all_stored_once(engine: Engine, rows: int) -> None:
    counts = expected_counts(rows)
    with Session(engine) as session:
        items = session.execute(select(func.count()).select_from(Item)).scalar_one()
        distinct = session.execute(select(func.count(func.distinct(Item.external_id)))).scalar_one()
        source = session.get(Source, "survey")
        runs = session.execute(select(SyncRun)).scalars().all()
    assert items == counts["inserted"]  # 0 lost
    assert distinct == items  # 0 doubled
    assert source is not None
    assert source.cursor is not None
    state = source.cursor["files"]["responses.csv"]
    assert state["done"] == counts["fetched"]
    assert state["complete"] is True
    # every record inserted once across the runs (a run cut short stored a prefix)
    assert sum(run.inserted for run in runs) == counts["inserted"]


def test_a_worker_killed_mid_batch_loses_and_doubles_nothing(
    pg_engine: Engine,
    tmp_path: Path,
    processes: Callable[[list[str], dict[str, str], Path], Process],
) -> None:
    sources = write_survey(tmp_path, rows=ROWS, batch_size=BATCH)
    env = _env(pg_engine, sources)
    runtime = queued_runtime(pg_engine, sources)
    try:
        assert runtime.queue is not None
        first = processes(["worker"], env, tmp_path / "w1.log")
        second = processes(["worker"], env, tmp_path / "w2.log")
        runtime.queue.sync("survey", trigger="manual")
        _wait(lambda: _committed(pg_engine) >= 5, 180, "five batches stored", first, second)
        first.stop(signal.SIGKILL)  # both its jobs mid-way: no goodbye
        killed_at = _committed(pg_engine)
        third = processes(["worker"], env, tmp_path / "w3.log")  # started again
        _wait(lambda: _succeeded(pg_engine), 300, "a run to succeed", first, second, third)
        assert killed_at < -(-expected_counts(ROWS)["fetched"] // BATCH)  # killed mid-run
        _assert_all_stored_once(pg_engine, ROWS)
        # the killed worker's jobs were found and run again by the others
        assert "running it again" in second.tail() + third.tail()
    finally:
        runtime.close()


# --- PostgreSQL restarted under the service --------------------------------------


def _pg_tools() -> Path | None:
    found = sorted(PG_BIN.glob("*/bin/initdb"))
    return found[-1].parent if found else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PrivateServer:
    """A PostgreSQL server of our own in a temporary folder, to stop and start."""

    def __init__(self, tools: Path, folder: Path) -> None:
        self.tools, self.data, self.port = tools, folder / "pgdata", _free_port()
        self.data.mkdir()
        self._as = [] if os.geteuid() != 0 else ["runuser", "-u", "postgres", "--"]
        if self._as:
            shutil.chown(folder, "postgres")
            shutil.chown(self.data, "postgres")
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")
        self.start()

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run(
            [*self._as, str(self.tools / tool), *args],
            check=True,
            capture_output=True,
            timeout=120,
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 -c fsync=off"
        log = str(self.data.parent / "server.log")  # not our pipe: pg_ctl returns
        self._run("pg_ctl", "-D", str(self.data), "-l", log, "-o", options, "-w", "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"


@pytest.fixture
def private_server() -> Iterator[PrivateServer]:
    if not os.environ.get("TEST_DATABASE_URL"):
        pytest.skip("PostgreSQL tests need TEST_DATABASE_URL")
    tools = _pg_tools()
    if tools is None or (os.geteuid() == 0 and shutil.which("runuser") is None):
        pytest.skip("needs PostgreSQL's server tools (initdb, pg_ctl) to run a private server")
    # not under pytest's own temporary folder: the server's user must reach it
    folder = Path(tempfile.mkdtemp(prefix="lp-test-pg-"))
    try:
        server = PrivateServer(tools, folder)
        try:
            yield server
        finally:
            try:
                server.stop()
            except subprocess.CalledProcessError:
                pass
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_postgresql_restarted_under_the_service_and_a_worker(
    private_server: PrivateServer,
    tmp_path: Path,
    processes: Callable[[list[str], dict[str, str], Path], Process],
) -> None:
    engine = make_engine(private_server.url)
    upgrade_database(engine)
    sources = write_survey(tmp_path, rows=ROWS, batch_size=BATCH)
    port = _free_port()
    env = {**_env(engine, sources), "LP_PORT": str(port)}
    env["DATABASE_URL"] = env["LP_DATABASE_URL"] = private_server.url
    api = processes(["serve"], env, tmp_path / "api.log")
    worker = processes(["worker"], env, tmp_path / "worker.log")
    base = f"http://127.0.0.1:{port}"
    _wait(lambda: httpx.get(f"{base}/health", timeout=2).status_code == 200, 120, "the API", api)
    runtime = queued_runtime(engine, sources)
    try:
        assert runtime.queue is not None
        runtime.queue.sync("survey", trigger="manual")
        _wait(lambda: _committed(engine) >= 3, 180, "three batches stored", worker)
        private_server.stop()  # mid-run
        down = httpx.get(f"{base}/api/v1/story", timeout=30)
        health = httpx.get(f"{base}/health", timeout=30)
        time.sleep(3)  # the worker notices, the service keeps answering
        private_server.start()
        assert down.status_code == 503, down.text
        assert "database is unavailable" in down.json()["detail"]
        assert "Traceback" not in down.text
        assert health.status_code == 503
        assert api.process.poll() is None
        assert worker.process.poll() is None  # reconnects, does not die
        _wait(lambda: _succeeded(engine), 300, "a run to succeed after the restart", worker)
        _assert_all_stored_once(engine, ROWS)
        assert httpx.get(f"{base}/api/v1/story", timeout=30).status_code == 200
    finally:
        runtime.close()
        engine.dispose()


def _registered(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM procrastinate_workers")).scalar() or 0)


def _children(pid: int) -> list[int]:
    """The worker processes a supervisor runs (not multiprocessing's resource tracker)."""
    found = Path(f"/proc/{pid}/task/{pid}/children")
    pids = [int(p) for p in found.read_text().split()] if found.exists() else []
    workers = []
    for child in pids:
        try:
            command = Path(f"/proc/{child}/cmdline").read_bytes()
        except OSError:
            continue
        if b"resource_tracker" not in command:
            workers.append(child)
    return workers


def test_worker_concurrency_runs_processes_and_starts_a_dead_one_again(
    pg_engine: Engine,
    tmp_path: Path,
    processes: Callable[[list[str], dict[str, str], Path], Process],
) -> None:
    if not Path("/proc/self/task").exists():
        pytest.skip("reads child processes from /proc")
    env = _env(pg_engine, write_survey(tmp_path, rows=100, batch_size=50))
    supervisor = processes(["worker", "--concurrency", "2"], env, tmp_path / "w.log")
    _wait(
        lambda: _registered(pg_engine) == 2 * QUEUE_WORKERS, 180, "two worker processes", supervisor
    )
    children = _children(supervisor.process.pid)
    assert len(children) == 2
    os.kill(children[0], signal.SIGKILL)
    _wait(
        lambda: len(set(_children(supervisor.process.pid)) - set(children)) == 1,
        60,
        "the dead worker started again",
        supervisor,
    )
    _wait(
        lambda: _registered(pg_engine) >= 2 * QUEUE_WORKERS, 180, "it joined the queue", supervisor
    )
    supervisor.stop(signal.SIGTERM)  # stops its workers and exits
    assert supervisor.process.returncode == 0, supervisor.tail()
    assert _children(supervisor.process.pid) == []
