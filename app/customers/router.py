"""Erasure on request (admin)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from app.customers.erasure import erase_customer
from app.deps import RuntimeDep, SessionDep
from app.security import audit
from app.security.access import AdminDep

router = APIRouter(prefix="/api/v1", tags=["customers"])


class ErasureResult(BaseModel):
    customer: str = Field(description="as asked")
    items: int = Field(description="items deleted, with everything made from them")
    segments: int
    outcomes: int = Field(description="outcome events deleted")


@router.delete(
    "/customers/{ref}",
    response_model=ErasureResult,
    summary="Right to erasure: delete every item of a customer and all made from them",
)
def erase(
    ref: Annotated[str, Path(min_length=1, max_length=256)],
    runtime: RuntimeDep,
    session: SessionDep,
    caller: AdminDep,
) -> ErasureResult:
    erased = erase_customer(runtime.engine, runtime.policy.customer_refs(ref))
    # The log names no customer: the count is what an auditor needs.
    audit.record(
        session,
        actor=caller.actor,
        action="customer.erase",
        detail={"items": erased.items, "segments": erased.segments, "outcomes": erased.outcomes},
    )
    return ErasureResult(
        customer=ref, items=erased.items, segments=erased.segments, outcomes=erased.outcomes
    )
