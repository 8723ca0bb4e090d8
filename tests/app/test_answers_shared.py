"""Answers shared between replicas (PostgreSQL): made by one, read by the others;
while one makes a newer one, the others serve what they had, or wait if nothing."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from app.readmodel.answers import Answers
from app.readmodel.shared import BYTES, Shared


@pytest.fixture
def share(engine: Engine) -> Shared[bytes]:
    if engine.dialect.name != "postgresql":
        pytest.skip("answers are shared between replicas on PostgreSQL; SQLite is one process")
    return Shared(engine, BYTES)


def test_one_replica_makes_an_answer_and_the_others_read_it(
    share: Shared[bytes], engine: Engine
) -> None:
    first, second = Answers[bytes](), Answers[bytes]()  # two replicas' memories
    made: list[str] = []

    def make(who: str, state: int) -> bytes:
        made.append(who)
        return f"story at {state} by {who}".encode()

    one = first.kept("story", 1, lambda: make("first", 1), share=share)
    two = second.kept("story", 1, lambda: make("second", 1), share=share)
    assert one.value == two.value == b"story at 1 by first"
    assert made == ["first"]
    assert abs(two.made_at - one.made_at) < 0.01  # its age is the maker's
    again = second.kept("story", 2, lambda: make("second", 2), share=share)
    assert again.value == b"story at 2 by second"  # a newer state: made anew, once
    assert first.kept("story", 2, lambda: make("first", 2), share=share).value == again.value
    assert made == ["first", "second"]
    with engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM kept_answers")).scalar() == 1


def test_while_one_replica_makes_the_others_serve_theirs_or_wait(share: Shared[bytes]) -> None:
    maker, had_one, new = Answers[bytes](), Answers[bytes](), Answers[bytes]()
    assert maker.kept("q", 1, lambda: b"at 1", share=share).value == b"at 1"
    assert had_one.kept("q", 1, lambda: b"never", share=share).value == b"at 1"
    release, started = threading.Event(), threading.Event()

    def slow() -> bytes:
        started.set()
        release.wait(10)
        return b"at 2"

    making = threading.Thread(target=lambda: maker.kept("q", 2, slow, share=share))
    making.start()
    assert started.wait(10)
    served = had_one.kept("q", 2, lambda: b"made twice", share=share)
    assert served.value == b"at 1"  # the one it had, not a second making
    waited: list[bytes] = []
    waiting = threading.Thread(
        target=lambda: waited.append(new.kept("q", 2, lambda: b"made twice", share=share).value)
    )
    waiting.start()
    time.sleep(0.3)
    assert waited == []  # nothing to serve: it waits for the maker
    release.set()
    making.join(10)
    waiting.join(10)
    assert waited == [b"at 2"]
    assert had_one.kept("q", 2, lambda: b"made twice", share=share).value == b"at 2"
