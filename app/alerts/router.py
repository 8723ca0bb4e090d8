from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query

from app.alerts import delivery, service
from app.alerts.schemas import AlertPublic, DeliveryPublic
from app.deps import JourneyDep, SessionDep
from app.params import MAX_ID, check_stage
from app.security import audit
from app.security.access import AdminAccess, AdminDep, ReadAccess

router = APIRouter(prefix="/api/v1", tags=["alerts"])
read = [ReadAccess]

AlertId = Annotated[int, Path(ge=1, le=MAX_ID)]


@router.get(
    "/alerts",
    response_model=list[AlertPublic],
    summary="Early-warning alerts",
    dependencies=read,
)
def list_alerts(
    session: SessionDep,
    journey: JourneyDep,
    status: Literal["open", "acknowledged", "resolved"] | None = None,
    stage: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[AlertPublic]:
    alerts = service.list_alerts(
        session, status=status, stage=check_stage(journey, stage), limit=limit
    )
    return [AlertPublic.of(a) for a in alerts]


@router.get(
    "/alerts/deliveries",
    response_model=list[DeliveryPublic],
    summary="The delivery log: every alert message and its attempts",
    dependencies=[AdminAccess],
)
def list_deliveries(
    session: SessionDep, limit: Annotated[int, Query(ge=1, le=500)] = 100
) -> list[DeliveryPublic]:
    return [
        DeliveryPublic.model_validate(d.model_dump())
        for d in delivery.deliveries(session, limit=limit)
    ]


@router.get("/alerts/{alert_id}", response_model=AlertPublic, dependencies=read)
def get_alert(session: SessionDep, alert_id: AlertId) -> AlertPublic:
    return AlertPublic.of(service.get_alert(session, alert_id))


@router.post(
    "/alerts/{alert_id}/acknowledge",
    response_model=AlertPublic,
    summary="Someone is on it: the alert stays listed as acknowledged until it resolves",
)
def acknowledge(session: SessionDep, alert_id: AlertId, caller: AdminDep) -> AlertPublic:
    alert = service.acknowledge(session, alert_id)
    audit.record(session, actor=caller.actor, action="alert.acknowledge", target=str(alert_id))
    return AlertPublic.of(alert)
