"""The stage-by-stage story: whole numbers first, then words."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class SentimentMix(BaseModel):
    mean: float | None = Field(description="mean sentiment in [-1, 1]; null with no voices")
    negative: int
    neutral: int
    positive: int


class RatingSummary(BaseModel):
    scale: str = Field(description="the source's scale, e.g. nps_0_10, csat_1_5, stars_1_5")
    answers: int
    mean: float


class Phrase(BaseModel):
    phrase: str
    count: int = Field(description="voices in this stage that repeat the phrase")
    sentiment: SentimentMix = Field(
        description="how those voices feel in this stage (each voice once, as in the stage's mix)"
    )


class Quote(BaseModel):
    item_id: int
    text: str
    sentiment: str
    score: float
    channel: str


class StageStory(BaseModel):
    key: str
    name: str
    description: str
    order: int
    voices: int = Field(description="items with at least one sentence about this stage")
    customers: int = Field(description="distinct known customers among those voices")
    sentiment: SentimentMix
    ratings: list[RatingSummary]
    top_phrases: list[Phrase]
    quotes: list[Quote]


class Story(BaseModel):
    date_from: datetime | None = Field(alias="from")
    date_to: datetime | None = Field(alias="to")
    voices: int = Field(description="distinct items in the period, whatever their stage")
    customers: int
    stages: list[StageStory] = Field(description="every stage of the journey, in journey order")
    unassigned: int = Field(description="items no sentence of which could be placed in a stage")

    model_config = {"populate_by_name": True}
