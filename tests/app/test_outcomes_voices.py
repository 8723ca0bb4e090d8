"""The voices' columns (no database): facts added a few at a time, merged into
place, come out exactly as one sort of all of them would put them, ties included,
and said-versus-did answers the same from either."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import date, timedelta

import numpy as np
import pytest

from app.outcomes.voices import MERGE_AT_MOST, Voices

COLUMNS = (
    "stage",
    "customer",
    "day",
    "negative",
    "phrase_fact",
    "phrase",
    "phrase_stage",
    "phrase_customer",
    "phrase_day",
)


def facts(count: int, seed: int) -> list[tuple[int, str, str, object, str, list[str] | None]]:
    """Few stages, customers and days, so runs of equal keys (ties) are common."""
    rng = random.Random(seed)
    rows: list[tuple[int, str, str, object, str, list[str] | None]] = []
    for i in range(count):
        label = rng.choice(("negative", "negative", "positive"))
        themes = rng.sample(
            ["slow refund", "late bill", "rude agent", "app crash"], rng.randint(0, 2)
        )
        when = date(2025, 1, 1) + timedelta(days=rng.randrange(20))
        rows.append(
            (
                i + 1,
                rng.choice(("billing", "support", "use")),
                f"c{rng.randrange(30)}",
                when if i % 2 else when.isoformat(),  # PostgreSQL gives dates, SQLite text
                label,
                themes if label == "negative" else None,
            )
        )
    return rows


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_merged_a_few_at_a_time_equals_sorted_at_once(seed: int) -> None:
    rows = facts(1200, seed)
    whole = Voices()
    whole.add(rows)
    merged = Voices()
    merged.add(rows[:400])  # the first read: a sort
    rng = random.Random(seed)
    at = 400
    while at < len(rows):
        step = rng.randint(1, 40)
        merged.add(rows[at : at + step])
        at += step
    # The same vocabulary codes (first seen, first coded) in both
    assert merged.customers.names == whole.customers.names
    for name in COLUMNS:
        assert np.array_equal(getattr(merged, name), getattr(whole, name)), name
    assert merged.last_id == whole.last_id == len(rows)
    # and the phrase rows point at facts carrying the phrase row's own columns
    assert np.array_equal(merged.stage[merged.phrase_fact], merged.phrase_stage)
    assert np.array_equal(merged.day[merged.phrase_fact], merged.phrase_day)
    assert merged.negative[merged.phrase_fact].all()


def test_many_at_once_are_sorted_not_merged() -> None:
    rows = facts(MERGE_AT_MOST + 10, 4)
    first = Voices()
    first.add(rows[:10])
    first.add(rows[10:])
    whole = Voices()
    whole.add(rows)
    for name in COLUMNS:
        assert np.array_equal(getattr(first, name), getattr(whole, name)), name


def test_a_phrase_is_shown_in_the_form_most_voices_used_not_as_its_key() -> None:
    day = date(2025, 3, 1)
    heard = Voices()
    heard.add([(1, "billing", "c1", day, "negative", ["double charge"])])
    one = heard.phrases.codes["doubl charg"]  # the key inflections share
    assert heard.shown(one) == "double charge"
    older = heard
    heard = replace(older)  # as `voices()` reads more: a copy sharing what it can
    heard.add(
        [
            (2, "billing", "c2", day, "negative", ["double charged"]),
            (3, "billing", "c3", day, "negative", ["double charged", "late bill"]),
        ]
    )
    assert heard.shown(one) == "double charged"  # two voices against one
    assert older.shown(one) == "double charge"  # a copy being read is not changed
