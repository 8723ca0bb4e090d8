"""API shapes of the outcomes: the asset, said versus did, an import's result."""

from __future__ import annotations

from pydantic import BaseModel, Field


class AssetCounts(BaseModel):
    """Whole customers."""

    start: int = Field(description="active at the start of the period")
    end: int = Field(description="active at its end")
    gained: int
    lost: int
    grew: int
    shrank: int
    reactivated: int
    net: int = Field(description="end - start")


class AssetValue(BaseModel):
    """The same in money: annual customer value."""

    start: float
    end: float
    gained: float
    lost: float = Field(description="the value customers who left had before leaving")
    grew: float
    shrank: float
    reactivated: float
    net: float


class AssetPart(BaseModel):
    customers: AssetCounts
    value: AssetValue
    profit: float | None = Field(description="profit stated in the period; null: none given")
    return_on_customer: float | None = Field(
        description="(profit + change in customer value) / value at the start; null "
        "without profit or a starting value"
    )


class SegmentAsset(AssetPart):
    segment: str = Field(description="the group_by attribute's value; '' where unknown")


class CustomerAsset(AssetPart):
    date_from: str | None = Field(alias="from")
    date_to: str | None = Field(alias="to")
    group_by: str | None
    segments: list[SegmentAsset]

    model_config = {"populate_by_name": True}


class OutcomeRate(BaseModel):
    customers: int = Field(description="customers known to the outcomes in this group")
    with_event: int = Field(description="of them, how many had the event in the window")
    rate: float | None
    lift: float | None = Field(description="rate / the base rate; null below the minimum count")
    lift_low: float | None = Field(description="95% interval (log relative risk)")
    lift_high: float | None
    value_lost: float = Field(
        description="money the event took: value before leaving, or shrinking"
    )
    value_gained: float
    note: str | None = Field(description="why no lift is given, when none is")


class PhraseOutcome(BaseModel):
    phrase: str
    rate: OutcomeRate


class StageOutcome(BaseModel):
    key: str
    name: str
    negative: OutcomeRate = Field(description="customers who spoke negatively in this stage")
    positive: OutcomeRate = Field(description="customers who spoke positively in this stage")
    revenue_at_risk: float = Field(
        description="current value of customers who spoke negatively here in the last "
        "window_days and have not left"
    )
    at_risk_customers: int
    phrases: list[PhraseOutcome] = Field(
        description="the stage's commonest complaints, each's rate"
    )


class SaidDid(BaseModel):
    date_from: str = Field(alias="from")
    date_to: str = Field(alias="to")
    event: str
    window_days: int
    min_customers: int
    base: OutcomeRate = Field(description="customers who spoke negatively nowhere in the period")
    stages: list[StageOutcome] = Field(description="ranked by value lost after negative voices")

    model_config = {"populate_by_name": True}


class ImportReject(BaseModel):
    index: int
    reason: str


class ImportResponse(BaseModel):
    read: int
    inserted: int
    duplicates: int
    rejected: int
    rejects: list[ImportReject] = Field(description="the first 100, by position in the batch")
