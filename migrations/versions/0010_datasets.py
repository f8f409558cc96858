"""datasets: offline data imported into the store (JSONL, Minari), its transitions, and the
dataset a run learned from (`wc fit`), so that lineage shows where a program's data came from

Revision ID: 0010
Revises: 0009
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "datasets",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("environment_id", sa.Integer(), sa.ForeignKey("environments.id"), nullable=False),
        sa.Column("api_module_id", sa.Integer(), sa.ForeignKey("api_modules.id"), nullable=False),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("format", sa.String(20), nullable=False),
        sa.Column("location", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("data_env_id", sa.String(300), nullable=True),
        sa.Column("mission", sa.Text(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("n_transitions", sa.Integer(), nullable=False),
        sa.Column("n_episodes", sa.Integer(), nullable=False),
        sa.Column("n_done", sa.Integer(), nullable=False),
        sa.Column("n_truncated", sa.Integer(), nullable=False),
        sa.Column("meta", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_datasets_environment_id", "datasets", ["environment_id"])
    op.create_index("ix_datasets_content_hash", "datasets", ["content_hash"])
    op.create_table(
        "dataset_transitions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("dataset_id", sa.Integer(), sa.ForeignKey("datasets.id"), nullable=False),
        sa.Column("episode", sa.Integer(), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("action", sa.JSON(), nullable=False),
        sa.Column("next_state", sa.JSON(), nullable=False),
        sa.Column("reward", sa.Float(), nullable=False),
        sa.Column("done", sa.Boolean(), nullable=False),
        sa.Column("truncated", sa.Boolean(), nullable=False),
        sa.UniqueConstraint("dataset_id", "episode", "step"),
    )
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("dataset_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_runs_dataset_id", "datasets", ["dataset_id"], ["id"])
        batch.create_index("ix_runs_dataset_id", ["dataset_id"])


def downgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.drop_index("ix_runs_dataset_id")
        batch.drop_constraint("fk_runs_dataset_id", type_="foreignkey")
        batch.drop_column("dataset_id")
    op.drop_table("dataset_transitions")
    op.drop_index("ix_datasets_content_hash", "datasets")
    op.drop_index("ix_datasets_environment_id", "datasets")
    op.drop_table("datasets")
