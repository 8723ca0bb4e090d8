"""Early-warning detectors: pure functions of a stage's daily numbers.

Each detector compares one day with that stage's own normal range, learnt from
the trailing weeks before it (never from the day itself):

- the level is the median of the trailing days, each first divided by its
  weekday's factor (how busy that weekday is against the mean, where at least
  four weeks show a rhythm), so a Monday is compared with Mondays and a slow
  trend moves the baseline with it;
- the spread is the larger of the counting noise (Poisson: the square root of
  the expected count) and the robust spread of the trailing days around their
  baselines (1.4826 x MAD), so a noisy stage needs a bigger jump to fire;
- a day fires only when it is beyond `baseline + z x spread` AND adds at least
  `min_extra` voices: a jump from 2 to 6 complaints pages nobody.

The defaults were measured with `bench/alerts.py` (recall per surge size, false
alarms per stage and quarter); every one is a setting (`alerts:` in the sources file).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from statistics import median

from pydantic import BaseModel, ConfigDict, Field


class Thresholds(BaseModel):
    """Every threshold of the detectors, with the defaults `bench/alerts.py` measured."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    baseline_days: int = Field(56, ge=14, le=365, description="trailing days learnt from")
    min_history_days: int = Field(21, ge=7, description="days of history before a stage is judged")
    z: float = Field(3.0, gt=0, description="how many spreads above normal a day must be")
    confirm_z: float = Field(
        2.0,
        ge=0,
        description="spreads above today's own volume at the normal negative share (a busy "
        "day of every kind of voice is not a surge of complaints)",
    )
    strong_z: float = Field(
        6.0,
        gt=0,
        description="spreads above normal that need no such confirmation (a stage whose "
        "voices are mostly complaints anyway can only surge in volume)",
    )
    min_extra: int = Field(12, ge=1, description="voices above normal a surge must add")
    share_z: float = Field(4.0, gt=0, description="spreads for the negative share")
    share_min_voices: int = Field(30, ge=1, description="voices a day needs to judge its share")
    share_min_rise: float = Field(0.15, gt=0, le=1, description="share points a rise must add")
    phrase_min_voices: int = Field(8, ge=1, description="voices saying a phrase to call it a surge")
    phrase_ratio: float = Field(3.0, gt=1, description="times its normal daily count")
    nps_window_days: int = Field(7, ge=1, description="days whose NPS is compared")
    nps_min_answers: int = Field(40, ge=1, description="NPS answers the window needs")
    nps_min_drop: int = Field(15, ge=1, description="NPS points a drop must lose")
    nps_z: float = Field(3.0, gt=0, description="standard errors a drop must exceed")
    quiet_min_baseline: float = Field(20, gt=0, description="normal voices/day of a busy stage")
    revenue_at_risk_above: float | None = Field(
        None,
        gt=0,
        description="money a year: alert when the customers who spoke negatively in a stage "
        "in the last revenue_window_days and have not left are worth more (needs outcomes; "
        "off unless set)",
    )
    revenue_window_days: int = Field(90, ge=7, le=365, description="the window it looks back")
    quiet_share: float = Field(0.2, gt=0, lt=1, description="below this share of normal is quiet")
    resolve_after_days: int = Field(3, ge=1, description="days back in range that resolve it")


@dataclass(frozen=True, slots=True)
class Day:
    """A stage's numbers on one day (all channels and sources)."""

    voices: int = 0
    negative: int = 0
    nps_answers: int = 0
    promoters: int = 0
    detractors: int = 0


@dataclass(frozen=True, slots=True)
class Finding:
    """A day beyond its stage's normal range: what, how far, against what."""

    detector: str  # negative_surge | phrase_surge | nps_drop | quiet | revenue_at_risk
    measure: str  # what was measured, in words
    value: float  # the day's value
    baseline: float  # what was expected
    low: float  # the normal range
    high: float
    phrase: str | None = None

    @property
    def title(self) -> str:
        return self.measure


