"""The HTTP stream base: every kind that pages through an HTTP API builds on it.

A kind declares its requests and its pages; this module owns the rest, so no kind
can get it wrong on its own (after meltano's singer-sdk `RESTStream` and dlt's
`RESTClient`):

- `HttpSession.get` sends one request through `httpx` and retries timeouts,
  connection failures, 408/5xx and truncated or invalid JSON with exponential
  backoff and jitter; 429 (and 503) wait what `Retry-After` says. When retries run
  out, or the server asks for a longer wait than `max_retry_after_seconds`, it
  raises `RetriableError` whose `delay` is that wait (or the next backoff step).
  401/403 raise `FatalError` at once ("the token was refused"), other 4xx and
  redirects too, with what to fix. A per-source `rate_limit_per_second` spaces
  the requests. The sleep, the clock, the jitter and the transport are attributes
  of the connector, so tests inject them.
- A `Paginator` per style (`LinkHeaderPaginator`, `CursorPaginator` for a next token
  in the body, `PageNumberPaginator`, `OffsetPaginator`, `SinceIdPaginator`) says
  what to ask next and what cursor covers the records read so far.
  `HttpSession.pages` follows it, refusing a next request equal to the one just
  made (`PaginationLoopError`) and a link to another host.
- The SSRF guard (`connectors.network`): every connection goes through
  `GuardedTransport`, which resolves the host, refuses loopback, private,
  link-local... addresses unless the source's `allow_networks` names them, and
  connects only to an address it checked; each answer's peer is checked again
  (a `response` event hook).
- Resume: a paginator's state after a page covers exactly that page's records.
  Where the last page may grow (page numbers, links, tokens at the end), the state
  keeps how many of its records were read (`skip`), and the next run asks for the
  same page again and skips those.

Secrets (tokens, header values) are `SecretStr`, read when the run starts, sent
as headers only (never in a URL, so never in a cursor or a log line), and cut out
of any server text quoted in an error.
"""

from __future__ import annotations

import email.utils
import json
import logging
import math
import random
import ssl
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any, ClassVar, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import certifi
import httpx
from pydantic import Field, SecretStr, field_validator

from connectors.contract import (
    Batch,
    Connector,
    ConnectorConfig,
    Cursor,
    RawItem,
    RejectedRecord,
)
from connectors.errors import (
    ConnectorError,
    FatalError,
    PaginationLoopError,
    RecordError,
    RetriableError,
)
from connectors.network import ALLOW_KEY, GuardedTransport, NetworkGuard, parse_networks
from connectors.parsing import excerpt
from connectors.secrets import Scrubber

logger = logging.getLogger(__name__)

USER_AGENT = "listening-path-connector/0.1 (+https://github.com/listening-path)"


