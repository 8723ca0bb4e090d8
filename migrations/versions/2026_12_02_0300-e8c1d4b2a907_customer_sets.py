"""Customer sets: exact distinct customers of a period as bitmaps

`customer_ids` numbers each known customer; `customer_sets` holds, per
(day, stage, channel, source), the compressed bitmap of the customers who spoke:
a period's distinct customers is the size of the union of its days' sets. Filled
from `daily_customers` here, so an upgraded database answers at once.

Revision ID: e8c1d4b2a907
Revises: d3b9f2a7c615
Create Date: 2026-12-02 03:00:00
"""

from collections import defaultdict
from collections.abc import Sequence
from datetime import date

import sqlalchemy as sa
import sqlmodel
from alembic import op
from pyroaring import BitMap

revision: str = "e8c1d4b2a907"
down_revision: str | None = "d3b9f2a7c615"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "customer_ids",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer", sqlmodel.sql.sqltypes.AutoString(length=256), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("customer"),
    )
    op.create_table(
        "customer_sets",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("stage", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("channel", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("source_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("members", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("day", "stage", "channel", "source_id"),
    )
    conn = op.get_bind()
    conn.execute(
        sa.text("INSERT INTO customer_ids (customer) SELECT DISTINCT customer FROM daily_customers")
    )
    sets: dict[tuple[object, ...], BitMap] = defaultdict(BitMap)
    rows = conn.execute(
        sa.text(
            "SELECT d.day, d.stage, d.channel, d.source_id, c.id FROM daily_customers d "
            "JOIN customer_ids c ON c.customer = d.customer"
        )
    )
    for day, stage, channel, source, number in rows:
        when = day if isinstance(day, date) else date.fromisoformat(str(day))  # SQLite: text
        sets[(when, stage, channel, source)].add(int(number))
    table = sa.table(
        "customer_sets",
        sa.column("day", sa.Date()),
        sa.column("stage"),
        sa.column("channel"),
        sa.column("source_id"),
        sa.column("members", sa.LargeBinary()),
    )
    values = []
    for (day, stage, channel, source), members in sets.items():
        members.run_optimize()
        values.append(
            {
                "day": day,
                "stage": stage,
                "channel": channel,
                "source_id": source,
                "members": members.serialize(),
            }
        )
    if values:
        op.bulk_insert(table, values)


def downgrade() -> None:
    op.drop_table("customer_sets")
    op.drop_table("customer_ids")
