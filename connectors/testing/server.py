"""A real local HTTP server for connector tests, with faults injected on demand.

`FakeServer(handler)` listens on 127.0.0.1 at a free port in a background thread
(`http.server.ThreadingHTTPServer`); `handler(request)` is the vendor's API as a
test writes it (`connectors.testing.vendors` has Mastodon, Typeform, Zendesk, a
feed and a generic REST API). Faults are queued for the coming requests:

    server.inject(Fault.status(500), Fault.status(500))  # the next two answer 500
    server.inject(Fault.rate_limited(7), at=3)            # the third from now: 429
    server.inject(Fault.slow(0.5))                        # longer than the timeout
    server.inject(Fault.truncated())                      # half the body
    server.inject(Fault.repeat())                         # the previous answer again
    server.inject(Fault.status(401))                      # an expired token

The server listens on loopback, which an HTTP connector refuses by default (the
SSRF guard, `connectors.network`): a source reading it needs `**LOOPBACK` in its
config (`allow_networks` for 127.0.0.0/8 and ::1); the standard suite adds it.

Every request is logged (`server.requests`), headers included, so a test can
check the token was sent, and never in the URL.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

LOOPBACK: dict[str, list[str]] = {"allow_networks": ["127.0.0.0/8", "::1/128"]}
"""Config that lets one HTTP source reach a `FakeServer` (loopback) despite the guard."""


@dataclass(frozen=True)
class FakeRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else default

    def int_arg(self, name: str, default: int) -> int:
        value = self.arg(name)
        try:
            return int(value) if value is not None else default
        except ValueError:
            return default


@dataclass
class FakeResponse:
    status: int = 200
    body: bytes | str | Any = b""
    headers: dict[str, str] = field(default_factory=dict)

    def payload(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode("utf-8")
        return json.dumps(self.body).encode("utf-8")

    @classmethod
    def json(
        cls, body: Any, status: int = 200, headers: Mapping[str, str] | None = None
    ) -> FakeResponse:
        return cls(status, body, {"Content-Type": "application/json", **(headers or {})})


Handler = Callable[[FakeRequest], FakeResponse]


@dataclass(frozen=True)
class Fault:
    """What one request gets instead of (or on top of) the handler's answer."""

    name: str
    status: int | None = None
    delay: float = 0.0
    headers: tuple[tuple[str, str], ...] = ()

    @classmethod
    def status_code(cls, status: int, **headers: str) -> Fault:
        return cls(f"status {status}", status=status, headers=tuple(headers.items()))

    @classmethod
    def server_error(cls, status: int = 500) -> Fault:
        return cls(f"status {status}", status=status)

    @classmethod
    def rate_limited(cls, retry_after: float | str = 1) -> Fault:
        return cls("429", status=429, headers=(("Retry-After", str(retry_after)),))

    @classmethod
    def unauthorized(cls, status: int = 401) -> Fault:
        return cls(f"status {status}", status=status)

    @classmethod
    def slow(cls, seconds: float) -> Fault:
        return cls("slow", delay=seconds)

    @classmethod
    def truncated(cls) -> Fault:
        return cls("truncated")

    @classmethod
    def repeat(cls) -> Fault:
        return cls("repeat")

    @classmethod
    def reset(cls) -> Fault:
        """Close the connection without an answer."""
        return cls("reset")


class FakeServer:
    """A threaded local HTTP server; use as a context manager (or `start`/`stop`)."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[FakeRequest] = []
        self.faults_served: list[str] = []
        self._faults: dict[int, Fault] = {}
        self._count = 0
        self._last: FakeResponse | None = None
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- life -------------------------------------------------------------------

    def start(self) -> Self:
        owner = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()  # headers and body go in two writes: no Nagle delay
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                owner._serve(self)

            def do_POST(self) -> None:  # noqa: N802
                owner._serve(self)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002, ARG002
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._server is not None, "start the server first"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    # -- faults -----------------------------------------------------------------

    def inject(self, *faults: Fault, at: int = 1) -> None:
        """Queue `faults` for the requests `at`, `at + 1`, ... from now (1 = next)."""
        with self._lock:
            for offset, fault in enumerate(faults):
                self._faults[self._count + at + offset] = fault

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    @property
    def request_count(self) -> int:
        return self._count

    # -- serving ----------------------------------------------------------------

    def _serve(self, http: BaseHTTPRequestHandler) -> None:
        length = int(http.headers.get("Content-Length") or 0)
        if length:
            http.rfile.read(length)
        parts = urlsplit(http.path)
        request = FakeRequest(
            method=http.command,
            path=parts.path,
            query=parse_qs(parts.query, keep_blank_values=True),
            headers={k.lower(): v for k, v in http.headers.items()},
        )
        with self._lock:
            self._count += 1
            fault = self._faults.pop(self._count, None)
            self.requests.append(request)
            if fault is not None:
                self.faults_served.append(fault.name)
        if fault is not None and fault.delay:
            time.sleep(fault.delay)
        if fault is not None and fault.name == "reset":
            http.close_connection = True
            return
        if fault is not None and fault.name == "repeat" and self._last is not None:
            response = self._last
        elif fault is not None and fault.status is not None:
            response = FakeResponse.json(
                {"error": f"injected fault: {fault.name}"}, status=fault.status
            )
            response.headers.update(dict(fault.headers))
        else:
            try:
                response = self.handler(request)
            except Exception as exc:  # a bug in a fake: answer 599 so the test sees it
                response = FakeResponse(599, f"fake server error: {exc!r}")
            self._last = response
        payload = response.payload() if response.status != 304 else b""
        if fault is not None and fault.name == "truncated":
            payload = payload[: max(1, len(payload) * 3 // 5)]
        try:
            http.send_response(response.status)
            for name, value in response.headers.items():
                http.send_header(name, value)
            http.send_header("Content-Length", str(len(payload)))
            http.end_headers()
            if http.command != "HEAD" and response.status != 304:
                http.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (a timeout)
            http.close_connection = True
