"""API shapes for items: what a CX analyst drills down to."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class StageCall(BaseModel):
    stage: str = Field(description="journey stage key, or 'unassigned'")
    confidence: float
    method: str = Field(description="what decided it: hint, phrase, pattern, model, none...")
    evidence: list[str]


class SentimentOut(BaseModel):
    score: float = Field(ge=-1, le=1)
    label: str


class SegmentPublic(BaseModel):
    index: int
    start: int
    end: int
    text: str
    sentiment: SentimentOut
    stage: StageCall


class ItemPublic(BaseModel):
    id: int
    source: str
    external_id: str
    channel: str
    occurred_at: datetime
    text: str = Field(description="the customer's words, with personal data redacted")
    rating: float | None
    rating_scale: str | None
    customer: str | None = Field(
        description="author / customer reference where the source knows it"
    )
    attributes: dict[str, Any]
    sentiment: SentimentOut
    stage: StageCall
    stages: list[str] = Field(description="every stage any sentence of the item speaks of")
    themes: list[str]
    nlp_version: str


class ItemDetail(ItemPublic):
    segments: list[SegmentPublic]


class ItemPage(BaseModel):
    items: list[ItemPublic]
    next_cursor: str | None = Field(
        description="pass as `cursor` to get the next page; null on the last page"
    )
