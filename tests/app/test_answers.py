"""Answers kept per state of the data (no database): made once per state; while a
newer state's answer is being made, askers get the one before; a question never
answered is made by one asker while the others wait for it."""

from __future__ import annotations

import threading
import time

from app.readmodel.answers import Answers


def test_one_answer_per_state_and_the_one_before_while_a_newer_is_made() -> None:
    answers: Answers[str] = Answers()
    made: list[str] = []

    def make(label: str) -> str:
        made.append(label)
        return label

    assert answers.get("story", 1, lambda: make("at 1")) == "at 1"
    assert answers.get("story", 1, lambda: make("again")) == "at 1"  # same state: kept
    with answers.making("story"):  # another request is making the state-2 answer
        assert answers.get("story", 2, lambda: make("at 2, too")) == "at 1"
    assert answers.get("story", 2, lambda: make("at 2")) == "at 2"
    assert made == ["at 1", "at 2"]
    assert answers.get("other", 2, lambda: make("other")) == "other"  # questions apart


def test_a_question_never_answered_is_made_once_for_everyone_asking() -> None:
    answers: Answers[int] = Answers()
    calls: list[int] = []
    release = threading.Event()

    def make() -> int:
        calls.append(1)
        release.wait(10)
        return 42

    got: list[int] = []
    askers = [
        threading.Thread(target=lambda: got.append(answers.get("q", 1, make))) for _ in range(5)
    ]
    for asker in askers:
        asker.start()
    time.sleep(0.2)  # all five asking: one makes, four wait (there is nothing before)
    release.set()
    for asker in askers:
        asker.join(10)
    assert got == [42] * 5
    assert calls == [1]


def test_only_the_last_questions_are_kept() -> None:
    answers: Answers[int] = Answers(kept=2)
    for q in ("a", "b", "c"):
        answers.get(q, 1, lambda q=q: ord(q))  # type: ignore[misc]
    made: list[str] = []
    answers.get("a", 1, lambda: made.append("a") or 0)  # type: ignore[func-returns-value]
    answers.get("c", 1, lambda: made.append("c") or 0)  # type: ignore[func-returns-value]
    assert made == ["a"]  # "a" was dropped for "c"; "c" is kept


def test_a_bounded_staleness_serves_newer_states_until_the_answer_is_that_old() -> None:
    answers: Answers[str] = Answers()
    first = answers.kept("story", 1, lambda: "at 1", stale_for=0.5)
    assert first.value == "at 1"
    assert answers.kept("story", 2, lambda: "at 2", stale_for=0.5) is first  # young enough
    assert answers.kept("story", 2, lambda: "exact", stale_for=0.0).value == "exact"
    time.sleep(0.05)
    young = answers.kept("story", 3, lambda: "at 3", stale_for=0.5)
    assert young.value == "exact"
    assert young.state == 2
    time.sleep(0.5)
    again = answers.kept("story", 3, lambda: "at 3", stale_for=0.5)
    assert (again.value, again.state) == ("at 3", 3)
    assert again.age() < 0.5 < young.age()
