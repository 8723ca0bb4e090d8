from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from app.deps import JourneyDep, RuntimeDep
from app.ingest.reenrich import stale_count

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
    nlp_version: str = Field(description="the running pipeline's version (the journey is in it)")
    stale_items: int = Field(
        description="stored items read by another pipeline version (a journey edit, an "
        "upgrade): their stages are the old ones until `listening-path reenrich` runs"
    )


@router.get("/journey", response_model=JourneyOut, summary="The configured journey, in order")
def get_journey(journey: JourneyDep, runtime: RuntimeDep) -> JourneyOut:
    version = runtime.enricher.version
    return JourneyOut(
        name=journey.name,
        nlp_version=version,
        stale_items=stale_count(runtime.engine, version=version),
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
