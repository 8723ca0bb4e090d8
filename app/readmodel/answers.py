"""Answers computed once per state of the data, for questions many requests ask at
once (the story of the last 30 days, the leadership band).

A question's answer is kept with the state it was made for (the read model's
change counters, `app.readmodel.versions`, bumped by the writing transactions),
so a request after a write gets an answer with the write in it. While one request
makes the answer for a newer state, the others asking the same question get the
answer before instead of waiting: under a stream of pushes (each a new state) they
would otherwise queue behind an answer that is stale again by the time it is made,
each holding a database connection. Only a question never answered before waits,
for the one request making it (single flight).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from datetime import UTC, datetime
from typing import Generic, TypeVar

from sqlalchemy.engine import Connection

from app.readmodel.versions import (
    ALERTS_CHANGED,
    FACTS_ADDED,
    FACTS_REMOVED,
    OUTCOMES_CHANGED,
    ROLLUPS_CHANGED,
    read,
)

T = TypeVar("T")


class Answers(Generic[T]):
    """The last `kept` questions' answers, each with the state it was made for."""

    def __init__(self, kept: int = 32) -> None:
        self._kept = kept
        self._guard = threading.Lock()
        self._latest: OrderedDict[Hashable, tuple[Hashable, T]] = OrderedDict()
        self._making: dict[Hashable, threading.Lock] = {}

    def get(self, question: Hashable, state: Hashable, make: Callable[[], T]) -> T:
        with self._guard:
            known = self._latest.get(question)
            if known is not None and known[0] == state:
                self._latest.move_to_end(question)
                return known[1]
            making = self._making.setdefault(question, threading.Lock())
        if known is not None:  # made for another state of the data
            if not making.acquire(blocking=False):
                return known[1]  # a newer one is being made: this one, a moment old
        else:
            making.acquire()
        try:
            with self._guard:
                known = self._latest.get(question)
                if known is not None and known[0] == state:
                    return known[1]  # made by the request this one waited for
            answer = make()
            with self._guard:
                self._latest[question] = (state, answer)
                self._latest.move_to_end(question)
                while len(self._latest) > self._kept:
                    self._latest.popitem(last=False)
            return answer
        finally:
            making.release()
            with self._guard:  # forget the locks of questions no longer kept
                for gone in [
                    q
                    for q, lock in self._making.items()
                    if q not in self._latest and not lock.locked()
                ]:
                    del self._making[gone]

    def making(self, question: Hashable) -> threading.Lock:
        """The lock held while the question's answer is made (for tests)."""
        with self._guard:
            return self._making.setdefault(question, threading.Lock())

    def clear(self) -> None:
        with self._guard:
            self._latest.clear()


STORY_INPUTS = (ROLLUPS_CHANGED, FACTS_ADDED, FACTS_REMOVED, OUTCOMES_CHANGED, ALERTS_CHANGED)
"""The change counters of everything a story, stage or page answer is counted from:
the rollups, the voices, the outcomes and the open alerts."""


def of_the_story(
    kept: Answers[T], conn: Connection, asked: tuple[object, ...], make: Callable[[], T]
) -> T:
    """An answer counted from the story's inputs, made once per their state. The
    question names the database and today (which places the presets and the
    outcomes band's period) besides what was `asked`."""
    question = (
        conn.engine.url.render_as_string(hide_password=True),
        datetime.now(UTC).date(),
        *asked,
    )
    return kept.get(question, read(conn, *STORY_INPUTS), make)