class HttpConfig(ConnectorConfig):
    """Config every HTTP kind shares: page size, timeouts, retries, rate limit."""

    page_size: int = Field(
        default=100,
        ge=1,
        le=1000,
        description="Records asked for per request (the API may cap it lower); one page "
        "is one batch, i.e. one ingest transaction.",
    )
    timeout_seconds: float = Field(
        default=30.0,
        gt=0,
        le=600,
        description="Seconds to wait for the server to connect and to answer one request.",
    )
    max_retries: int = Field(
        default=5,
        ge=0,
        le=20,
        description="Retries of one request after a timeout, a 5xx, a 429 or a truncated "
        "answer, before the run stops (to be retried later, from its cursor).",
    )
    backoff_seconds: float = Field(
        default=1.0,
        ge=0,
        le=600,
        description="First wait before a retry; doubled each time (with jitter), at most "
        "`max_backoff_seconds`.",
    )
    max_backoff_seconds: float = Field(
        default=60.0, ge=0, le=3600, description="Longest wait between two retries."
    )
    max_retry_after_seconds: float = Field(
        default=300.0,
        ge=0,
        le=86400,
        description="Longest `Retry-After` waited for inside a run; a longer one ends the "
        "run with a retriable error carrying that delay.",
    )
    batch_size: int | None = Field(
        default=None,
        ge=1,
        le=10_000,
        description="Records per batch (per ingest transaction): whole pages are grouped "
        "until they hold this many; by default one page is one batch.",
    )
    rate_limit_per_second: float | None = Field(
        default=None,
        gt=0,
        le=1000,
        description="At most this many requests per second to this source (none: no limit "
        "beyond the server's 429s).",
    )
    allow_networks: tuple[str, ...] = Field(
        default=(),
        description="Networks this source may connect to although they are not public "
        "(CIDR such as 10.20.0.0/16, or one address such as 127.0.0.1): by default a "
        "connector refuses loopback, private, link-local (169.254.169.254 included), "
        "unspecified, multicast and reserved addresses, checked after DNS resolution "
        "and on the connection itself (the SSRF guard). Applies to this source only.",
    )

    @field_validator(ALLOW_KEY)
    @classmethod
    def _networks(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(str(network) for network in parse_networks(value))


HttpConfigT = TypeVar("HttpConfigT", bound=HttpConfig)


def base_url_field(description: str) -> Any:
    """The `base_url` (or `url`) field of an HTTP kind."""
    return Field(min_length=1, description=description)


def check_base_url(cls: type, value: str) -> str:  # noqa: ARG001 (a pydantic validator)
    """An http(s) URL without credentials or fragment; a trailing `/` dropped."""
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{value!r} is not an http(s) URL such as https://example.com")
    if parts.username or parts.password:
        raise ValueError(
            "put no credentials in the URL: name them with token_env (or headers from env)"
        )
    if parts.fragment:
        raise ValueError("a URL with a #fragment cannot be fetched")
    return value.strip().rstrip("/")


# --------------------------------------------------------------------------- requests


@dataclass(frozen=True, slots=True)
class Request:
    """One GET: an absolute URL and its query parameters (sorted, so equal requests
    compare equal; the loop guard relies on it)."""

    url: str
    params: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, url: str, params: Mapping[str, object] | None = None) -> Request:
        """A request for `url` plus `params` (None values left out); the URL's own
        query parameters are kept, and a parameter given in both takes `params`."""
        parts = urlsplit(url)
        merged = dict(parse_qsl(parts.query, keep_blank_values=True))
        for key, value in (params or {}).items():
            if value is None:
                merged.pop(key, None)
            else:
                merged[key] = _param(value)
        bare = urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
        return cls(bare, tuple(sorted(merged.items())))

    def with_params(self, **params: object) -> Request:
        return Request.of(self.url, {**dict(self.params), **params})

    def param(self, name: str) -> str | None:
        return dict(self.params).get(name)

    @property
    def shown(self) -> str:
        """The request as a log line or an error message shows it: path and query."""
        path = urlsplit(self.url).path or "/"
        return path + ("?" + urlencode(self.params) if self.params else "")


