from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from app.deps import JourneyDep

router = APIRouter(prefix="/api/v1", tags=["journey"])


class StageOut(BaseModel):
    key: str
    name: str
    description: str
    order: int
    phrases: list[str]
    examples: list[str]


class JourneyOut(BaseModel):
    name: str
    stages: list[StageOut]


@router.get("/journey", response_model=JourneyOut, summary="The configured journey, in order")
def get_journey(journey: JourneyDep) -> JourneyOut:
    return JourneyOut(
        name=journey.name,
        stages=[
            StageOut(
                key=s.key,
                name=s.name,
                description=s.description,
                order=i,
                phrases=list(s.phrases),
                examples=list(s.examples),
            )
            for i, s in enumerate(journey.stages)
        ],
    )
