"""The story's numbers as domain objects: what the story service returns, and
what every reader of those numbers (the API, the CLI, the leadership pages, the
alerts) takes. `app.story.schemas` is the API's shape of the same objects.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class SentimentMix:
    mean: float | None
    negative: int
    neutral: int
    positive: int


@dataclass(frozen=True, slots=True, kw_only=True)
class RatingSummary:
    scale: str
    answers: int
    mean: float


@dataclass(frozen=True, slots=True, kw_only=True)
class Nps:
    """Net Promoter Score of the NPS-scale (0-10) answers among these voices."""

    answers: int
    promoters: int
    passives: int
    detractors: int
    score: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Csat:
    """Customer satisfaction of the csat_1_5 answers among these voices."""

    answers: int
    satisfied: int
    score: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Ces:
    """Customer effort of the ces_1_7 answers among these voices."""

    answers: int
    mean: float | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Expressions:
    """Favourites, boosts and replies these voices earned where they were said."""

    favourites: int
    boosts: int
    replies: int

    @property
    def total(self) -> int:
        return self.favourites + self.boosts + self.replies


@dataclass(frozen=True, slots=True, kw_only=True)
class Phrase:
    phrase: str
    count: int
    sentiment: SentimentMix


@dataclass(frozen=True, slots=True, kw_only=True)
class Driver:
    """How the NPS of the voices that say something compares with all voices'."""

    phrase: str | None
    answers: int
    nps: int
    overall: int
    impact: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Quote:
    item_id: int
    text: str
    sentiment: str
    score: float
    channel: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Change:
    before: int | None
    change: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Comparison:
    """The same whole numbers for the comparison period, and the change."""

    date_from: str
    date_to: str
    voices: Change
    customers: Change
    negative: Change
    neutral: Change
    positive: Change
    nps_answers: Change
    promoters: Change
    detractors: Change
    nps_score: Change


@dataclass(frozen=True, slots=True, kw_only=True)
class StageStory:
    key: str
    name: str
    description: str
    order: int
    voices: int
    customers: int | None
    sentiment: SentimentMix
    ratings: list[RatingSummary]
    nps: Nps | None
    csat: Csat | None
    ces: Ces | None
    channels: dict[str, int]
    expressions: Expressions
    top_phrases: list[Phrase]
    drivers: list[Driver]
    quotes: list[Quote]
    compare: Comparison | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class DayFigures:
    day: str
    voices: int
    negative: int
    neutral: int
    positive: int
    nps_answers: int
    promoters: int
    detractors: int


@dataclass(frozen=True, slots=True, kw_only=True)
class StagePage(StageStory):
    """One stage for a reader: the story's figures, the days, and a summary in words."""

    date_from: str | None
    date_to: str | None
    summary: str
    daily: list[DayFigures]
    more_quotes: list[Quote]


@dataclass(frozen=True, slots=True, kw_only=True)
class Story:
    date_from: str | None
    date_to: str | None
    voices: int
    customers: int | None
    nps: Nps | None
    csat: Csat | None
    ces: Ces | None
    channels: dict[str, int]
    expressions: Expressions
    stages: list[StageStory]
    unassigned: int
    compare: Comparison | None = None