def _param(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@dataclass(frozen=True, slots=True)
class Page:
    """One answer: the response, its decoded body, the records in it, and how many of
    those were read by an earlier run (`skip`: the kind handles `records[skip:]`)."""

    number: int
    request: Request
    response: httpx.Response
    body: Any
    records: list[Any]
    skip: int = 0

    @property
    def fresh(self) -> list[Any]:
        return self.records[self.skip :]


# --------------------------------------------------------------------------- paginators


class Paginator(ABC):
    """One pagination style: the first request from a cursor, the next from a page,
    and the cursor that covers the records read so far.

    `start(state)` is called once with the state saved after the last page of an
    earlier run (or None); `advance(page)` once per page, in order, returns the next
    request or None at the end; `state()` after each page is that page's cursor.
    `skip()` says how many records of the first page an earlier run read already.
    """

    @abstractmethod
    def start(self, state: Mapping[str, Any] | None) -> Request: ...

    @abstractmethod
    def advance(self, page: Page) -> Request | None: ...

    @abstractmethod
    def state(self) -> dict[str, Any]: ...

    def skip(self) -> int:
        return 0


def _count(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


class LinkHeaderPaginator(Paginator):
    """`Link: <...>; rel="next"` (RFC 8288; GitHub, Mastodon and most REST APIs).

    State: `{"url": <the last page's URL>, "skip": <its records read>}` while there
    is no next link (the next run asks for that page again and skips them), or
    `{"url": <next URL>, "skip": 0}`. The API should list oldest first.
    """

    def __init__(self, first: Request, *, rel: str = "next") -> None:
        self._first = first
        self._rel = rel
        self._current = first
        self._skip = 0
        self._read = 0

    def start(self, state: Mapping[str, Any] | None) -> Request:
        url = state.get("url") if state else None
        if isinstance(url, str) and url:
            self._current = Request.of(url)
            self._skip = _count(state.get("skip") if state else 0)
        return self._current

    def skip(self) -> int:
        return self._skip

    def advance(self, page: Page) -> Request | None:
        link = page.response.links.get(self._rel, {}).get("url")
        self._read = len(page.records)
        if not link:
            return None
        nxt = Request.of(str(page.response.url.join(link)))
        self._current, self._skip, self._read = nxt, 0, 0
        return nxt

    def state(self) -> dict[str, Any]:
        return {"url": _full_url(self._current), "skip": max(self._skip, self._read)}


class CursorPaginator(Paginator):
    """A next token in the body (`JSONPathPaginator`): `next_path` names it, `param`
    sends it. `done_path` (optional) names a flag that says the stream has ended
    although a token is given (Zendesk's `end_of_stream`); otherwise a missing or
    empty token ends it.

    State: `{"token": <token of the last page asked for>, "skip": n}`: the next run
    asks with that token again and skips the n records read (at the end of a stream
    with `done_path`, the final token with skip 0: its page is the next one).
    """

    def __init__(
        self,
        first: Request,
        *,
        param: str,
        next_path: str,
        done_path: str | None = None,
    ) -> None:
        self._first = first
        self._param = param
        self._next_path = next_path
        self._done_path = done_path
        self._token: str | None = None
        self._skip = 0

    def start(self, state: Mapping[str, Any] | None) -> Request:
        if state:
            token = state.get("token")
            self._token = token if isinstance(token, str) and token else None
            self._skip = _count(state.get("skip"))
        return self._request()

    def skip(self) -> int:
        return self._skip

    def _request(self) -> Request:
        if self._token is None:
            return self._first
        return self._first.with_params(**{self._param: self._token})

    def next_token(self, page: Page) -> str | None:
        token = dig(page.body, self._next_path)
        return str(token) if isinstance(token, str | int) and token != "" else None

    def advance(self, page: Page) -> Request | None:
        token = self.next_token(page)
        done = bool(dig(page.body, self._done_path)) if self._done_path else False
        if token is None:
            self._skip = len(page.records)
            return None
        if done:  # the stream's end: the final token is where the next run starts
            if token == self._token:
                self._skip = len(page.records)
            else:
                self._token, self._skip = token, 0
            return None
        if token == self._token:
            self._skip = len(page.records)  # this page is read: the cursor covers it
            raise PaginationLoopError(
                f"the server gave the same next token ({self._next_path}) as the page "
                f"before, after {page.request.shown}; stopped instead of reading that page "
                "again"
            )
        self._token, self._skip = token, 0
        return self._request()

    def state(self) -> dict[str, Any]:
        return {"token": self._token, "skip": self._skip}


class PageNumberPaginator(Paginator):
    """`?page=N` (and optionally `total_pages_path`); a page shorter than `page_size`
    is the last. State: `{"page": p, "skip": n}` (n records of page p read)."""

    def __init__(
        self,
        first: Request,
        *,
        param: str = "page",
        start_at: int = 1,
        page_size: int,
        total_pages_path: str | None = None,
    ) -> None:
        self._first = first
        self._param = param
        self._page = start_at
        self._page_size = page_size
        self._total_pages_path = total_pages_path
        self._skip = 0

    def start(self, state: Mapping[str, Any] | None) -> Request:
        page = state.get("page") if state else None
        if isinstance(page, int) and not isinstance(page, bool):
            self._page = page
            self._skip = _count(state.get("skip") if state else 0)
        return self._first.with_params(**{self._param: self._page})

    def skip(self) -> int:
        return self._skip

    def advance(self, page: Page) -> Request | None:
        total = dig(page.body, self._total_pages_path) if self._total_pages_path else None
        last = isinstance(total, int) and self._page >= total
        if len(page.records) < self._page_size or last:
            self._skip = len(page.records)
            return None
        self._page, self._skip = self._page + 1, 0
        return self._first.with_params(**{self._param: self._page})

    def state(self) -> dict[str, Any]:
        return {"page": self._page, "skip": self._skip}


class OffsetPaginator(Paginator):
    """`?offset=N&limit=M`; a page shorter than `page_size` is the last.
    State: `{"offset": <records read so far>}`: the next run asks from there."""

    def __init__(self, first: Request, *, param: str = "offset", page_size: int) -> None:
        self._first = first
        self._param = param
        self._offset = 0
        self._page_size = page_size

    def start(self, state: Mapping[str, Any] | None) -> Request:
        self._offset = _count(state.get("offset")) if state else 0
        return self._first.with_params(**{self._param: self._offset})

    def advance(self, page: Page) -> Request | None:
        self._offset += len(page.records)
        if len(page.records) < self._page_size:
            return None
        return self._first.with_params(**{self._param: self._offset})

    def state(self) -> dict[str, Any]:
        return {"offset": self._offset}


def id_order(value: str) -> tuple[int, str]:
    """Sort key of ids that are numbers written as text (Mastodon, Twitter): by
    length, then by text, so "100" comes after "99" without parsing huge numbers."""
    return (len(value), value)


class SinceIdPaginator(Paginator):
    """`?since_id=X` (Mastodon's `min_id`): the API returns the records immediately
    newer than X; the newest id of a page is the next X. An empty page ends it.

    State: `{"since": <newest id read>}`: exactly the records read so far. A page
    holding nothing newer than X is a loop (`PaginationLoopError`). `follow_rel`:
    take the next request from that `Link` relation when the server gives one
    and its parameter is at least the newest id in the page (the server knows its
    own order best; Mastodon's `prev` link carries `min_id`).
    """

    def __init__(
        self,
        first: Request,
        *,
        param: str,
        id_of: Callable[[Any], str | None],
        start_id: str | None = None,
        follow_rel: str | None = None,
    ) -> None:
        self._first = first
        self._param = param
        self._id_of = id_of
        self._since = start_id
        self._follow_rel = follow_rel

    def start(self, state: Mapping[str, Any] | None) -> Request:
        since = state.get("since") if state else None
        if isinstance(since, str) and since:
            self._since = since
        return self._first.with_params(**{self._param: self._since or 0})

    @property
    def since(self) -> str | None:
        return self._since

    def advance(self, page: Page) -> Request | None:
        if not page.records:
            return None
        ids = [i for i in (self._id_of(r) for r in page.records) if i is not None]
        newest = max(ids, key=id_order, default=None)
        if newest is None:
            raise PaginationLoopError(
                f"no record of the page {page.request.shown} has an id; cannot ask for "
                "the records after it"
            )
        if self._since is not None and id_order(newest) <= id_order(self._since):
            raise PaginationLoopError(
                f"the server answered {page.request.shown} with nothing newer than "
                f"{self._param}={self._since} (a page repeated); stopped instead of "
                "reading it again"
            )
        nxt = self._first.with_params(**{self._param: newest})
        if self._follow_rel:  # the server's own link, when it moves forward, wins
            link = page.response.links.get(self._follow_rel, {}).get("url")
            linked = Request.of(str(page.response.url.join(link))) if link else None
            value = linked.param(self._param) if linked else None
            if linked is not None and value and id_order(value) >= id_order(newest):
                nxt, newest = linked, value
        self._since = newest
        return nxt

    def state(self) -> dict[str, Any]:
        return {"since": self._since}


# --------------------------------------------------------------------------- helpers


def dig(value: Any, path: str | None) -> Any:
    """`a.b.0.c` looked up in nested dicts and lists; None where any step is missing.
    An empty path (or `$`) is the value itself."""
    if path is None:
        return None
    path = path.removeprefix("$").lstrip(".")
    if not path:
        return value
    for step in path.split("."):
        if isinstance(value, dict):
            value = value.get(step)
        elif isinstance(value, list) and step.lstrip("-").isdigit():
            index = int(step)
            value = value[index] if -len(value) <= index < len(value) else None
        else:
            return None
    return value


def _full_url(request: Request) -> str:
    parts = urlsplit(request.url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(request.params), ""))


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), (parts.netloc or "").lower()


