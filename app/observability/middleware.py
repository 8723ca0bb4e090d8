"""Request latency by route, measured around the whole application.

The route label is the matched route's template (`/api/v1/items/{item_id}`),
never the raw path: a path carries ids, and one series per id would grow without
bound. For the same reason a request that matched no route is `unmatched`, a
method outside the standard ones is `other`, and a status is its class (`2xx`).
An ASGI middleware rather than Starlette's `BaseHTTPMiddleware`: it sees the
status as it is sent and lets streamed feeds stream, and its time runs to the
last byte of the body.
"""

from __future__ import annotations

from time import perf_counter

from prometheus_client import Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_SECONDS = Histogram(
    "lp_http_request_seconds",
    "Time to answer an HTTP request, by route template, method and status class",
    ["route", "method", "status"],
)
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "unmatched"


class RequestMetrics:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = perf_counter()
        status = 500  # what the client gets when the app raises before answering

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            # The router sets the route it matched in the scope it was given (this one).
            route = getattr(scope.get("route"), "path", None)
            method = scope["method"] if scope["method"] in METHODS else "other"
            REQUEST_SECONDS.labels(
                route if isinstance(route, str) else UNMATCHED, method, f"{status // 100}xx"
            ).observe(perf_counter() - started)
