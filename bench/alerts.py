"""Early-warning detection: recall per surge size, false alarms, delay.

    python bench/alerts.py [--companies 20] [--seed 5]

Generates companies with a year of background feedback per journey stage: a
weekday rhythm (quieter weekends), day-to-day noise beyond counting noise (a
gamma-Poisson mix), a slow trend over the year, each stage with its own volume
(from a quiet 15 to a busy 400 voices a day) and negative share. Then plants
negative surges of several sizes on known stages and days, lasting one to three
days: a surge of size xF makes each of its days hold F times the stage's normal
negative voices for that weekday, adding at least the size's minimum of extra voices and runs the product's own detectors
(`app.alerts.detectors`, with their defaults or `--z` / `--min-extra`) day by
day, as `evaluate` does when each day's data arrives.

Prints recall per surge size (detected on the surge's first day, and within its
days), false alarms per stage-month and per stage-quarter on un-planted days, and
the delay from a surge's first day to its alert. The issue's targets: recall >=
0.9 for surges that double a stage's negative voices with at least 20 extra
voices, detected on the day the data arrives; at most one false alarm per stage
per quarter.
"""

from __future__ import annotations

import argparse
import math
import random
import sys
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.alerts.detectors import Day, Thresholds, negative_surge, nps_drop, quiet  # noqa: E402

STAGES = 8
DAYS = 365
WARMUP = 56  # days before judging starts: the baseline window
WEEKDAY = [1.1, 1.15, 1.1, 1.05, 1.0, 0.7, 0.6]  # Monday .. Sunday


def company(rng: np.random.Generator) -> list[dict[str, float]]:
    stages = []
    for _ in range(STAGES):
        stages.append(
            {
                "volume": float(math.exp(rng.uniform(math.log(15), math.log(400)))),
                "negative": float(rng.uniform(0.15, 0.55)),
                "trend": float(rng.uniform(-0.3, 0.4)),  # change over the year
                "dispersion": float(rng.uniform(0.05, 0.2)),  # extra noise (CV of the rate)
                "nps": float(rng.uniform(0.3, 0.6)),  # share answering NPS
            }
        )
    return stages


def background(
    rng: np.random.Generator, stage: dict[str, float], start: date
) -> dict[date, list[int]]:
    """voices, negative, nps answers, promoters, detractors per day."""
    out: dict[date, list[int]] = {}
    for n in range(DAYS):
        day = start + timedelta(days=n)
        rate = stage["volume"] * WEEKDAY[day.weekday()] * (1 + stage["trend"] * n / DAYS)
        shape = 1 / stage["dispersion"] ** 2
        rate = float(rng.gamma(shape, rate / shape))
        voices = int(rng.poisson(rate))
        negative = int(rng.binomial(voices, stage["negative"]))
        answers = int(rng.binomial(voices, stage["nps"]))
        detractors = int(rng.binomial(answers, min(0.95, stage["negative"] * 1.1)))
        promoters = int(rng.binomial(answers - detractors, 0.55))
        out[day] = [voices, negative, answers, promoters, detractors]
    return out


def series_of(days: dict[date, list[int]]) -> dict[date, Day]:
    return {d: Day(*v) for d, v in days.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--companies", type=int, default=20)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--z", type=float, default=None)
    parser.add_argument("--min-extra", type=int, default=None)
    parser.add_argument("--confirm-z", type=float, default=None)
    args = parser.parse_args()
    overrides: dict[str, float] = {}
    if args.z is not None:
        overrides["z"] = args.z
    if args.min_extra is not None:
        overrides["min_extra"] = args.min_extra
    if args.confirm_z is not None:
        overrides["confirm_z"] = args.confirm_z
    t = Thresholds(**overrides)  # type: ignore[arg-type]
    rng = np.random.default_rng(args.seed)
    pick = random.Random(args.seed)
    start = date(2025, 1, 6)
    # surge sizes: (multiple of the stage's normal negatives, extra at least)
    sizes = [(1.5, 10), (2.0, 20), (3.0, 20)]
    caught_first: dict[tuple[float, int], list[bool]] = defaultdict(list)
    caught_any: dict[tuple[float, int], list[bool]] = defaultdict(list)
    delays: dict[tuple[float, int], list[int]] = defaultdict(list)
    false_alarms = 0
    judged_days = 0
    nps_false = quiet_false = 0
    for _ in range(args.companies):
        stages = company(rng)
        for stage in stages:
            days = background(rng, stage, start)
            clean = series_of(days)
            # false alarms: every judged day of the un-planted year
            for n in range(WARMUP, DAYS):
                day = start + timedelta(days=n)
                judged_days += 1
                false_alarms += negative_surge(clean, day, t) is not None
                nps_false += nps_drop(clean, day, t) is not None
                quiet_false += quiet(clean, day, t) is not None
            # plants: one surge of each size at a random day, on a copy of the year
            for size in sizes:
                factor, at_least = size
                first = start + timedelta(days=pick.randrange(WARMUP + 7, DAYS - 5))
                length = pick.choice([1, 2, 3])
                planted = {d: list(v) for d, v in days.items()}
                for k in range(length):
                    # the surge makes the day's negatives `factor` times the stage's
                    # normal for that weekday (its expected count, trend included),
                    # adding at least `at_least` voices
                    when = first + timedelta(days=k)
                    normal = (
                        stage["volume"]
                        * WEEKDAY[when.weekday()]
                        * (1 + stage["trend"] * (when - start).days / DAYS)
                        * stage["negative"]
                    )
                    cell = planted[when]
                    extra = max(at_least, round(factor * normal) - cell[1])
                    cell[0] += extra
                    cell[1] += extra
                series = series_of(planted)
                hits = [
                    negative_surge(series, first + timedelta(days=k), t) is not None
                    for k in range(length)
                ]
                caught_first[size].append(hits[0])
                caught_any[size].append(any(hits))
                if any(hits):
                    delays[size].append(hits.index(True))
    stage_months = judged_days / 30.4
    print(f"{args.companies} companies x {STAGES} stages, {DAYS - WARMUP} judged days each")
    print(
        f"thresholds: z={t.z}, confirm_z={t.confirm_z}, min_extra={t.min_extra}, "
        f"baseline_days={t.baseline_days}"
    )
    print(
        f"{'surge':34s} {'recall (first day)':>18s} {'recall (any day)':>16s} {'mean delay':>10s}"
    )
    for size in sizes:
        factor, at_least = size
        name = f"x{factor:g} negatives, >= {at_least} extra"
        first = sum(caught_first[size]) / len(caught_first[size])
        anyday = sum(caught_any[size]) / len(caught_any[size])
        mean_delay = sum(delays[size]) / len(delays[size]) if delays[size] else float("nan")
        print(f"{name:34s} {first:18.3f} {anyday:16.3f} {mean_delay:9.2f}d")
    print(
        f"false alarms (negative surge): {false_alarms} on {judged_days} stage-days = "
        f"{false_alarms / stage_months:.3f} per stage-month, "
        f"{3 * false_alarms / stage_months:.3f} per stage-quarter (target <= 1)"
    )
    print(
        f"false alarms on the same clean years: NPS drop {nps_false}, quiet stage {quiet_false} "
        f"({3 * (nps_false + quiet_false) / stage_months:.3f} per stage-quarter)"
    )


if __name__ == "__main__":
    main()
