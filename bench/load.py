"""Held under load: the story, a stage page, items and a feed at rising request rates
while the push endpoint ingests, against two API processes.

    python bench/load.py [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/test]
                         [--items 1000000] [--schema NAME] [--keep]
                         [--rates 25,50,100,200,400] [--seconds 30] [--warmup 10]
                         [--mix stage=0.2,items=0.1,feed=0.02] [--push-batch 100]
                         [--push-every 1.0] [--read-open] [--poisson] [--client raw|httpx]
                         [--stop-p99 5000] [--services 2] [--connections 512] [--timeout 60]

Data: bench/story.py's corpus (N survey answers over eight months, the same seed and
dates) through the product's own ingest (`build_runtime` + `jobs.sync`: connector,
NLP, store, read model) into a fresh PostgreSQL schema (dropped at the end unless
`--keep`), or an SQLite file (default: one in a temporary folder; a given file that
already holds items is measured as it is). `--schema NAME` measures a kept schema
again without filling it: filling 1,000,000 items takes tens of minutes.

Service: two `listening-path serve` processes (`serve` has no worker option), each
on a free loopback port, `LP_SCHEDULER_ENABLED=false`, the schema given in
DATABASE_URL as a libpq option (`?options=-csearch_path%3DNAME`). Requests go to
them in turn. Reads carry a `read` key (made for the run, revoked at the end;
`--read-open` sets LP_READ_OPEN and sends none); pushes an `ingest` key, to a
`kind: push` source declared beside the survey.

Load: open loop. Every request has a scheduled send time (even spacing at the
stage's rate, or `--poisson` arrivals) and its latency is counted from that time,
not from when the client got round to sending it, so a service (or client) that
falls behind shows it as latency: no coordinated omission. Each stage offers the
story at one rate of `--rates` and the other endpoints at `--mix` times that rate;
the stage's requests are waited for before the next stage starts. Through all of
it, a background task posts `--push-batch` records every `--push-every` seconds
(also open loop: a push that takes longer than the interval overlaps the next),
dated within the last day of the corpus so they land in the period being read.

Per stage and endpoint: offered rate, achieved rate (answered 2xx over the time
from the stage's start to its last answer), p50/p99/max ms, errors (non-2xx and
exceptions); the CPU used in the stage by the client itself, the two services,
(PostgreSQL) their database backends and the whole machine, in % of one core, and
how late the client sent (its own lag, inside the latencies). Rising stops after a
stage whose story p99 passes `--stop-p99` or with over 10% errors. At the end: the
errors seen, the services' logged tracebacks, and each service's peak RSS (VmHWM).
`kill -USR1 PID` makes a service write every thread's stack to its log.

The client (`--client raw`, the default) is a lean HTTP/1.1 keep-alive client on
asyncio streams: httpx.AsyncClient (`--client httpx`) costs about 5x the client CPU
per request on this machine and cannot itself send 400 requests/s.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as `python bench/load.py`, this file's folder comes first on sys.path and
# bench/connectors.py would hide the `connectors` package: put the project root there.
_HERE = Path(__file__).resolve().parent
ROOT = _HERE.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(ROOT))

import argparse  # noqa: E402
import asyncio  # noqa: E402
import contextlib  # noqa: E402
import importlib.util  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from collections import Counter  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from contextlib import contextmanager  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from datetime import UTC, date, datetime, timedelta  # noqa: E402
from types import ModuleType  # noqa: E402
from typing import Protocol  # noqa: E402
from urllib.parse import urlencode  # noqa: E402

import httpx  # noqa: E402
from sqlalchemy import func, select, text  # noqa: E402
from sqlalchemy.engine import Engine, make_url  # noqa: E402


def _load(name: str) -> ModuleType:
    """A sibling bench module, by path (bench/ itself stays off sys.path)."""
    spec = importlib.util.spec_from_file_location(f"bench_{name}", _HERE / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_story = _load("story")  # the corpus, its sources.yaml, free_port, peak_rss_mb
CLAUSES: dict[str, list[str]] = _story.CLAUSES
FILLER: list[str] = _story.FILLER
STAGES = list(CLAUSES)
SURVEY = "bench-survey"
PUSH = "bench-push"
PUSH_SOURCE = f"""  - id: {PUSH}
    name: Bench web form (push)
    kind: push
    config:
      max_records: 1000
      rating_scale: nps_0_10