def retry_after_seconds(response: httpx.Response, now: datetime | None = None) -> float | None:
    """`Retry-After` as seconds (a number, or an HTTP date), or None."""
    raw = response.headers.get("retry-after")
    if raw is None:
        return None
    raw = raw.strip()
    try:
        seconds = float(raw)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(raw)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)


# --------------------------------------------------------------------------- session


@dataclass
class Retrying:
    """What one connector run uses to wait and to draw jitter (tests replace them)."""

    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    rng: random.Random = field(default_factory=random.Random)


class HttpSession:
    """One run's client: retries, backoff, rate limit, error mapping, the page loop."""

    def __init__(
        self,
        *,
        kind: str,
        config: HttpConfig,
        client: httpx.Client,
        base_url: str,
        retrying: Retrying,
        scrub: Scrubber,
        refused_hint: str,
    ) -> None:
        self.kind = kind
        self.config = config
        self.client = client
        self.base_url = base_url
        self.retrying = retrying
        self.scrub = scrub
        self.refused_hint = refused_hint
        self.requests = 0
        self.retries = 0
        self._last_request_at: float | None = None

    def backoff(self, attempt: int) -> float:
        """Exponential backoff with "equal jitter": half the step fixed, half random."""
        step = min(self.config.max_backoff_seconds, self.config.backoff_seconds * 2.0**attempt)
        return float(step) / 2 + self.retrying.rng.uniform(0, step / 2)

    def _throttle(self) -> None:
        rate = self.config.rate_limit_per_second
        if rate is None:
            return
        now = self.retrying.clock()
        if self._last_request_at is not None:
            wait = self._last_request_at + 1 / rate - now
            if wait > 0:
                self.retrying.sleep(wait)
                now = self.retrying.clock()
        self._last_request_at = now

    def get(
        self,
        request: Request,
        *,
        json_body: bool = True,
        headers: Mapping[str, str] | None = None,
        ok_statuses: Sequence[int] = (),
    ) -> tuple[httpx.Response, Any]:
        """Send one GET with retries; `(response, decoded JSON or the raw bytes)`.

        Statuses in `ok_statuses` (e.g. 304) come back as they are, body None.
        """
        if _origin(request.url) != _origin(self.base_url):
            raise FatalError(
                f"{self.kind}: the server pointed to {_origin(request.url)[1] or 'another host'}, "
                f"outside {_origin(self.base_url)[1]}; a connector reads only the host it "
                "was pointed at"
            )
        attempt = 0
        while True:
            self._throttle()
            self.requests += 1
            delay: float
            try:
                response = self.client.get(request.url, params=request.params, headers=headers)
            except httpx.TimeoutException:
                problem = f"no answer within {self.config.timeout_seconds:g} s"
                delay = self.backoff(attempt)
            except httpx.TransportError as exc:
                problem = f"connection failed ({type(exc).__name__})"
                delay = self.backoff(attempt)
            else:
                status = response.status_code
                if status in ok_statuses:
                    return response, None
                if 200 <= status < 300:
                    if not json_body:
                        return response, response.content
                    try:
                        return response, json.loads(response.content)
                    except (ValueError, RecursionError):
                        problem = "the answer is not complete JSON (truncated?)"
                        delay = self.backoff(attempt)
                elif status == 429 or (status == 503 and "retry-after" in response.headers):
                    wait = retry_after_seconds(response)
                    problem = f"rate limited ({status})"
                    delay = self.backoff(attempt) if wait is None else wait
                    if delay > self.config.max_retry_after_seconds:
                        raise RetriableError(
                            f"{self.kind}: {problem} on {request.shown}; the server asks to "
                            f"wait {delay:.0f} s, longer than max_retry_after_seconds",
                            delay=delay,
                        )
                elif status >= 500 or status == 408:
                    problem = f"server error ({status})"
                    wait = retry_after_seconds(response)
                    delay = self.backoff(attempt) if wait is None else wait
                else:
                    raise self._refused(request, response)
            attempt += 1
            if attempt > self.config.max_retries:
                raise RetriableError(
                    f"{self.kind}: {problem} on {request.shown}; gave up after "
                    f"{attempt} attempt{'s' if attempt != 1 else ''} (the next run resumes "
                    "from the last page stored)",
                    delay=delay,
                )
            self.retries += 1
            logger.info(
                "%s: %s on %s; retry %d of %d in %.1f s",
                self.kind,
                problem,
                request.shown,
                attempt,
                self.config.max_retries,
                delay,
            )
            self.retrying.sleep(delay)

    def _refused(self, request: Request, response: httpx.Response) -> FatalError:
        status = response.status_code
        said = self.scrub(_server_says(response))
        said = f": {said}" if said else ""
        if status in (401, 403):
            return FatalError(
                f"{self.kind}: the server refused the credentials ({status} "
                f"{response.reason_phrase}) on {request.shown}{said}; {self.refused_hint}"
            )
        if status == 404:
            return FatalError(
                f"{self.kind}: {request.shown} was not found (404){said}; check the "
                "source's config (base_url and what it names)"
            )
        if 300 <= status < 400:
            where = response.headers.get("location", "?")
            return FatalError(
                f"{self.kind}: {request.shown} redirects ({status}) to {self.scrub(where)}; "
                "set the source's URL to the final address"
            )
        return FatalError(
            f"{self.kind}: the server refused {request.shown} ({status} "
            f"{response.reason_phrase}){said}; check the source's config"
        )

    def pages(
        self,
        paginator: Paginator,
        state: Mapping[str, Any] | None,
        records: Callable[[Any], list[Any]],
    ) -> Iterator[Page]:
        """Every page from `state` on; `records(body)` picks a page's record list
        (a `RecordError` from it is a broken answer: retried like truncated JSON)."""
        request: Request | None = paginator.start(state)
        skip = paginator.skip()
        number = 0
        previous: list[Any] | None = None
        while request is not None:
            number += 1
            response, body, found = self.get_records(request, records)
            if found and found == previous:  # the page before, again: ask once more
                self.retries += 1
                self.retrying.sleep(self.backoff(0))
                response, body, found = self.get_records(request, records)
                if found == previous:
                    raise PaginationLoopError(
                        f"{self.kind}: {request.shown} answered with the same records as the "
                        "page before (a page repeated); stopped instead of skipping ahead"
                    )
            previous = found
            page = Page(number, request, response, body, found, min(skip, len(found)))
            loop: PaginationLoopError | None = None
            try:
                nxt = paginator.advance(page)
            except PaginationLoopError as exc:
                loop, nxt = exc, None
            if nxt is not None and nxt == request:
                loop = PaginationLoopError(
                    f"{self.kind}: the next page is {request.shown} again; stopped instead "
                    "of reading it in a loop"
                )
            yield page  # its records are stored (with a cursor that covers them) first
            if loop is not None:
                raise loop
            request, skip = nxt, 0

    def get_records(
        self,
        request: Request,
        records: Callable[[Any], list[Any]],
        *,
        json_body: bool = True,
        headers: Mapping[str, str] | None = None,
        ok_statuses: Sequence[int] = (),
    ) -> tuple[httpx.Response, Any, list[Any]]:
        """`get`, then `records(body)`; a `RecordError` from it (an answer that is not
        what the API sends: a cut feed, a missing list) is retried like a 5xx."""
        attempt = 0
        while True:
            response, body = self.get(
                request, json_body=json_body, headers=headers, ok_statuses=ok_statuses
            )
            if response.status_code in ok_statuses:
                return response, body, []
            try:
                return response, body, records(body)
            except RecordError as exc:
                delay = self.backoff(attempt)
                attempt += 1
                if attempt > self.config.max_retries:
                    raise RetriableError(
                        f"{self.kind}: unexpected answer to {request.shown}: {exc.reason}",
                        delay=delay,
                    ) from None
                self.retries += 1
                self.retrying.sleep(delay)


