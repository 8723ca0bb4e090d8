"""Rating scales: what a `rating_scale` name means and which numbers it admits.

A survey's score is kept with its scale's name ("nps_0_10"); ingest refuses a
score outside its scale (an NPS of -5, 11 or 1e308 is a broken export, not an
answer), so every number the story and the feeds add up is one a respondent
could have given. The built-in scales are the ones CX teams count by; a team
declares its own under `scales:` in the sources file.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from pydantic import BaseModel, ConfigDict, Field, model_validator


@dataclass(frozen=True, slots=True)
class Scale:
    name: str
    minimum: float
    maximum: float
    step: float | None  # 1: whole numbers only; 0.5: halves; None: any number in range

    def describe(self) -> str:
        kind = {1.0: "whole numbers", 0.5: "whole or half numbers"}.get(self.step or 0.0, "numbers")
        return f"{_num(self.minimum)}-{_num(self.maximum)}, {kind}"

    def problem(self, value: float) -> str | None:
        """Why `value` is not an answer on this scale, or None when it is."""
        value = float(value)
        if not math.isfinite(value):
            return f"score {value!r} is not a finite number"
        if not self.minimum <= value <= self.maximum:
            return f"score {_num(value)} is outside {self.name} ({self.describe()})"
        if self.step is not None:
            steps = (value - self.minimum) / self.step
            if abs(steps - round(steps)) > 1e-9:
                return f"score {_num(value)} is not on {self.name} ({self.describe()})"
        return None


def _num(value: float) -> str:
    value = float(value)  # an int has no is_integer() before Python 3.12
    if math.isfinite(value) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


BUILTIN_SCALES: dict[str, Scale] = {
    scale.name: scale
    for scale in (
        Scale("nps_0_10", 0, 10, 1),
        Scale("csat_1_5", 1, 5, 1),
        Scale("ces_1_7", 1, 7, 1),
        Scale("stars_1_5", 1, 5, 0.5),
    )
}


@lru_cache(maxsize=4096)
def countable(value: float | None, name: str | None) -> bool:
    """Whether the sums may add a stored score: ingest checks every score against the
    scales in force (`Scales.problem`); rows stored before it did, or under a team
    scale since removed from the sources file, must still not break the sums. The
    read model counts and rebuilds without the sources file, so a built-in scale is
    checked again here and any other score only needs to be a sane number."""
    if value is None or not name or not math.isfinite(value):
        return False
    builtin = BUILTIN_SCALES.get(name)
    if builtin is not None:
        return builtin.problem(value) is None
    return abs(value) <= 1e12


class ScaleSpec(BaseModel):
    """A team's own scale in the sources file: `scales: {effort_0_100: {min: 0, max: 100}}`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min: float = Field(allow_inf_nan=False)
    max: float = Field(allow_inf_nan=False)
    whole_numbers: bool = True

    @model_validator(mode="after")
    def _ordered(self) -> ScaleSpec:
        if self.min >= self.max:
            raise ValueError(f"min ({self.min}) must be below max ({self.max})")
        return self


class Scales:
    """The scales in force: the built-ins plus a team's declared ones."""

    def __init__(self, declared: Mapping[str, ScaleSpec] | None = None) -> None:
        self._scales = dict(BUILTIN_SCALES)
        for name, spec in (declared or {}).items():
            if name in BUILTIN_SCALES:
                raise ValueError(f"scale {name!r} is built in; give your own scale another name")
            self._scales[name] = Scale(name, spec.min, spec.max, 1 if spec.whole_numbers else None)

    def names(self) -> list[str]:
        return sorted(self._scales)

    def get(self, name: str) -> Scale | None:
        return self._scales.get(name)

    def problem(self, value: float | None, name: str | None) -> str | None:
        """Why a (score, scale) pair cannot be stored, or None when it can."""
        if value is None:
            return None
        if name is None:
            return "a score without a rating scale; set `rating_scale` in the source config"
        scale = self._scales.get(name)
        if scale is None:
            known = ", ".join(sorted(self._scales))
            return (
                f"unknown rating scale {name!r} (known: {known}); declare it under "
                "`scales:` in the sources file"
            )
        return scale.problem(value)