"""
# `listening-path serve`, with `kill -USR1 PID` writing every thread's stack to the
# service's log (where a stalled service waits).
SERVE = (
    "import faulthandler, signal; faulthandler.register(signal.SIGUSR1, all_threads=True); "
    "from app.cli import main; main()"
)
APP_NAME = "lp-load"  # application_name of the services' database sessions
ENDPOINTS = ("story", "stage page", "items", "feed", "push")
CLK_TCK = os.sysconf("SC_CLK_TCK")
CORES = os.cpu_count() or 1


# --- the database -----------------------------------------------------------------


def service_url(url: str, schema: str | None) -> str:
    """DATABASE_URL for the services: on PostgreSQL the schema as a libpq option in
    the URL (`options=-csearch_path=NAME`, URL-escaped), and an application_name so
    their backends can be told from other sessions'."""
    if schema is None:
        return url
    query = {"options": f"-csearch_path={schema}", "application_name": APP_NAME}
    return make_url(url).update_query_dict(query).render_as_string(hide_password=False)


def write_sources(folder: Path) -> Path:
    sources = folder / "sources.yaml"
    sources.write_text(_story.SOURCES + PUSH_SOURCE, encoding="utf-8")
    csv_file = folder / "responses.csv"
    if not csv_file.exists():  # a kept schema: nothing to read, the source stays declared
        csv_file.write_text("response_id,submitted_at,customer_id,score,touchpoint,answer\n")
    return sources


def fill(url: str, folder: Path, n: int) -> int:
    """N answers through the product's ingest, as bench/story.py loads them."""
    from app.jobs import BatchCommitted, Event
    from app.runtime import build_runtime
    from app.settings import Settings

    started = time.perf_counter()
    _story.generate(folder / "responses.csv", n)
    print(f"generated {n:,} survey answers in {time.perf_counter() - started:.1f} s")
    settings = Settings(
        database_url=url, sources_file=write_sources(folder), scheduler_enabled=False
    )
    runtime = build_runtime(settings)
    step = max(10_000, n // 10)
    shown = [0]

    def progress(event: Event) -> None:
        if isinstance(event, BatchCommitted) and event.done >= shown[0] + step:
            shown[0] = event.done
            rate = event.done / (time.perf_counter() - started)
            print(f"  ... {event.done:,} items ({rate:,.0f} items/s)", flush=True)

    try:
        started = time.perf_counter()
        result = runtime.jobs.sync(SURVEY, trigger="bench", listener=progress)
        assert result.status == "succeeded", result.error
        seconds = time.perf_counter() - started
        print(
            f"filled {result.inserted:,} items in {seconds:.0f} s "
            f"({result.inserted / seconds:,.0f} items/s, read model included)"
        )
        return result.inserted
    finally:
        runtime.close()


def stored(engine: Engine) -> tuple[int, datetime | None, str | None]:
    """Items stored; the newest survey answer's moment (the periods end on its day) and
    its external id (each service must show the same newest answer)."""
    from sqlmodel import col

    from app.models import Item

    with engine.connect() as conn:
        count = conn.execute(select(func.count()).select_from(Item)).scalar_one()
        newest = conn.execute(
            select(col(Item.occurred_at), col(Item.external_id))
            .where(col(Item.source_id) == SURVEY)
            .order_by(col(Item.occurred_at).desc(), col(Item.id).desc())
            .limit(1)
        ).first()
    if newest is None:
        return int(count), None, None
    moment = newest[0] if newest[0].tzinfo else newest[0].replace(tzinfo=UTC)
    return int(count), moment, str(newest[1])


def check_services(services: list[Service], headers: dict[str, str], newest_id: str) -> None:
    """Each service reads this run's data (the search path in its URL took effect):
    its newest survey answer is the one the bench sees."""
    with httpx.Client(timeout=60, headers=headers) as client:
        for service in services:
            answer = client.get(
                f"{service.base}/api/v1/items", params={"source": SURVEY, "limit": "1"}
            )
            answer.raise_for_status()
            shown = [i["external_id"] for i in answer.json()["items"]]
            if shown != [newest_id]:
                raise SystemExit(
                    f"{service.base} shows {shown} as its newest survey answer, not "
                    f"[{newest_id!r}]: not this run's database"
                )


@contextmanager
def run_keys(engine: Engine) -> Iterator[tuple[str, str]]:
    """A `read` and an `ingest` key for this run (as `listening-path keys create`
    makes them), revoked at the end."""
    from sqlmodel import Session

    from app.security import audit, keys

    made = []
    with Session(engine) as session:
        for scope in ("read", "ingest"):
            key, secret = keys.create_key(
                session, name=f"bench-load-{scope}", scopes=[scope], created_by=audit.CLI
            )
            made.append((key.id, secret))
    try:
        yield made[0][1], made[1][1]
    finally:
        with Session(engine) as session:
            for key_id, _ in made:
                keys.revoke_key(session, str(key_id))


# --- the services -------------------------------------------------------------------


@dataclass
class Service:
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def start_services(
    count: int, url: str, sources: Path, folder: Path, read_open: bool
) -> list[Service]:
    services = []
    for i in range(count):
        port = _story.free_port()
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),  # this checkout, not the editable install's
            "DATABASE_URL": url,
            "LP_SOURCES_FILE": str(sources),
            "LP_SCHEDULER_ENABLED": "false",
            "LP_HOST": "127.0.0.1",
            "LP_PORT": str(port),
            "LP_READ_OPEN": "true" if read_open else "false",
        }
        env.pop("PGOPTIONS", None)
        log = folder / f"service-{i + 1}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-c", SERVE, "serve"],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        services.append(Service(process, port, log))
    deadline = time.monotonic() + 300
    with httpx.Client(timeout=10) as client:
        for service in services:
            while True:
                if service.process.poll() is not None:
                    tail = service.log.read_text(errors="replace")[-3000:]
                    raise SystemExit(f"a service exited at start:\n{tail}")
                try:
                    answer = client.get(f"{service.base}/health")
                    if answer.status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise SystemExit(f"no /health from {service.base} in 300 s")
                time.sleep(0.5)
    return services


