"""The HTTP stream base on its own, with `httpx.MockTransport` (no server): retries,
backoff, Retry-After, error mapping, paginators; and `watch: true` on file kinds."""

from __future__ import annotations

import os
import random
import re
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest

from connectors.contract import Batch, Cursor, RawItem, RejectedRecord
from connectors.errors import FatalError, PaginationLoopError, RetriableError
from connectors.http import (
    CursorPaginator,
    HttpConfig,
    HttpConnector,
    Request,
    Retrying,
    dig,
    retry_after_seconds,
)
from connectors.secrets import Scrubber
from connectors.testing import FakeClock, ids, run
from connectors.values import parse_timestamp
from tests.connectors.kit import build, write


class EchoConfig(HttpConfig):
    pass


class EchoConnector(HttpConnector[EchoConfig]):
    """Reads `/items?cursor=` pages of `{"items": [...], "next": token}`."""

    kind: ClassVar[str] = "echo_http"
    channel: ClassVar[str] = "test"
    config_model: ClassVar[type[EchoConfig]] = EchoConfig

    def base_url(self) -> str:
        return "https://api.example"

    def fetch(self, cursor: Cursor | None) -> Iterator[Batch]:
        with self.session() as http:
            yield from self.fetch_pages(
                http,
                CursorPaginator(
                    Request.of("https://api.example/items"), param="cursor", next_path="next"
                ),
                cursor,
                records=lambda body: body["items"],
                parse=self.parse,
                cursor=lambda state: state,
            )

    def parse(self, record: Any, where: str) -> Iterator[RawItem | RejectedRecord]:
        yield RawItem(str(record), f"text {record}", parse_timestamp("2024-01-01"))


def echo(
    handler: Callable[[httpx.Request], httpx.Response], **config: Any
) -> tuple[EchoConnector, FakeClock]:
    connector = EchoConnector(EchoConfig(**config), base_dir=Path("."))
    connector.transport = httpx.MockTransport(handler)
    clock = FakeClock()
    connector.retrying = Retrying(sleep=clock.sleep, clock=clock, rng=random.Random(1))
    return connector, clock


def pages(*bodies: dict[str, Any]) -> Callable[[httpx.Request], httpx.Response]:
    by_cursor = {None: bodies[0], **{f"c{i}": b for i, b in enumerate(bodies[1:], start=1)}}
    return lambda request: httpx.Response(200, json=by_cursor[request.url.params.get("cursor")])


def test_backoff_doubles_with_jitter_up_to_the_cap() -> None:
    calls: list[int] = []

    def flaky(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(503 if len(calls) <= 6 else 200, json={"items": [1], "next": None})

    connector, clock = echo(flaky, backoff_seconds=1, max_backoff_seconds=8, max_retries=6)
    assert ids(run(connector)) == ["1"]
    steps = [1, 2, 4, 8, 8, 8]
    assert len(clock.sleeps) == 6
    for slept, step in zip(clock.sleeps, steps, strict=True):
        assert step / 2 <= slept <= step


def test_retries_out_raise_retriable_with_the_next_wait() -> None:
    connector, clock = echo(lambda r: httpx.Response(500), max_retries=2, backoff_seconds=10)
    with pytest.raises(RetriableError, match="gave up after 3 attempts") as info:
        run(connector)
    assert len(clock.sleeps) == 2
    assert 20 <= info.value.delay <= 40  # the step after the last one waited


def test_retry_after_as_an_http_date() -> None:
    when = datetime(2024, 1, 1, 12, 0, 30, tzinfo=UTC)
    response = httpx.Response(429, headers={"Retry-After": format_datetime(when, usegmt=True)})
    assert retry_after_seconds(response, now=when - timedelta(seconds=30)) == 30
    assert retry_after_seconds(httpx.Response(429, headers={"Retry-After": "soon"})) is None
    assert retry_after_seconds(httpx.Response(429, headers={"Retry-After": "12"})) == 12


def test_503_with_retry_after_waits_that_long() -> None:
    answers = iter([httpx.Response(503, headers={"Retry-After": "42"})])

    def handler(request: httpx.Request) -> httpx.Response:
        return next(answers, httpx.Response(200, json={"items": [], "next": None}))

    connector, clock = echo(handler)
    run(connector)
    assert clock.sleeps == [42]


def test_timeouts_and_resets_are_retried() -> None:
    answers: list[Exception] = [httpx.ReadTimeout("slow"), httpx.ConnectError("refused")]

    def handler(request: httpx.Request) -> httpx.Response:
        if answers:
            raise answers.pop(0)
        return httpx.Response(200, json={"items": [7], "next": None})

    connector, clock = echo(handler)
    assert ids(run(connector)) == ["7"]
    assert len(clock.sleeps) == 2


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (401, "refused the credentials (401"),
        (403, "refused the credentials (403"),
        (404, "was not found (404)"),
        (400, "refused /items (400"),
        (301, "redirects (301)"),
    ],
)
def test_client_errors_are_fatal_at_once(status: int, message: str) -> None:
    connector, clock = echo(
        lambda r: httpx.Response(
            status, json={"error": "nope"}, headers={"Location": "https://x.example/"}
        )
    )
    with pytest.raises(FatalError, match=re.escape(message)):
        run(connector)
    assert clock.sleeps == []


def test_a_server_echoing_the_token_is_scrubbed() -> None:
    class Tokened(EchoConnector):
        def auth_headers(self) -> dict[str, Any]:
            from pydantic import SecretStr

            return {"Authorization": SecretStr("Bearer abcdefgh12345678")}

    connector = Tokened(EchoConfig(), base_dir=Path("."))
    connector.transport = httpx.MockTransport(
        lambda r: httpx.Response(401, json={"error": f"bad token {r.headers['authorization']}"})
    )
    with pytest.raises(FatalError) as info:
        run(connector)
    assert "abcdefgh12345678" not in str(info.value)
    assert "***" in str(info.value)


