"""Drop indexes no query reads since the story reads the rollups

`ix_segments_stage_occurred` served the story's scan of raw sentences and
`ix_voice_facts_stage_day` / `ix_voice_facts_day` the first read-model queries;
quotes now come from `ix_voice_facts_quotes` and item filters reach segments and
facts through their item id. Every index is paid for on each ingested row.

Revision ID: c7a4e1f93d20
Revises: b5e2d8c41f07
Create Date: 2026-12-02 01:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "c7a4e1f93d20"
down_revision: str | None = "b5e2d8c41f07"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("voice_facts", schema=None) as batch_op:
        batch_op.drop_index("ix_voice_facts_stage_day")
        batch_op.drop_index("ix_voice_facts_day")
    with op.batch_alter_table("segments", schema=None) as batch_op:
        batch_op.drop_index("ix_segments_stage_occurred")


def downgrade() -> None:
    with op.batch_alter_table("segments", schema=None) as batch_op:
        batch_op.create_index("ix_segments_stage_occurred", ["stage", "occurred_at"], unique=False)
    with op.batch_alter_table("voice_facts", schema=None) as batch_op:
        batch_op.create_index("ix_voice_facts_day", ["day"], unique=False)
        batch_op.create_index("ix_voice_facts_stage_day", ["stage", "day"], unique=False)