def stop_services(services: list[Service]) -> None:
    for service in services:
        if service.process.poll() is None:
            service.process.terminate()
    for service in services:
        try:
            service.process.wait(30)
        except subprocess.TimeoutExpired:
            service.process.kill()
            service.process.wait(10)


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (all its threads), in seconds; 0 once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def machine_busy() -> float:
    """CPU seconds the whole machine has been busy (every core, every process:
    /proc/stat's first line less idle and iowait)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / CLK_TCK


class CpuMeter:
    """CPU used since a mark: by the services (their processes), by their PostgreSQL
    backends (found by application_name in pg_stat_activity, when the server runs on
    this machine) and by the whole machine. The pool opens and closes backends as
    it goes, so a thread samples them every half second: a backend's CPU counts up
    to its last sample, one opened after the mark from zero."""

    def __init__(self, pids: list[int], admin: Engine | None) -> None:
        self.pids = pids
        self.admin = admin
        self.seen: dict[int, float] = {}
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="backend-cpu", daemon=True)
        if admin is not None:
            self.thread.start()

    def _loop(self) -> None:
        while not self.stop.wait(0.5):
            with contextlib.suppress(Exception):  # a missed sample: the next one counts
                self._sample()

    def _sample(self) -> None:
        if self.admin is None:
            return
        with self.admin.connect() as conn:
            rows = conn.execute(
                text("SELECT pid FROM pg_stat_activity WHERE application_name = :name"),
                {"name": APP_NAME},
            ).all()
        cpu = {int(r[0]): cpu_seconds(int(r[0])) for r in rows}
        with self.lock:
            for pid, used in cpu.items():
                self.seen[pid] = max(self.seen.get(pid, 0.0), used)

    def mark(self) -> tuple[float, dict[int, float], float]:
        self._sample()
        with self.lock:
            backends = dict(self.seen)
        return sum(cpu_seconds(p) for p in self.pids), backends, machine_busy()

    def since(
        self, mark: tuple[float, dict[int, float], float]
    ) -> tuple[float, float | None, float]:
        services, backends, machine = mark
        self._sample()
        with self.lock:
            db = sum(used - backends.get(pid, 0.0) for pid, used in self.seen.items())
        return (
            sum(cpu_seconds(p) for p in self.pids) - services,
            db if self.admin is not None else None,
            machine_busy() - machine,
        )

    def close(self) -> None:
        self.stop.set()
        if self.thread.is_alive():
            self.thread.join(5)


# --- the load -----------------------------------------------------------------------


@dataclass
class Shot:
    endpoint: str
    stage: int
    due: float  # scheduled send time (perf_counter)
    started: float = 0.0
    done: float = 0.0
    status: int = 0  # 0: an exception, no answer
    error: str = ""
    records: int = 0  # push: records sent
    kept: int = 0  # push: records the answer says were inserted
    note: str = ""  # push: the first record not inserted, and why

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def ms(self) -> float:
        return (self.done - self.due) * 1000


@dataclass
class Stage:
    label: str
    rate: float
    start: float = 0.0
    end: float = 0.0  # its last answer (or the planned end, whichever is later)
    client_cpu: float = 0.0
    service_cpu: float = 0.0
    db_cpu: float | None = None
    machine_cpu: float = 0.0


@dataclass
class Call:
    method: str
    path: str
    params: dict[str, str]
    headers: dict[str, str]
    body: bytes | None = None
    records: int = 0  # a push: the records in the body


class Transport(Protocol):
    async def request(self, call: Call) -> tuple[int, bytes]: ...

    async def aclose(self) -> None: ...


class HttpxHTTP:
    """httpx.AsyncClient, HTTP/1.1 keep-alive. Measured on this 2-core machine against a
    no-op ASGI app: about 2.5-3 ms of client CPU per request, and at 400 requests/s
    its connection pool falls behind on its own (httpcore's pool bookkeeping grows
    with the connections and requests queued: encode/httpcore#1035)."""

    def __init__(self, port: int, connections: int, timeout: float) -> None:
        self.client = httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}",
            limits=httpx.Limits(
                max_connections=connections,
                max_keepalive_connections=connections,
                keepalive_expiry=4,
            ),
            timeout=httpx.Timeout(timeout),
        )

    async def request(self, call: Call) -> tuple[int, bytes]:
        answer = await self.client.request(
            call.method, call.path, params=call.params, headers=call.headers, content=call.body
        )
        return answer.status_code, answer.content

    async def aclose(self) -> None:
        await self.client.aclose()


