"""Test doubles that are real implementations of the contracts, not mocks."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.models import Source
from connectors.base import Batch, Connector, ConnectorConfig, Cursor, RawItem, RejectedRecord
from nlp.enrichment import Enricher, Enrichment, EnrichRequest


class ListConfig(ConnectorConfig):
    pass


class Crash(RuntimeError):
    """Stands for the process dying: raised out of the fetch loop."""


class ListConnector(Connector[ListConfig]):
    """Serves fixed batches; cursor = number of batches delivered. `crash_after`
    raises after that many batches were handed out, like a process killed mid-run."""

    kind: ClassVar[str] = "test_list"
    channel: ClassVar[str] = "survey"
    config_model: ClassVar[type[ConnectorConfig]] = ListConfig

    def __init__(
        self,
        batches: list[tuple[list[RawItem], list[RejectedRecord]]],
        *,
        crash_after: int | None = None,
    ) -> None:
        super().__init__(ListConfig(), base_dir=Path("."))
        self.batches = batches
        self.crash_after = crash_after

    def fetch(self, cursor: Cursor | None) -> Iterator[Batch]:
        start = int((cursor or {}).get("batches", 0))
        for index in range(start, len(self.batches)):
            if self.crash_after is not None and index >= self.crash_after:
                raise Crash("killed")
            items, rejected = self.batches[index]
            yield Batch(items=items, rejected=rejected, cursor={"batches": index + 1})


def raw(n: int, text: str | None = None, **extra: object) -> RawItem:
    base = datetime(2026, 9, 1, 12, tzinfo=UTC)
    return RawItem(
        external_id=f"x-{n}",
        text=text or f"Item number {n}: the setup was easy but invoice {n} was wrong.",
        occurred_at=base + timedelta(hours=n),
        author_ref=f"c-{n % 7}",
        **extra,  # type: ignore[arg-type]
    )


def add_source(engine: Engine, source_id: str = "src", channel: str = "survey") -> None:
    with Session(engine) as session:
        session.add(Source(id=source_id, name=source_id, kind="test_list", channel=channel))
        session.commit()


class FailingEnricher:
    """Wraps a real enricher and fails on the Nth `enrich_many` call: a fault
    inside a batch, after the connector already handed the batch over."""

    def __init__(self, inner: Enricher, fail_on_call: int) -> None:
        self.inner = inner
        self.fail_on_call = fail_on_call
        self.calls = 0

    @property
    def version(self) -> str:
        return self.inner.version

    def enrich(self, text: str, *, stage_hint: str | None = None) -> Enrichment:
        return self.inner.enrich(text, stage_hint=stage_hint)

    def enrich_many(
        self, requests: Iterable[EnrichRequest], *, batch_size: int = 256
    ) -> Iterator[Enrichment]:
        self.calls += 1
        if self.calls == self.fail_on_call:
            raise OSError("disk full")
        return self.inner.enrich_many(requests, batch_size=batch_size)


def admin_headers(engine: Engine, *scopes: str) -> dict[str, str]:
    """A real key (admin unless scopes are given), as request headers."""
    from app.security.keys import create_key

    with Session(engine) as session:
        _, secret = create_key(
            session, name="tests", scopes=list(scopes or ("admin",)), created_by="tests"
        )
    return {"Authorization": f"Bearer {secret}"}


@contextmanager
def served(app: Any) -> Iterator[str]:
    """An ASGI app served by uvicorn in a thread on a free loopback port; its base URL."""
    import socket
    import threading
    import time

    import uvicorn

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
