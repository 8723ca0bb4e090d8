"""Customer outcomes: what customers did (joined, left, grew, shrank...) beside what they said

Revision ID: c3e5a7b9d124
Revises: b8d1f3a6c502
Create Date: 2026-12-02 07:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

from app.db_types import UTCDateTime

revision: str = "c3e5a7b9d124"
down_revision: str | None = "b8d1f3a6c502"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_s = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "outcome_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_key", _s(length=400), nullable=False),
        sa.Column("customer", _s(length=256), nullable=False),
        sa.Column("event", _s(length=16), nullable=False),
        sa.Column("occurred_at", UTCDateTime(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("value_change", sa.Float(), nullable=True),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("currency", _s(length=3), nullable=True),
        sa.Column("profit", sa.Float(), nullable=True),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.Column("origin", _s(length=120), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("event_key"),
    )
    op.create_index("ix_outcome_events_customer", "outcome_events", ["customer", "occurred_at"])
    op.create_index("ix_outcome_events_event_day", "outcome_events", ["event", "day"])
    op.create_table(
        "outcome_rejects",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("origin", _s(length=120), nullable=False),
        sa.Column("location", _s(length=200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("excerpt", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("outcome_rejects")
    op.drop_index("ix_outcome_events_event_day", table_name="outcome_events")
    op.drop_index("ix_outcome_events_customer", table_name="outcome_events")
    op.drop_table("outcome_events")
