"""resume checkpoints, run ownership, curricula, LLM cost, one program row per source and run

Revision ID: 0002
Revises: 0001
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "curricula",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("envs", sa.JSON(), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("curriculum_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("curriculum_index", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("owner", sa.String(length=300), nullable=True))
        batch.add_column(sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("checkpoint", sa.JSON(), nullable=True))
        batch.create_index("ix_runs_curriculum_id", ["curriculum_id"])
        batch.create_foreign_key("fk_runs_curriculum_id", "curricula", ["curriculum_id"], ["id"])
    with op.batch_alter_table("llm_calls") as batch:
        batch.add_column(sa.Column("cost_usd", sa.Float(), nullable=True))
    with op.batch_alter_table("programs") as batch:
        batch.drop_index("ix_programs_run_hash")
        batch.create_index("ix_programs_run_hash", ["run_id", "source_hash"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("programs") as batch:
        batch.drop_index("ix_programs_run_hash")
        batch.create_index("ix_programs_run_hash", ["run_id", "source_hash"])
    with op.batch_alter_table("llm_calls") as batch:
        batch.drop_column("cost_usd")
    with op.batch_alter_table("runs") as batch:
        batch.drop_constraint("fk_runs_curriculum_id", type_="foreignkey")
        batch.drop_index("ix_runs_curriculum_id")
        for column in ("checkpoint", "heartbeat_at", "owner", "curriculum_index", "curriculum_id"):
            batch.drop_column(column)
    op.drop_table("curricula")