Conn = tuple[asyncio.StreamReader, asyncio.StreamWriter]


class StaleConnection(ConnectionError):
    """No answer at all: on a reused keep-alive connection, sent again on a fresh one."""


class CutOff(ConnectionError):
    """The status line and headers came, then the connection closed mid-body."""


class RawHTTP:
    """A lean HTTP/1.1 keep-alive client on asyncio streams: at most `connections`
    requests in flight (the rest wait for a connection, inside their latency),
    Content-Length and chunked bodies, one retry on a fresh connection when a reused
    one turns out closed before any answer (what httpx does too). About 0.5 ms of
    client CPU per request here, against httpx's 2.5-3."""

    IDLE_MAX = 4.0  # uvicorn closes keep-alive connections idle for 5 s

    def __init__(self, port: int, connections: int, timeout: float) -> None:
        self.port = port
        self.timeout = timeout
        self.slots = asyncio.Semaphore(connections)
        self.idle: list[tuple[Conn, float]] = []

    async def _connection(self) -> tuple[bool, Conn]:
        now = time.monotonic()
        while self.idle:
            conn, since = self.idle.pop()
            if now - since < self.IDLE_MAX and not conn[0].at_eof():
                return True, conn
            conn[1].close()
        return False, await asyncio.open_connection("127.0.0.1", self.port)

    async def request(self, call: Call) -> tuple[int, bytes]:
        target = call.path + ("?" + urlencode(call.params) if call.params else "")
        head = [f"{call.method} {target} HTTP/1.1", f"Host: 127.0.0.1:{self.port}"]
        head += [f"{k}: {v}" for k, v in call.headers.items()]
        if call.body is not None:
            head.append(f"Content-Length: {len(call.body)}")
        data = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + (call.body or b"")
        async with asyncio.timeout(self.timeout), self.slots:
            for attempt in (1, 2):
                reused, conn = await self._connection()
                try:
                    status, payload, keep = await self._exchange(conn, data)
                except StaleConnection:
                    conn[1].close()
                    if reused and attempt == 1:
                        continue  # closed by the service while idle: not an answer
                    raise
                except BaseException:
                    conn[1].close()
                    raise
                if keep:
                    self.idle.append((conn, time.monotonic()))
                else:
                    conn[1].close()
                return status, payload
        raise AssertionError("unreachable")

    @staticmethod
    async def _exchange(conn: Conn, data: bytes) -> tuple[int, bytes, bool]:
        reader, writer = conn
        try:
            writer.write(data)
            await writer.drain()
            raw = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError as exc:
            if exc.partial:
                raise
            raise StaleConnection("the connection closed before any answer") from None
        except ConnectionError as exc:
            raise StaleConnection(f"the connection failed before any answer: {exc}") from None
        lines = raw.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip().lower()
        keep = headers.get("connection") != "close"
        parts: list[bytes] = []
        try:
            if "content-length" in headers:
                parts.append(await reader.readexactly(int(headers["content-length"])))
            elif headers.get("transfer-encoding") == "chunked":
                while True:
                    size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
                    chunk = await reader.readexactly(size + 2)
                    if size == 0:
                        break
                    parts.append(chunk[:-2])
            else:
                parts.append(await reader.read())
                keep = False
        except (asyncio.IncompleteReadError, ConnectionError) as exc:
            got = sum(map(len, parts)) + len(getattr(exc, "partial", b""))
            raise CutOff(f"HTTP {status} answer cut off after {got:,} body bytes") from None
        return status, b"".join(parts), keep

    async def aclose(self) -> None:
        for conn, _ in self.idle:
            conn[1].close()
        self.idle.clear()