def _server_says(response: httpx.Response) -> str:
    """A short quote of an error answer: its `error`/`message` field, or its text."""
    try:
        body = response.json()
    except (ValueError, RecursionError):
        text = response.text.strip()
        return text[:200] if text and "<" not in text[:1] else ""
    if isinstance(body, dict):
        for key in ("error_description", "error", "message", "description", "detail"):
            value = body.get(key)
            if isinstance(value, str) and value.strip():
                return value.strip()[:200]
            if isinstance(value, dict) and isinstance(value.get("message"), str):
                return str(value["message"])[:200]
    return ""


# --------------------------------------------------------------------------- connector


@cache
def _tls_context() -> ssl.SSLContext:
    """One TLS context (certifi's CAs, as httpx uses) for every run: building one
    reads the CA bundle, which costs more than a small request."""
    return ssl.create_default_context(cafile=certifi.where())


class HttpConnector(Connector[HttpConfigT]):
    """Base of every HTTP kind: builds one `HttpSession` per fetch (closed at its end).

    A kind implements `base_url()`, `auth_headers()` (secret headers, read at the
    start of each fetch), and `fetch` with `self.session()`; most use
    `fetch_pages` with a paginator. Tests set `retrying` (sleep, clock, jitter)
    and `transport` (an `httpx` transport) on the instance.
    """

    capabilities: ClassVar[frozenset[str]] = frozenset({"http"})

    def __init__(self, config: HttpConfigT, *, base_dir: Path) -> None:
        super().__init__(config, base_dir=base_dir)
        self.retrying = Retrying()
        self.transport: httpx.BaseTransport | None = None
        self.scrub = Scrubber()
        self.last_session: HttpSession | None = None
        self.refused_hint = "check the credentials the source config names"

    @abstractmethod
    def base_url(self) -> str:
        """The API's root (scheme and host); no request leaves that origin."""

    def auth_headers(self) -> dict[str, SecretStr]:
        """Headers holding secrets (read from env or files now); none by default."""
        return {}

    def plain_headers(self) -> dict[str, str]:
        return {"Accept": "application/json"}

    @contextmanager
    def session(self) -> Iterator[HttpSession]:
        secrets = self.auth_headers()
        for value in secrets.values():
            self.scrub.add(value)
        headers = {"User-Agent": USER_AGENT, **self.plain_headers()}
        headers.update({k: v.get_secret_value() for k, v in secrets.items()})
        timeout = httpx.Timeout(self.config.timeout_seconds)
        guard = NetworkGuard(self.config.allow_networks, kind=self.kind)
        transport = self.transport or GuardedTransport(guard, verify=_tls_context())
        with httpx.Client(
            headers=headers,
            timeout=timeout,
            transport=transport,
            event_hooks={"response": [guard.check_peer]},
            follow_redirects=False,
            verify=_tls_context(),
        ) as client:
            session = HttpSession(
                kind=self.kind,
                config=self.config,
                client=client,
                base_url=self.base_url(),
                retrying=self.retrying,
                scrub=self.scrub,
                refused_hint=self.refused_hint,
            )
            self.last_session = session
            try:
                yield session
            except (FatalError, RetriableError) as exc:
                cleaned = self.scrub(str(exc))
                if cleaned != str(exc):
                    exc.args = (cleaned,)
                raise

    def fetch_pages(
        self,
        session: HttpSession,
        paginator: Paginator,
        state: Mapping[str, Any] | None,
        *,
        records: Callable[[Any], list[Any]],
        parse: Callable[[Any, str], Iterator[RawItem | RejectedRecord]],
        cursor: Callable[[dict[str, Any]], Cursor],
    ) -> Iterator[Batch]:
        """One batch per page (or per group of pages holding `batch_size` records):
        `parse(record, location)` for each fresh record (a `RecordError` from it, or
        any exception, quarantines that record), and `cursor(paginator state)` after
        the batch's last page as its cursor."""
        items: list[RawItem] = []
        rejected: list[RejectedRecord] = []
        held = False  # pages read since the last batch
        group = self.config.batch_size or 1
        pages = session.pages(paginator, state, records)
        while True:
            try:
                page = next(pages)
            except StopIteration:
                break
            except ConnectorError:
                if held:  # store what was read before the failure, then fail
                    yield Batch(items, rejected, cursor(paginator.state()))
                raise
            held = True
            for n, record in enumerate(page.fresh, start=page.skip + 1):
                where = f"page {page.number} ({page.request.shown}), record {n}"
                for out in self.safely(parse, record, where):
                    if isinstance(out, RawItem):
                        items.append(out)
                    else:
                        rejected.append(out)
            if self.config.batch_size is None or len(items) + len(rejected) >= group:
                yield Batch(items, rejected, cursor(paginator.state()))
                items, rejected, held = [], [], False
        if held:
            yield Batch(items, rejected, cursor(paginator.state()))

    def safely(
        self,
        parse: Callable[[Any, str], Iterator[RawItem | RejectedRecord]],
        record: Any,
        where: str,
    ) -> list[RawItem | RejectedRecord]:
        """`parse(record, where)` as a list; a failure quarantines the record."""
        try:
            return [self._clean(out) for out in parse(record, where)]
        except RecordError as exc:
            return [
                RejectedRecord(
                    reason=self.scrub(exc.reason),
                    excerpt=self.scrub(exc.excerpt or excerpt(record)),
                    external_id=exc.external_id,
                    location=exc.location or where,
                )
            ]
        except ConnectorError:  # the source itself failed (a sub-request): the run stops
            raise
        except Exception as exc:  # a parser bug must not stop the run
            logger.exception("%s: unexpected error reading a record at %s", self.kind, where)
            return [
                RejectedRecord(
                    reason=self.scrub(f"could not read the record: {type(exc).__name__}: {exc}"),
                    excerpt=self.scrub(excerpt(record)),
                    location=where,
                )
            ]

    def _clean(self, out: RawItem | RejectedRecord) -> RawItem | RejectedRecord:
        if isinstance(out, RejectedRecord):
            return RejectedRecord(
                reason=self.scrub(out.reason),
                excerpt=self.scrub(out.excerpt),
                external_id=out.external_id,
                location=out.location,
            )
        return out
