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
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Generic, TypeVar

from sqlalchemy.engine import Connection

from app.readmodel.shared import Codec, MadeElsewhere, Shared, shared
from app.readmodel.versions import (
    ALERTS_CHANGED,
    FACTS_ADDED,
    FACTS_REMOVED,
    OUTCOMES_CHANGED,
    ROLLUPS_CHANGED,
    read,
)

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Kept(Generic[T]):
    """An answer as kept: made at `made_at` (`time.time()`) for the state `state`."""

    value: T
    state: Hashable
    made_at: float

    def age(self, now: float | None = None) -> float:
        return max(0.0, (time.time() if now is None else now) - self.made_at)


class Answers(Generic[T]):
    """The last `kept` questions' answers, each with the state it was made for."""

    def __init__(self, kept: int = 32) -> None:
        self._kept = kept
        self._guard = threading.Lock()
        self._latest: OrderedDict[Hashable, Kept[T]] = OrderedDict()
        self._making: dict[Hashable, threading.Lock] = {}

    def get(self, question: Hashable, state: Hashable, make: Callable[[], T]) -> T:
        return self.kept(question, state, make).value

    def kept(
        self,
        question: Hashable,
        state: Hashable,
        make: Callable[[], T],
        *,
        stale_for: float = 0.0,
        share: Shared[T] | None = None,
    ) -> Kept[T]:
        """The answer for `state`, or the one before while another request makes it.
        With `stale_for`, an answer made less than that many seconds ago serves a newer
        state too (a bounded staleness, for services under a stream of writes). With
        `share`, one replica makes it and the others read it (`app.readmodel.shared`)."""
        with self._guard:
            before = self._latest.get(question)
            if before is not None and (
                before.state == state or (stale_for > 0 and before.age() < stale_for)
            ):
                self._latest.move_to_end(question)
                return before
            making = self._making.setdefault(question, threading.Lock())
        if before is not None:  # made for another state of the data
            if not making.acquire(blocking=False):
                return before  # a newer one is being made: this one, a moment old
        else:
            making.acquire()
        try:
            with self._guard:
                known = self._latest.get(question)
                if known is not None and known.state == state:
                    return known  # made by the request this one waited for
            if share is None:
                answer = Kept(make(), state, time.time())
            else:
                try:
                    value, made_at = share.fetch_or_make(
                        question, state, make, has_before=before is not None
                    )
                except MadeElsewhere:
                    assert before is not None
                    return before  # another replica makes it: this one, a moment old
                answer = Kept(value, state, made_at)
            with self._guard:
                self._latest[question] = answer
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
    kept: Answers[T],
    conn: Connection,
    asked: tuple[object, ...],
    make: Callable[[], T],
    *,
    stale_for: float = 0.0,
    codec: Codec[T] | None = None,
) -> Kept[T]:
    """An answer counted from the story's inputs, made once per their state (and on
    PostgreSQL once between the replicas, given a `codec` to store it with). The
    question names the database and today (which places the presets and the
    outcomes band's period) besides what was `asked`."""
    question = (
        conn.engine.url.render_as_string(hide_password=True),
        datetime.now(UTC).date(),
        *asked,
    )
    state = read(conn, *STORY_INPUTS)
    return kept.kept(question, state, make, stale_for=stale_for, share=shared(conn.engine, codec))


def age_headers(kept: Kept[T]) -> dict[str, str]:
    """How old an answer is, said with it: `Age` (seconds, as HTTP caches say it) and
    the moment it was made. Without `LP_ANSWER_STALE_SECONDS` it holds every write
    committed before the request; with it, those up to that many seconds before."""
    made = datetime.fromtimestamp(kept.made_at, UTC).isoformat(timespec="milliseconds")
    return {"Age": str(int(kept.age())), "X-Made-At": made.replace("+00:00", "Z")}
