"""The detectors on generated daily series: what fires, what stays quiet."""

from __future__ import annotations

import random
from datetime import date, timedelta

from app.alerts.detectors import (
    Day,
    Thresholds,
    negative_surge,
    nps_drop,
    phrase_surges,
    quiet,
    weekday_factors,
)

T = Thresholds()
START = date(2026, 1, 5)  # a Monday


def year(
    days: int = 90, voices: int = 100, share: float = 0.3, seed: int = 1, weekend: float = 1.0
) -> dict[date, Day]:
    rng = random.Random(seed)
    out = {}
    for n in range(days):
        day = START + timedelta(days=n)
        rate = voices * (weekend if day.weekday() >= 5 else 1.0)
        v = max(0, round(rng.gauss(rate, rate**0.5)))
        neg = sum(rng.random() < share for _ in range(v))
        answers = v // 2
        detractors = sum(rng.random() < share for _ in range(answers))
        promoters = sum(rng.random() < 0.5 for _ in range(answers - detractors))
        out[day] = Day(v, neg, answers, promoters, detractors)
    return out


def plant(series: dict[date, Day], day: date, extra: int) -> dict[date, Day]:
    planted = dict(series)
    d = planted[day]
    planted[day] = Day(
        d.voices + extra, d.negative + extra, d.nps_answers, d.promoters, d.detractors
    )
    return planted


def test_a_doubling_of_complaints_fires_on_its_day_and_normal_days_do_not() -> None:
    series = year()
    last = START + timedelta(days=89)
    assert [
        d for d in series if d > START + timedelta(days=30) and negative_surge(series, d, T)
    ] == []
    surged = plant(series, last, 30)
    found = negative_surge(surged, last, T)
    assert found is not None
    assert found.detector == "negative_surge"
    assert found.value == surged[last].negative
    assert found.baseline < found.high < found.value


def test_small_jumps_and_busy_days_page_nobody() -> None:
    series = year(voices=20)
    last = START + timedelta(days=89)
    assert negative_surge(plant(series, last, 8), last, T) is None  # under min_extra
    busy = dict(series)
    d = busy[last]  # twice the voices, the usual share negative: a busy day, not a surge
    busy[last] = Day(d.voices * 2, d.negative * 2, d.nps_answers, d.promoters, d.detractors)
    big = year(voices=400)
    b = big[last]
    big[last] = Day(b.voices + 200, b.negative + 60, b.nps_answers, b.promoters, b.detractors)
    assert negative_surge(big, last, T) is None


def test_weekday_rhythm_sets_the_baseline_of_each_weekday() -> None:
    series = year(weekend=0.3)
    factors = weekday_factors(sorted(series), [float(series[d].voices) for d in sorted(series)])
    assert factors[6] < 0.5 < factors[1]
    sunday = max(d for d in series if d.weekday() == 6)
    # a normal Monday's count on a Sunday is a surge; on a Monday it is not
    monday_like = round(100 * 0.3)
    s = dict(series)
    s[sunday] = Day(100, monday_like + 25)
    assert negative_surge(s, sunday, T) is not None
    monday = max(d for d in series if d.weekday() == 0)
    assert negative_surge(series, monday, T) is None


def test_too_little_history_is_not_judged() -> None:
    series = year(days=10)
    last = START + timedelta(days=9)
    assert negative_surge(plant(series, last, 200), last, T) is None


def test_a_phrase_surging_within_a_stage_is_named() -> None:
    last = START + timedelta(days=60)
    steady = {START + timedelta(days=n): 2 for n in range(60)}
    phrases = {
        "double charged": {**steady, last: 25},
        "app crash": {**steady, last: 3},
        "refund": {START + timedelta(days=n): 20 for n in range(61)},
    }
    found = phrase_surges(phrases, last, T)
    assert [f.phrase for f in found] == ["double charged"]
    assert found[0].value == 25


def test_nps_drop_needs_enough_answers_and_a_real_fall() -> None:
    series = year(days=80)
    last = START + timedelta(days=79)
    assert nps_drop(series, last, T) is None
    fallen = dict(series)
    for n in range(7):
        d = last - timedelta(days=n)
        v = fallen[d]
        fallen[d] = Day(v.voices, v.negative, v.nps_answers, 0, v.nps_answers)
    found = nps_drop(fallen, last, T)
    assert found is not None
    assert found.value == -100
    assert found.baseline > found.value + T.nps_min_drop


def test_a_busy_stage_going_quiet_fires_a_quiet_stage_never() -> None:
    busy = year(voices=80)
    last = START + timedelta(days=89)
    broken = dict(busy)
    broken[last] = Day(2, 1)
    found = quiet(broken, last, T)
    assert found is not None
    assert found.detector == "quiet"
    assert quiet(busy, last, T) is None
    small = year(voices=5)
    small[last] = Day(0, 0)
    assert quiet(small, last, T) is None  # a stage that is never busy cannot go quiet
