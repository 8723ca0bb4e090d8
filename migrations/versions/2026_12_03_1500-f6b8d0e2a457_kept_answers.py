"""Answers made by one replica, kept for the others

Revision ID: f6b8d0e2a457
Revises: e5a7c9d1f346
Create Date: 2026-12-03 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.db_types import UTCDateTime

revision: str = "f6b8d0e2a457"
down_revision: str | None = "e5a7c9d1f346"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "kept_answers",
        sa.Column("key", sa.String(length=64), primary_key=True),
        sa.Column("state", sa.String(length=400), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("made_at", UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("kept_answers")
