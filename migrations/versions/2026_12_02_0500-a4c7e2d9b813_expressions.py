"""Expressions: favourites, boosts and replies summed in the daily rollups

Social posts carry the reach they earned (`favourites_count`, `reblogs_count`,
`replies_count`); the story shows it per stage. The sums are filled here from the
voices' stored attributes, so an upgraded database shows them at once; the BI
view `lp_stage_daily` gains the three columns.

Revision ID: a4c7e2d9b813
Revises: f2a6b9c3d418
Create Date: 2026-12-02 05:00:00
"""

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.engine import Connection

from app.readmodel.expressions import expressions_of

revision: str = "a4c7e2d9b813"
down_revision: str | None = "f2a6b9c3d418"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ("favourites", "boosts", "replies")
TABLES = ("stage_daily", "item_daily")

VIEW = """
    SELECT d.day, d.stage, d.channel, d.source_id AS source, d.voices,
           COALESCE(c.customers, 0) AS customers,
           d.negative, d.neutral, d.positive,
           d.sentiment_milli / 1000.0 AS sentiment_sum,
           d.nps_answers, d.promoters, d.passives, d.detractors,
           d.csat_answers, d.csat_satisfied,
           d.ces_answers, d.ces_milli / 1000.0 AS ces_sum,
           d.updated_at{extra}
    FROM stage_daily d
    LEFT JOIN (
        SELECT day, stage, channel, source_id, COUNT(*) AS customers
        FROM daily_customers GROUP BY day, stage, channel, source_id
    ) c ON c.day = d.day AND c.stage = d.stage AND c.channel = d.channel
       AND c.source_id = d.source_id
"""


def backfill(conn: Connection) -> int:
    """Sum every voice's expressions into its rollup rows (from `voice_facts`,
    whose rows carry their item's attributes; an item counts once in
    `item_daily`). Returns the rollup rows written."""
    stage_rows: dict[tuple[Any, ...], list[int]] = {}
    item_rows: dict[tuple[Any, ...], list[int]] = {}
    seen: set[int] = set()
    facts = conn.execute(
        sa.text(
            "SELECT item_id, day, stage, channel, source_id, attributes FROM voice_facts "
            "WHERE attributes IS NOT NULL"
        )
    )
    for item_id, day, stage, channel, source, attributes in facts:
        found = expressions_of(_mapping(attributes))
        if not any(found):
            continue
        cell = stage_rows.setdefault((day, stage, channel, source), [0, 0, 0])
        cell[:] = [a + b for a, b in zip(cell, found, strict=True)]
        if item_id not in seen:
            seen.add(item_id)
            top = item_rows.setdefault((day, channel, source), [0, 0, 0])
            top[:] = [a + b for a, b in zip(top, found, strict=True)]
    sets = ", ".join(f"{c} = :{c}" for c in COLUMNS)
    for table, rows, keys in (
        ("stage_daily", stage_rows, ("day", "stage", "channel", "source_id")),
        ("item_daily", item_rows, ("day", "channel", "source_id")),
    ):
        if rows:
            where = " AND ".join(f"{k} = :{k}" for k in keys)
            conn.execute(
                sa.text(f"UPDATE {table} SET {sets} WHERE {where}"),
                [
                    {**dict(zip(keys, key, strict=True)), **dict(zip(COLUMNS, sums, strict=True))}
                    for key, sums in rows.items()
                ],
            )
    return len(stage_rows) + len(item_rows)


def _mapping(value: Any) -> dict[str, Any]:
    if isinstance(value, str):  # SQLite hands JSON back as text through sa.text
        try:
            value = json.loads(value)
        except ValueError:
            return {}
    return value if isinstance(value, dict) else {}


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            for column in COLUMNS:
                batch.add_column(
                    sa.Column(column, sa.BigInteger(), nullable=False, server_default="0")
                )
    conn = op.get_bind()
    backfill(conn)
    if conn.dialect.name == "postgresql":
        extra = "".join(f", d.{c}" for c in COLUMNS)
        op.execute(f"CREATE OR REPLACE VIEW lp_stage_daily AS {VIEW.format(extra=extra)}")


def downgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name == "postgresql":
        op.execute("DROP VIEW IF EXISTS lp_stage_daily")
        op.execute(f"CREATE VIEW lp_stage_daily AS {VIEW.format(extra='')}")
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            for column in COLUMNS:
                batch.drop_column(column)