@dataclass
class Requests:
    """The requests each endpoint makes, on the corpus's period."""

    anchor: date
    story_days: int
    read_key: str | None
    ingest_key: str
    token: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    rng: random.Random = field(default_factory=lambda: random.Random(5))
    counts: Counter[str] = field(default_factory=Counter)

    def period(self, days: int) -> dict[str, str]:
        if days <= 0:
            return {}
        start = self.anchor - timedelta(days=days - 1)
        return {"from": start.isoformat(), "to": self.anchor.isoformat()}

    def build(self, endpoint: str) -> Call:
        i = self.counts[endpoint]
        self.counts[endpoint] += 1
        headers = {"Authorization": f"Bearer {self.read_key}"} if self.read_key else {}
        month = self.period(30)
        stage = STAGES[i % len(STAGES)]
        if endpoint == "story":
            return Call("GET", "/api/v1/story", self.period(self.story_days), headers)
        if endpoint == "stage page":
            return Call("GET", f"/stages/{stage}", month, headers)
        if endpoint == "items":
            params = {**month, "stage": stage, "sentiment": "negative", "limit": "50"}
            return Call("GET", "/api/v1/items", params, headers)
        if endpoint == "feed":
            return Call("GET", "/api/v1/feeds/stage-daily.csv", self.period(365), headers)
        raise ValueError(endpoint)

    def push(self, size: int) -> Call:
        k = self.counts["push"]
        self.counts["push"] += size
        day_end = datetime.combine(self.anchor, datetime.max.time(), tzinfo=UTC)
        records = []
        for j in range(k, k + size):
            words = self.rng.choice(FILLER) + self.rng.choice(CLAUSES[self.rng.choice(STAGES)])
            when = day_end - timedelta(seconds=self.rng.uniform(0, 86_399))
            records.append(
                {
                    "id": f"load-{self.token}-{j}",
                    # a reference makes each text new (the same words would be a duplicate)
                    "text": words[0].upper() + words[1:] + f". (ref {self.token}-{j})",
                    "occurred_at": when.isoformat(),
                    "author": f"w{self.rng.randrange(100_000)}",
                    "rating": self.rng.randrange(11),
                }
            )
        headers = {
            "Authorization": f"Bearer {self.ingest_key}",
            "Content-Type": "application/json",
        }
        body = json.dumps(records).encode()
        return Call("POST", f"/api/v1/sources/{PUSH}/items", {}, headers, body, len(records))


async def fire(client: Transport, shot: Shot, call: Call) -> None:
    shot.started = time.perf_counter()
    try:
        status, payload = await client.request(call)
        shot.status = status
        if not shot.ok:
            shot.error = f"HTTP {status}: {payload[:300].decode(errors='replace')}"
        elif call.records:
            shot.records = call.records
            answered = json.loads(payload).get("records", [])
            shot.kept = sum(r.get("status") == "inserted" for r in answered)
            shot.note = next(
                (
                    f"{r['status']}: {r.get('reason')}"
                    for r in answered
                    if r.get("status") != "inserted"
                ),
                "",
            )
    except Exception as exc:  # counted as an error, with its kind
        shot.error = f"{type(exc).__name__}: {str(exc)[:200]}"
    shot.done = time.perf_counter()


def overloaded(args: argparse.Namespace, mine: list[Shot]) -> str:
    """Why the next stages are not worth running (empty: they are): the story's p99
    past `--stop-p99`, or more than 10% of the stage's requests failed."""
    if args.stop_p99 <= 0 or not mine:
        return ""
    story = sorted(s.ms for s in mine if s.endpoint == "story" and s.ok)
    failed = sum(not s.ok for s in mine) / len(mine)
    if failed > 0.1:
        return f"{100 * failed:.0f}% of its requests failed"
    if story and pct(story, 0.99) > args.stop_p99:
        return f"story p99 {pct(story, 0.99):.0f} ms > --stop-p99 {args.stop_p99:g}"
    return ""


def offsets(rate: float, seconds: float, rng: random.Random, poisson: bool) -> list[float]:
    """Scheduled send times (s from the stage's start) of one endpoint in one stage:
    evenly spaced from a random phase (endpoints at related rates would otherwise
    send together), or Poisson arrivals."""
    if rate <= 0:
        return []
    if not poisson:
        phase = rng.random()
        return [(i + phase) / rate for i in range(int(round(rate * seconds)))]
    out, t = [], rng.expovariate(rate)
    while t < seconds:
        out.append(t)
        t = rng.expovariate(rate) + t
    return out


