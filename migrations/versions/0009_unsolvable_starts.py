"""starts believed unsolvable: φ2 with a bound on optimism. A start from which a program that fits
every transition finds no plan, after its optimism requests and an episode played exploring, is
recorded with that program; new data that contradicts the program reopens it (the row stays, with
when). `wc runs show` lists them, and `wc resume` reads them back

Revision ID: 0009
Revises: 0008
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "unsolvable_starts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("run_id", sa.Integer(), sa.ForeignKey("runs.id"), nullable=False),
        sa.Column("episode_id", sa.Integer(), sa.ForeignKey("episodes.id"), nullable=True),
        sa.Column("state_hash", sa.String(40), nullable=False),
        sa.Column("mission", sa.Text(), nullable=False),
        sa.Column("program_id", sa.Integer(), sa.ForeignKey("programs.id"), nullable=False),
        sa.Column("believed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reopened_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_unsolvable_starts_run_id", "unsolvable_starts", ["run_id"])


def downgrade() -> None:
    op.drop_index("ix_unsolvable_starts_run_id", "unsolvable_starts")
    op.drop_table("unsolvable_starts")