def test_the_same_next_token_is_a_loop_not_a_hang() -> None:
    connector, _ = echo(pages({"items": [1], "next": "c1"}, {"items": [2], "next": "c1"}))
    stream = connector.fetch(None)
    delivered = [next(stream), next(stream)]  # the page with the repeated token is kept
    assert ids(delivered) == ["1", "2"]
    with pytest.raises(PaginationLoopError, match="same next token"):
        next(stream)
    assert delivered[-1].cursor == {"token": "c1", "skip": 1}
    assert ids(run_until_error(connector, delivered[-1].cursor)) == []  # resumes, no repeat


def run_until_error(connector: EchoConnector, cursor: Cursor) -> list[Batch]:
    out: list[Batch] = []
    try:
        out.extend(connector.fetch(cursor))
    except PaginationLoopError:
        pass
    return out


def test_cursor_token_pages_resume_exactly() -> None:
    bodies = (
        {"items": [1, 2], "next": "c1"},
        {"items": [3], "next": "c2"},
        {"items": [], "next": None},
    )
    connector, _ = echo(pages(*bodies))
    batches = run(connector)
    assert [b.cursor for b in batches] == [
        {"token": "c1", "skip": 0},
        {"token": "c2", "skip": 0},
        {"token": "c2", "skip": 0},
    ]
    assert ids(run(connector, batches[0].cursor)) == ["3"]


def test_dig_reads_dotted_paths() -> None:
    body = {"a": {"b": [{"c": 1}, {"c": 2}]}}
    assert dig(body, "a.b.-1.c") == 2
    assert dig(body, "a.b.5.c") is None
    assert dig(body, "$") == body
    assert dig(body, "") == body
    assert dig(body, "a.x.y") is None


def test_request_equality_ignores_parameter_order() -> None:
    assert Request.of("https://a.example/x?b=2&a=1") == Request.of(
        "https://a.example/x", {"a": 1, "b": 2}
    )
    assert Request.of("https://a.example/x", {"a": None}).params == ()


def test_scrubber_cuts_basic_auth_and_bare_tokens() -> None:
    import base64

    from pydantic import SecretStr

    scrub = Scrubber([SecretStr("Basic " + base64.b64encode(b"me/token:abc123456789").decode())])
    scrub.add(SecretStr("abc123456789"))
    text = scrub("sent abc123456789 and " + base64.b64encode(b"me/token:abc123456789").decode())
    assert "abc123456789" not in text


# --------------------------------------------------------------------------- watch


def test_watch_leaves_a_file_still_being_written_for_the_next_run(tmp_path: Path) -> None:
    write(tmp_path / "drop/a.csv", "response_id,submitted_at,comment\nr1,2024-01-01,Done copying\n")
    write(tmp_path / "drop/b.csv", "response_id,submitted_at,comment\nr2,2024-01-01,Half cop")
    old = time.time() - 3600
    os.utime(tmp_path / "drop/a.csv", (old, old))
    config = {
        "path": "drop",
        "id_column": "response_id",
        "date_column": "submitted_at",
        "answers": [{"column": "comment"}],
        "watch": True,
        "settle_seconds": 60,
    }
    connector = build("survey_file", config, tmp_path)
    first = run(connector)
    assert ids(first) == ["r1:comment"]
    assert list(first[-1].cursor["files"]) == ["a.csv"]
    write(
        tmp_path / "drop/b.csv",
        "response_id,submitted_at,comment\nr2,2024-01-01,Half copied no more\n",
    )
    os.utime(tmp_path / "drop/b.csv", (old, old))
    second = run(connector, first[-1].cursor)
    assert ids(second) == ["r2:comment"]
    assert run(connector, second[-1].cursor) == []
    write(
        tmp_path / "drop/a.csv",
        "response_id,submitted_at,comment\nr1,2024-01-01,Done copying\nr3,2024-01-02,More\n",
    )
    os.utime(tmp_path / "drop/a.csv", (old + 1, old + 1))
    assert ids(run(connector, second[-1].cursor)) == [
        "r1:comment",
        "r3:comment",
    ]  # changed: read again


def test_batch_size_groups_whole_pages_and_resumes_exactly() -> None:
    bodies = (
        {"items": [1, 2], "next": "c1"},
        {"items": [3, 4], "next": "c2"},
        {"items": [5], "next": "c3"},
        {"items": [], "next": None},
    )
    connector, _ = echo(pages(*bodies), batch_size=3)
    batches = run(connector)
    assert [ids([b]) for b in batches] == [["1", "2", "3", "4"], ["5"]]
    assert batches[0].cursor == {"token": "c2", "skip": 0}
    assert ids(run(connector, batches[0].cursor)) == ["5"]


def test_a_failure_mid_group_stores_the_pages_read_first() -> None:
    answers = {None: {"items": [1, 2], "next": "c1"}, "c1": {"items": [3], "next": "c2"}}

    def handler(request: httpx.Request) -> httpx.Response:
        token = request.url.params.get("cursor")
        return httpx.Response(200, json=answers[token]) if token in answers else httpx.Response(500)

    connector, _ = echo(handler, batch_size=10, max_retries=1)
    stream = connector.fetch(None)
    first = next(stream)
    assert ids([first]) == ["1", "2", "3"]
    assert first.cursor == {"token": "c2", "skip": 0}
    with pytest.raises(RetriableError):
        next(stream)