async def drive(
    args: argparse.Namespace,
    services: list[Service],
    requests: Requests,
    meter: CpuMeter,
) -> tuple[list[Stage], list[Shot]]:
    kind = RawHTTP if args.client == "raw" else HttpxHTTP
    clients: list[Transport] = [kind(s.port, args.connections, args.timeout) for s in services]
    turn = [0]

    def next_client() -> Transport:
        turn[0] += 1
        return clients[turn[0] % len(clients)]

    shots: list[Shot] = []
    stages = [Stage("warm-up", args.rates[0])] if args.warmup > 0 else []
    stages += [Stage(f"{rate:g}/s", rate) for rate in args.rates]
    current = [0]
    stop = asyncio.Event()
    pending: set[asyncio.Task[None]] = set()

    def launch(shot: Shot, call: Call) -> None:
        shots.append(shot)
        task = asyncio.create_task(fire(next_client(), shot, call))
        pending.add(task)
        task.add_done_callback(pending.discard)

    async def pusher() -> None:
        if args.push_batch <= 0:
            return
        t0, k = time.perf_counter(), 0
        while not stop.is_set():
            due = t0 + k * args.push_every
            k += 1
            delay = due - time.perf_counter()
            if delay > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), delay)
                if stop.is_set():
                    return
            launch(Shot("push", current[0], due), requests.push(args.push_batch))

    rng = random.Random(3)
    ran = 0
    push_task = asyncio.create_task(pusher())
    try:
        for index, stage in enumerate(stages):
            seconds = args.warmup if stage.label == "warm-up" else args.seconds
            plan = [(t, "story") for t in offsets(stage.rate, seconds, rng, args.poisson)]
            for endpoint, share in args.mix.items():
                plan += [
                    (t, endpoint) for t in offsets(stage.rate * share, seconds, rng, args.poisson)
                ]
            plan.sort()
            mark = meter.mark()
            client_before = time.process_time()
            current[0] = index
            stage.start = t0 = time.perf_counter()
            mine = []
            for offset, endpoint in plan:
                due = t0 + offset
                delay = due - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                shot = Shot(endpoint, index, due)
                launch(shot, requests.build(endpoint))
                mine.append(shot)
            planned_end = t0 + seconds
            if time.perf_counter() < planned_end:
                await asyncio.sleep(planned_end - time.perf_counter())
            # The stage's own requests answered before the next stage starts.
            while any(s.done == 0.0 for s in mine):
                await asyncio.sleep(0.01)
            stage.end = max([planned_end] + [s.done for s in mine])
            stage.client_cpu = time.process_time() - client_before
            stage.service_cpu, stage.db_cpu, stage.machine_cpu = meter.since(mark)
            ran = index + 1
            why = overloaded(args, mine) if stage.label != "warm-up" else ""
            if why:
                print(f"stopped after the {stage.label} stage: {why}")
                break
    finally:
        stop.set()
        await push_task
        if pending:
            await asyncio.wait(set(pending), timeout=args.timeout + 5)
        for client in clients:
            await client.aclose()
    return stages[:ran], shots


# --- the report ---------------------------------------------------------------------


def pct(sorted_ms: list[float], q: float) -> float:
    if not sorted_ms:
        return float("nan")
    return sorted_ms[max(0, math.ceil(q * len(sorted_ms)) - 1)]


