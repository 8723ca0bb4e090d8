"""BI views on PostgreSQL: lp_stage_daily, lp_items, lp_segments

Power BI's incremental refresh and Tableau extracts filter at the source, so BI
tools get stable, documented views (the column contract of the feeds) instead of
the tables, which may change shape between versions. SQLite has no roles; its
users read the feeds.

Revision ID: b5e2d8c41f07
Revises: 9a3f0c5d2b71
Create Date: 2026-12-01 23:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "b5e2d8c41f07"
down_revision: str | None = "9a3f0c5d2b71"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

VIEWS = {
    "lp_stage_daily": """
        SELECT d.day, d.stage, d.channel, d.source_id AS source, d.voices,
               COALESCE(c.customers, 0) AS customers,
               d.negative, d.neutral, d.positive,
               d.sentiment_milli / 1000.0 AS sentiment_sum,
               d.nps_answers, d.promoters, d.passives, d.detractors,
               d.csat_answers, d.csat_satisfied,
               d.ces_answers, d.ces_milli / 1000.0 AS ces_sum,
               d.updated_at
        FROM stage_daily d
        LEFT JOIN (
            SELECT day, stage, channel, source_id, COUNT(*) AS customers
            FROM daily_customers GROUP BY day, stage, channel, source_id
        ) c ON c.day = d.day AND c.stage = d.stage AND c.channel = d.channel
           AND c.source_id = d.source_id
    """,
    "lp_items": """
        SELECT id, source_id AS source, external_id, channel, occurred_at,
               (occurred_at AT TIME ZONE 'UTC')::date AS day,
               author_ref AS customer, rating, rating_scale,
               sentiment_score, sentiment_label, stage, stage_confidence,
               themes, attributes, text, nlp_version, ingested_at, updated_at
        FROM items
    """,
    "lp_segments": """
        SELECT s.id, s.item_id, s.idx, i.source_id AS source, i.channel, i.occurred_at,
               (i.occurred_at AT TIME ZONE 'UTC')::date AS day,
               i.author_ref AS customer, s.text, s.sentiment_score, s.sentiment_label,
               s.stage, s.stage_confidence, s.stage_method, i.updated_at
        FROM segments s JOIN items i ON i.id = s.item_id
    """,
}


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name, body in VIEWS.items():
        op.execute(f"CREATE OR REPLACE VIEW {name} AS {body}")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name in VIEWS:
        op.execute(f"DROP VIEW IF EXISTS {name}")
