"""Domain objects of the outcomes as the API shows them (one conversion, used by
the outcomes routes and by the story and stage routes that carry the same figures)."""

from __future__ import annotations

from dataclasses import asdict

from app.outcomes import asset as asset_service
from app.outcomes.said_did import StageOutcome as StageOutcomeFigures
from app.outcomes.schemas import AssetCounts, AssetPart, AssetValue, StageOutcome


def asset_part(a: asset_service.Asset) -> AssetPart:
    return AssetPart(
        customers=AssetCounts(
            start=a.customers_start,
            end=a.customers_end,
            gained=a.gained,
            lost=a.lost,
            grew=a.grew,
            shrank=a.shrank,
            reactivated=a.reactivated,
            net=a.net,
        ),
        value=AssetValue(
            start=round(a.value_start, 2),
            end=round(a.value_end, 2),
            gained=round(a.value_gained, 2),
            lost=round(a.value_lost, 2),
            grew=round(a.value_grew, 2),
            shrank=round(a.value_shrank, 2),
            reactivated=round(a.value_reactivated, 2),
            net=round(a.value_net, 2),
        ),
        profit=round(a.profit, 2) if a.profit_known else None,
        return_on_customer=round(r, 4) if (r := a.return_on_customer) is not None else None,
    )


def stage_outcome(s: StageOutcomeFigures) -> StageOutcome:
    return StageOutcome.model_validate(
        {
            **asdict(s),
            "phrases": [{"phrase": p.phrase, "rate": asdict(p.rate)} for p in s.phrases],
        }
    )