def report(args: argparse.Namespace, stages: list[Stage], shots: list[Shot]) -> None:
    print(
        f"\n{'stage':>8s} {'endpoint':12s} {'offered/s':>9s} {'done/s':>8s} {'sent':>6s} "
        f"{'errors':>6s} {'p50 ms':>8s} {'p99 ms':>8s} {'max ms':>8s}"
    )
    for index, stage in enumerate(stages):
        wall = stage.end - stage.start
        window_end = stages[index + 1].start if index + 1 < len(stages) else stage.end
        for endpoint in ENDPOINTS:
            if endpoint == "push":
                mine = [
                    s
                    for s in shots
                    if s.endpoint == "push" and stage.start <= s.due < max(window_end, stage.end)
                ]
                offered = 1 / args.push_every if args.push_batch > 0 else 0.0
                label = f"push x{args.push_batch}"
            else:
                mine = [s for s in shots if s.endpoint == endpoint and s.stage == index]
                share = 1.0 if endpoint == "story" else args.mix.get(endpoint, 0.0)
                offered = stage.rate * share
                label = endpoint
            if not mine:
                continue
            ok = sorted(s.ms for s in mine if s.ok)
            errors = sum(not s.ok for s in mine)
            print(
                f"{stage.label if endpoint == 'story' else '':>8s} {label:12s} {offered:9.1f} "
                f"{len(ok) / wall:8.1f} {len(mine):6d} {errors:6d} {pct(ok, 0.5):8.1f} "
                f"{pct(ok, 0.99):8.1f} {(ok[-1] if ok else float('nan')):8.1f}"
            )
        lag = sorted(
            (s.started - s.due) * 1000 for s in shots if s.stage == index and s.endpoint != "push"
        )
        db = f", database {100 * stage.db_cpu / wall:.0f}" if stage.db_cpu is not None else ""
        print(
            f"{'':8s} CPU over {wall:.1f} s, % of one core: client {100 * stage.client_cpu / wall:.0f}, "
            f"services {100 * stage.service_cpu / wall:.0f}{db}, whole machine "
            f"{100 * stage.machine_cpu / wall:.0f} of {100 * CORES}; client send lag p99 "
            f"{pct(lag, 0.99):.1f} ms"
        )
    pushes = [s for s in shots if s.endpoint == "push"]
    if pushes:
        sent = sum(s.records for s in pushes if s.ok)
        kept = sum(s.kept for s in pushes if s.ok)
        failed = sum(not s.ok for s in pushes)
        print(
            f"pushed: {len(pushes)} posts, {sent:,} records in the answered ones, "
            f"{kept:,} inserted; {failed} posts failed"
        )
        note = next((s.note for s in pushes if s.note), "")
        if note:
            print(f"  a record not inserted: {note[:240]}")
    kinds = Counter((s.endpoint, s.error.split(":", 1)[0]) for s in shots if not s.ok)
    if kinds:
        print("errors:")
        for (endpoint, kind), count in kinds.most_common():
            first = next(
                s.error
                for s in shots
                if s.endpoint == endpoint and not s.ok and s.error.startswith(kind)
            )
            print(f"  {endpoint:12s} {count:6d} x {first[:240]}")


def service_errors(services: list[Service]) -> None:
    """Tracebacks the services logged (a 5xx's cause), first lines of each kind."""
    seen: Counter[str] = Counter()
    for service in services:
        lines = service.log.read_text(errors="replace").splitlines()
        for i, line in enumerate(lines):
            if line.startswith("Traceback"):
                last = next(
                    (
                        lines[j]
                        for j in range(i + 1, min(i + 400, len(lines)))
                        if lines[j]
                        and not lines[j].startswith((" ", "Traceback", "During", "The above"))
                    ),
                    "?",
                )
                seen[last[:300]] += 1
    for cause, count in seen.most_common(8):
        print(f"  service traceback x{count}: {cause}")


# --- main ---------------------------------------------------------------------------


