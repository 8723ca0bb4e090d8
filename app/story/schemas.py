"""The stage-by-stage story: whole numbers first, then words."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.alerts.schemas import AlertPublic
from app.outcomes.schemas import AssetPart, StageOutcome


class SentimentMix(BaseModel):
    mean: float | None = Field(description="mean sentiment in [-1, 1]; null with no voices")
    negative: int
    neutral: int
    positive: int


class RatingSummary(BaseModel):
    scale: str = Field(description="the source's scale, e.g. nps_0_10, csat_1_5, stars_1_5")
    answers: int
    mean: float


class Nps(BaseModel):
    """Net Promoter Score of the NPS-scale (0-10) answers among these voices."""

    answers: int
    promoters: int = Field(description="answers of 9 or 10")
    passives: int = Field(description="answers of 7 or 8")
    detractors: int = Field(description="answers of 0 to 6")
    score: int | None = Field(
        description="round(100 x (promoters - detractors) / answers); null with no answers"
    )


class Csat(BaseModel):
    """Customer satisfaction of the csat_1_5 answers among these voices."""

    answers: int
    satisfied: int = Field(description="answers of 4 or 5")
    score: int | None = Field(description="round(100 x satisfied / answers)")


class Ces(BaseModel):
    """Customer effort of the ces_1_7 answers among these voices."""

    answers: int
    mean: float | None


class Expressions(BaseModel):
    """The reach these voices earned where they were said (social posts): the
    whole numbers of favourites, boosts and replies they drew."""

    favourites: int
    boosts: int = Field(description="boosts, reblogs, reposts, shares")
    replies: int
    total: int = Field(description="favourites + boosts + replies")


class Phrase(BaseModel):
    phrase: str
    count: int = Field(description="voices in this stage that repeat the phrase")
    sentiment: SentimentMix = Field(
        description="how those voices feel in this stage (each voice once, as in the stage's mix)"
    )


class Driver(BaseModel):
    """How the NPS of the voices that say something compares with all voices'."""

    phrase: str | None = Field(description="the top phrase; null: the whole stage")
    answers: int = Field(description="NPS answers among those voices (at least the minimum)")
    nps: int = Field(description="their NPS")
    overall: int = Field(description="the NPS of all voices in the period")
    impact: int = Field(description="nps - overall: negative where the phrase drags NPS down")


class Quote(BaseModel):
    item_id: int
    text: str
    sentiment: str
    score: float
    channel: str


class Change(BaseModel):
    before: int | None = Field(description="the comparison period's value")
    change: int | None = Field(description="this period's value minus the comparison's")


class Comparison(BaseModel):
    """The same whole numbers for the comparison period, and the change."""

    date_from: str = Field(alias="from")
    date_to: str = Field(alias="to")
    voices: Change
    customers: Change
    negative: Change
    neutral: Change
    positive: Change
    nps_answers: Change
    promoters: Change
    detractors: Change
    nps_score: Change

    model_config = {"populate_by_name": True}


class StageStory(BaseModel):
    key: str
    name: str
    description: str
    order: int
    voices: int = Field(description="items with at least one sentence about this stage")
    customers: int | None = Field(
        description="distinct known customers among those voices; null when no voice "
        "in the period has a known customer"
    )
    sentiment: SentimentMix
    ratings: list[RatingSummary]
    nps: Nps | None = Field(description="null when no voice here answered on nps_0_10")
    csat: Csat | None
    ces: Ces | None
    channels: dict[str, int] = Field(description="voices per channel")
    expressions: Expressions = Field(
        description="earned-media reach of these voices: favourites, boosts and replies"
    )
    top_phrases: list[Phrase] = Field(
        description="phrases most distinctive of this stage (class-based TF-IDF over the "
        "stages); `count` is the whole number of voices saying each"
    )
    drivers: list[Driver] = Field(
        description="the stage, then its top phrases, whose NPS differs from all voices' "
        "(only with enough NPS answers)"
    )
    quotes: list[Quote]
    compare: Comparison | None = None
    outcome: StageOutcome | None = Field(
        default=None,
        description="what the customers who spoke here did next (customers leaving within "
        "90 days after a negative voice, the lift, the revenue at risk); null without "
        "imported outcomes",
    )


class DayFigures(BaseModel):
    day: str
    voices: int
    negative: int
    neutral: int
    positive: int
    nps_answers: int
    promoters: int
    detractors: int


class StagePage(StageStory):
    """One stage for a reader: the story's figures, the days, and a summary in words."""

    date_from: str | None = Field(alias="from", description="as asked")
    date_to: str | None = Field(alias="to", description="as asked")
    summary: str = Field(description="the figures in one paragraph, written from the numbers")
    daily: list[DayFigures]
    more_quotes: list[Quote] = Field(description="further typical voices, by polarity")
    alerts: list[AlertPublic] = Field(
        default_factory=list, description="this stage's open alerts, newest first"
    )

    model_config = {"populate_by_name": True}


class Story(BaseModel):
    date_from: str | None = Field(alias="from", description="as asked")
    date_to: str | None = Field(alias="to", description="as asked")
    voices: int = Field(description="distinct items in the period, whatever their stage")
    customers: int | None
    nps: Nps | None
    csat: Csat | None
    ces: Ces | None
    channels: dict[str, int] = Field(description="items per channel")
    expressions: Expressions = Field(description="the items' favourites, boosts and replies")
    stages: list[StageStory] = Field(description="every stage of the journey, in journey order")
    unassigned: int = Field(description="items no sentence of which could be placed in a stage")
    compare: Comparison | None = None
    alerts: list[AlertPublic] = Field(
        default_factory=list, description="open early-warning alerts, newest first"
    )
    asset: AssetPart | None = Field(
        default=None,
        description="the customer asset of the period (customers and value gained, lost, "
        "net); null without imported outcomes",
    )

    model_config = {"populate_by_name": True}
