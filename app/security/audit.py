"""The audit log: who did what, when. Entries hold ids and counts, never the
personal data or secrets an action touched."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from app.models import AuditEntry

LEADER = "leader"
CLI = "cli"


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    target: str | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    """Write one entry and commit it (an action is logged even if what follows fails)."""
    entry = AuditEntry(
        actor=actor[:120],
        action=action[:64],
        target=(target or None) and target[:200],
        detail=detail or {},
    )
    session.add(entry)
    session.commit()
    session.refresh(entry)
    return entry


def record_in(engine: Engine, **entry: Any) -> None:
    """`record` from outside a request (the scheduler, the CLI)."""
    with Session(engine) as session:
        record(session, **entry)


def entries(session: Session, *, limit: int, before_id: int | None = None) -> list[AuditEntry]:
    query = select(AuditEntry).order_by(col(AuditEntry.id).desc()).limit(limit)
    if before_id is not None:
        query = query.where(col(AuditEntry.id) < before_id)
    return list(session.exec(query).all())