def parse_mix(value: str) -> dict[str, float]:
    names = {"stage": "stage page", "stage page": "stage page", "items": "items", "feed": "feed"}
    mix: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in value.split(","))):
        name, _, share = part.partition("=")
        if name.strip() not in names:
            raise argparse.ArgumentTypeError(f"unknown endpoint {name!r}: stage, items, feed")
        mix[names[name.strip()]] = float(share)
    return mix


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--database-url",
        help="PostgreSQL (a schema is made in it) or SQLite; default: "
        "an SQLite file in a temporary folder",
    )
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--schema", help="PostgreSQL: measure this kept schema, no fill")
    parser.add_argument("--keep", action="store_true", help="PostgreSQL: keep the schema made")
    parser.add_argument(
        "--rates",
        type=lambda v: [float(x) for x in v.split(",")],
        default=[25.0, 50.0, 100.0, 200.0, 400.0],
        help="story requests/s of each stage",
    )
    parser.add_argument("--seconds", type=float, default=30, help="length of each stage")
    parser.add_argument("--warmup", type=float, default=10, help="a first stage, at the first rate")
    parser.add_argument(
        "--mix",
        type=parse_mix,
        default=parse_mix("stage=0.2,items=0.1,feed=0.02"),
        help="the other endpoints' rates, as shares of the story's",
    )
    parser.add_argument(
        "--story-days", type=int, default=30, help="the story's period; 0: all time"
    )
    parser.add_argument("--push-batch", type=int, default=100, help="records per push; 0: none")
    parser.add_argument("--push-every", type=float, default=1.0, help="seconds between pushes")
    parser.add_argument("--services", type=int, default=2, help="API processes")
    parser.add_argument("--connections", type=int, default=512, help="per service, client side")
    parser.add_argument("--timeout", type=float, default=60, help="per request, seconds")
    parser.add_argument(
        "--stop-p99",
        type=float,
        default=5000,
        help="no further stage after one whose story p99 is above this many ms, or with "
        "more than 10%% of its requests failed (0: run every stage)",
    )
    parser.add_argument(
        "--client",
        choices=["raw", "httpx"],
        default="raw",
        help="raw: a lean HTTP/1.1 keep-alive client on asyncio streams (default); httpx: "
        "httpx.AsyncClient, which costs about 5x the client CPU per request here",
    )
    parser.add_argument("--poisson", action="store_true", help="Poisson arrivals, not even spacing")
    parser.add_argument(
        "--read-open", action="store_true", help="LP_READ_OPEN: reads without a key"
    )
    args = parser.parse_args()

    from app.db import make_engine, upgrade_database

    with tempfile.TemporaryDirectory(prefix="lp-load-") as tmp:
        folder = Path(tmp)
        url = args.database_url or f"sqlite:///{folder / 'load.db'}"
        if url.startswith(("postgresql://", "postgres://")):
            url = "postgresql+psycopg://" + url.split("://", 1)[1]
        admin: Engine | None = None
        schema = None
        made = False
        if url.startswith("postgresql"):
            admin = make_engine(url)
            schema = args.schema or f"lp_load_{uuid.uuid4().hex[:8]}"
            if not args.schema:
                with admin.begin() as conn:
                    conn.execute(text(f'CREATE SCHEMA "{schema}"'))
                made = True
        elif args.schema:
            parser.error("--schema is for PostgreSQL")
        served = service_url(url, schema)
        engine = make_engine(served)
        services: list[Service] = []
        try:
            upgrade_database(engine)
            count, newest, newest_id = stored(engine)
            if count == 0:
                fill(served, folder, args.items)
                count, newest, newest_id = stored(engine)
            else:
                print(f"measuring the {count:,} items already in {schema or url}")
            if engine.dialect.name == "postgresql":
                # Planner statistics, as autovacuum would have them after a bulk load
                # (it is off on some servers, this machine's included: without them an
                # items page took 195 ms instead of 1.7 ms at 1M items).
                with engine.begin() as conn:
                    conn.execute(text("ANALYZE"))
            assert newest is not None, "no survey answers stored"
            assert newest_id is not None
            sources = write_sources(folder)
            anchor = newest.date()
            with run_keys(engine) as (read_key, ingest_key):
                services = start_services(args.services, served, sources, folder, args.read_open)
                pids = [s.process.pid for s in services]
                check_services(
                    services,
                    {} if args.read_open else {"Authorization": f"Bearer {read_key}"},
                    newest_id,
                )

                meter = CpuMeter(pids, admin)
                requests = Requests(
                    anchor=anchor,
                    story_days=args.story_days,
                    read_key=None if args.read_open else read_key,
                    ingest_key=ingest_key,
                )
                mix = ", ".join(f"{k} {v:g}x" for k, v in args.mix.items())
                print(
                    f"{engine.dialect.name}: {count:,} items, periods ending {anchor}; "
                    f"{len(services)} services (pids {', '.join(str(p) for p in pids)}, ports "
                    f"{', '.join(str(s.port) for s in services)}, logs in {folder}); "
                    f"stages of {args.seconds:g} s at story {', '.join(f'{r:g}' for r in args.rates)}/s "
                    f"(warm-up {args.warmup:g} s), others: {mix}; push {args.push_batch} records "
                    f"every {args.push_every:g} s; {'Poisson' if args.poisson else 'even'} arrivals; "
                    f"{args.client} client, at most {args.connections} connections per service"
                )
                print(f"load average before: {Path('/proc/loadavg').read_text().split()[0]}")
                client_cpu = time.process_time()
                try:
                    stages, shots = asyncio.run(drive(args, services, requests, meter))
                finally:
                    meter.close()
                client_cpu = time.process_time() - client_cpu
                report(args, stages, shots)
                print(f"client CPU during the load: {client_cpu:.2f} s")
                rss = ", ".join(f"{_story.peak_rss_mb(p):.0f} MB" for p in pids)
                print(f"services' peak RSS (VmHWM): {rss}")
                service_errors(services)
        finally:
            stop_services(services)
            engine.dispose()
            if admin is not None:
                if made and args.keep:
                    print(f"kept schema {schema}: measure again with --schema {schema}")
                elif made:
                    with admin.begin() as conn:
                        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
                admin.dispose()


if __name__ == "__main__":
    main()
