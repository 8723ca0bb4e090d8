"""The one shape every detector yields: where a piece of personal data is, and its kind."""

from __future__ import annotations

from typing import NamedTuple


class Found(NamedTuple):
    start: int
    end: int
    kind: str
