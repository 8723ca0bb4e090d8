"""All-time theme counts per stage

The all-time story grouped every day's theme rows (at a million items, most of its
time); `stage_themes` keeps the all-time sums, filled here from the daily rows.

Revision ID: f2a6b9c3d418
Revises: e8c1d4b2a907
Create Date: 2026-12-02 04:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "f2a6b9c3d418"
down_revision: str | None = "e8c1d4b2a907"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SUMS = (
    "voices",
    "negative",
    "neutral",
    "positive",
    "sentiment_milli",
    "nps_answers",
    "promoters",
    "detractors",
)


def upgrade() -> None:
    op.create_table(
        "stage_themes",
        sa.Column("stage", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("theme", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in SUMS),
        sa.PrimaryKeyConstraint("stage", "theme"),
    )
    columns = ", ".join(SUMS)
    sums = ", ".join(f"SUM({name})" for name in SUMS)
    op.execute(
        f"INSERT INTO stage_themes (stage, theme, {columns}) "
        f"SELECT stage, theme, {sums} FROM stage_daily_themes GROUP BY stage, theme"
    )


def downgrade() -> None:
    op.drop_table("stage_themes")