@dataclass(frozen=True, slots=True)
class Expected:
    baseline: float
    spread: float


def weekday_factors(days: Sequence[date], values: Sequence[float]) -> dict[int, float]:
    """How busy each weekday is against the mean (1.0 without four weeks of rhythm)."""
    if len(days) < 28 or not any(values):
        return dict.fromkeys(range(7), 1.0)
    overall = sum(values) / len(values)
    factors: dict[int, float] = {}
    for weekday in range(7):
        mine = [v for d, v in zip(days, values, strict=True) if d.weekday() == weekday]
        factors[weekday] = (sum(mine) / len(mine)) / overall if mine and overall else 1.0
    return {w: max(f, 0.05) for w, f in factors.items()}


def expected(history: Mapping[date, float], day: date, t: Thresholds) -> Expected | None:
    """The normal value of `day` from the `baseline_days` before it, or None with too
    little history to judge."""
    days = [day - timedelta(days=n) for n in range(t.baseline_days, 0, -1)]
    known = [d for d in days if d in history]
    if not known or (day - known[0]).days < t.min_history_days:
        return None
    first = known[0]
    span = [d for d in days if d >= first]  # a day with no voices is a 0, not missing
    values = [history.get(d, 0.0) for d in span]
    factors = weekday_factors(span, values)
    level = median(v / factors[d.weekday()] for d, v in zip(span, values, strict=True))
    baseline = level * factors[day.weekday()]
    residuals = [v - level * factors[d.weekday()] for d, v in zip(span, values, strict=True)]
    center = median(residuals)
    mad = median(abs(r - center) for r in residuals) * 1.4826
    return Expected(baseline, max(math.sqrt(max(baseline, 1.0)), mad))


def _share_excess(series: Mapping[date, Day], day: date, t: Thresholds) -> float | None:
    """How many spreads today's negatives are above what today's own volume at the
    stage's normal negative share would give: a busy day (more voices of every kind)
    is not a surge of complaints. The spread is the binomial noise of today's volume
    plus the day-to-day wobble of the share itself (robust: 1.4826 x MAD)."""
    today = series.get(day, Day())
    start = day - timedelta(days=t.baseline_days)
    past = [v for d, v in series.items() if start <= d < day and v.voices]
    voices = sum(v.voices for v in past)
    if not voices or not today.voices:
        return None
    share = sum(v.negative for v in past) / voices
    shares = [v.negative / v.voices for v in past if v.voices >= 10]
    wobble = 0.0
    if len(shares) >= 7:
        center = median(shares)
        wobble = median(abs(x - center) for x in shares) * 1.4826
        # the binomial part of that wobble is counted below: keep only the rest
        typical = median(v.voices for v in past)
        wobble = math.sqrt(max(wobble**2 - share * (1 - share) / max(typical, 1), 0.0))
    n = today.voices
    spread = math.sqrt(n * max(share * (1 - share), 0.01) + (n * wobble) ** 2)
    return (today.negative - share * n) / spread


