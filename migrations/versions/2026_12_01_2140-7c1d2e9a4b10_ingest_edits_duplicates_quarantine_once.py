"""ingest: edits update items, listed duplicates, quarantine stored once, richer run counters

Revision ID: 7c1d2e9a4b10
Revises: 1e42c69e2e86
Create Date: 2026-12-01 21:40:00
"""

import hashlib
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "7c1d2e9a4b10"
down_revision: str | None = "1e42c69e2e86"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _quarantine_digest(source_id: str, location: str | None, reason: str, excerpt: str) -> str:
    # Frozen copy of app.ingest.hashing.quarantine_digest at this revision.
    payload = "\x1f".join((source_id, location or "", reason, excerpt))
    return hashlib.sha256(payload.encode("utf-8", errors="surrogatepass")).hexdigest()


def upgrade() -> None:
    with op.batch_alter_table("sync_runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("updated", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(
            sa.Column("unmapped_hints", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("nul_replaced", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("reject_reasons", sa.JSON(), nullable=False, server_default="[]")
        )

    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("record_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.drop_index("ix_items_content_hash")
        batch_op.create_index(
            "ix_items_source_content_hash", ["source_id", "content_hash"], unique=False
        )
    op.execute("UPDATE items SET updated_at = ingested_at")
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.alter_column(
            "updated_at", existing_type=sa.DateTime(timezone=True), nullable=False
        )

    with op.batch_alter_table("quarantine", schema=None) as batch_op:
        batch_op.add_column(sa.Column("digest", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("times_seen", sa.Integer(), nullable=False, server_default="1")
        )
        batch_op.add_column(sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=True))
    # Existing rows: one per digest (the oldest kept, the others folded into its count).
    conn = op.get_bind()
    quarantine = sa.table(
        "quarantine",
        sa.column("id", sa.Integer()),
        sa.column("source_id", sa.String()),
        sa.column("location", sa.String()),
        sa.column("reason", sa.Text()),
        sa.column("excerpt", sa.Text()),
        sa.column("digest", sa.String()),
        sa.column("times_seen", sa.Integer()),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("last_seen_at", sa.DateTime(timezone=True)),
    )
    kept: dict[tuple[str, str], tuple[int, int, object]] = {}
    dropped: list[int] = []
    rows = conn.execute(
        sa.select(
            quarantine.c.id,
            quarantine.c.source_id,
            quarantine.c.location,
            quarantine.c.reason,
            quarantine.c.excerpt,
            quarantine.c.created_at,
        ).order_by(quarantine.c.id)
    ).all()
    for row_id, source_id, location, reason, excerpt, created in rows:
        digest = _quarantine_digest(source_id, location, reason, excerpt)
        key = (source_id, digest)
        if key in kept:
            first, seen, _ = kept[key]
            kept[key] = (first, seen + 1, created)
            dropped.append(row_id)
        else:
            kept[key] = (row_id, 1, created)
    for (_, digest), (row_id, seen, last) in kept.items():
        conn.execute(
            quarantine.update()
            .where(quarantine.c.id == row_id)
            .values(digest=digest, times_seen=seen, last_seen_at=last)
        )
    for start in range(0, len(dropped), 500):
        conn.execute(quarantine.delete().where(quarantine.c.id.in_(dropped[start : start + 500])))
    with op.batch_alter_table("quarantine", schema=None) as batch_op:
        batch_op.alter_column("digest", existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column(
            "last_seen_at", existing_type=sa.DateTime(timezone=True), nullable=False
        )
        batch_op.create_unique_constraint("uq_quarantine_source_digest", ["source_id", "digest"])

    op.create_table(
        "run_duplicates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.String(length=64), nullable=False),
        sa.Column("external_id", sa.String(length=512), nullable=False),
        sa.Column("rule", sa.String(length=16), nullable=False),
        sa.Column("matched_item_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["run_id"], ["sync_runs.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["matched_item_id"], ["items.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("run_duplicates", schema=None) as batch_op:
        batch_op.create_index("ix_run_duplicates_run", ["run_id", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("run_duplicates", schema=None) as batch_op:
        batch_op.drop_index("ix_run_duplicates_run")
    op.drop_table("run_duplicates")
    with op.batch_alter_table("quarantine", schema=None) as batch_op:
        batch_op.drop_constraint("uq_quarantine_source_digest", type_="unique")
        batch_op.drop_column("last_seen_at")
        batch_op.drop_column("times_seen")
        batch_op.drop_column("digest")
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.drop_index("ix_items_source_content_hash")
        batch_op.create_index("ix_items_content_hash", ["content_hash"], unique=False)
        batch_op.drop_column("updated_at")
        batch_op.drop_column("record_hash")
    with op.batch_alter_table("sync_runs", schema=None) as batch_op:
        batch_op.drop_column("reject_reasons")
        batch_op.drop_column("nul_replaced")
        batch_op.drop_column("unmapped_hints")
        batch_op.drop_column("updated")