def negative_surge(series: Mapping[date, Day], day: date, t: Thresholds) -> Finding | None:
    """Negative voices (or their share of the stage's voices) well above normal."""
    today = series.get(day, Day())
    counts = {d: float(v.negative) for d, v in series.items() if d < day}
    normal = expected(counts, day, t)
    if normal is not None:
        high = normal.baseline + t.z * normal.spread
        excess = _share_excess(series, day, t)
        far = (today.negative - normal.baseline) / normal.spread >= t.strong_z
        confirmed = far or (excess is not None and excess >= t.confirm_z)
        if today.negative > high and today.negative - normal.baseline >= t.min_extra and confirmed:
            return Finding(
                "negative_surge",
                "negative voices",
                today.negative,
                round(normal.baseline, 1),
                round(max(0.0, normal.baseline - t.z * normal.spread), 1),
                round(high, 1),
            )
    if today.voices < t.share_min_voices:
        return None
    window = [d for d in series if day - timedelta(days=t.baseline_days) <= d < day]
    if not window or (day - min(window)).days < t.min_history_days:
        return None
    past = [series[d] for d in window]
    voices = sum(v.voices for v in past)
    if voices < t.share_min_voices * 7:
        return None
    share = sum(v.negative for v in past) / voices
    now = today.negative / today.voices
    spread = math.sqrt(max(share * (1 - share), 0.01) / today.voices)
    high = share + t.share_z * spread
    extra = today.negative - share * today.voices
    if now > high and now - share >= t.share_min_rise and extra >= t.min_extra:
        return Finding(
            "negative_surge",
            "share of voices that are negative",
            round(now, 3),
            round(share, 3),
            round(max(0.0, share - t.share_z * spread), 3),
            round(min(1.0, high), 3),
        )
    return None


def phrase_surges(
    phrases: Mapping[str, Mapping[date, int]], day: date, t: Thresholds
) -> list[Finding]:
    """Phrases said by many more voices of the stage than on a normal day (or new)."""
    found: list[Finding] = []
    start = day - timedelta(days=t.baseline_days)
    for phrase, counts in phrases.items():
        today = counts.get(day, 0)
        if today < t.phrase_min_voices:
            continue
        past = [n for d, n in counts.items() if start <= d < day]
        daily = sum(past) / t.baseline_days
        high = t.phrase_ratio * daily + t.z * math.sqrt(max(daily, 1.0))
        if today > high:
            found.append(
                Finding(
                    "phrase_surge",
                    f"voices saying \u201c{phrase}\u201d",
                    today,
                    round(daily, 1),
                    0.0,
                    round(high, 1),
                    phrase,
                )
            )
    return sorted(found, key=lambda f: f.value - f.high, reverse=True)


def _nps(days: Sequence[Day]) -> tuple[int, float | None, float]:
    answers = sum(d.nps_answers for d in days)
    if not answers:
        return 0, None, 0.0
    p = sum(d.promoters for d in days) / answers
    q = sum(d.detractors for d in days) / answers
    variance = (p + q - (p - q) ** 2) / answers
    return answers, 100 * (p - q), 100 * math.sqrt(max(variance, 0.0))


def nps_drop(series: Mapping[date, Day], day: date, t: Thresholds) -> Finding | None:
    """The NPS of the last `nps_window_days` well below the weeks before them."""
    window_start = day - timedelta(days=t.nps_window_days - 1)
    window = [v for d, v in series.items() if window_start <= d <= day]
    before = [
        v
        for d, v in series.items()
        if window_start - timedelta(days=t.baseline_days) <= d < window_start
    ]
    answers, now, now_se = _nps(window)
    past_answers, then, then_se = _nps(before)
    if now is None or then is None:
        return None
    if answers < t.nps_min_answers or past_answers < t.nps_min_answers:
        return None
    se = math.sqrt(now_se**2 + then_se**2)
    if then - now >= t.nps_min_drop and then - now > t.nps_z * se:
        low = then - t.nps_z * se
        return Finding("nps_drop", "NPS", round(now), round(then), round(low), 100.0)
    return None


def quiet(series: Mapping[date, Day], day: date, t: Thresholds) -> Finding | None:
    """A normally busy stage with hardly any voices on a complete day: a broken
    source or survey looks like that."""
    counts = {d: float(v.voices) for d, v in series.items() if d < day}
    normal = expected(counts, day, t)
    if normal is None or normal.baseline < t.quiet_min_baseline:
        return None
    today = series.get(day, Day()).voices
    if today < t.quiet_share * normal.baseline:
        low = t.quiet_share * normal.baseline
        return Finding("quiet", "voices", today, round(normal.baseline, 1), round(low, 1), math.inf)
    return None
