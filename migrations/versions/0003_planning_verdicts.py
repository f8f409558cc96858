"""planning verdicts: φ2 starts left undecided by a search budget, planning per episode

Revision ID: 0003
Revises: 0002
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("programs") as batch:
        batch.add_column(sa.Column("optimism_undecided", sa.Integer(), nullable=True))
    with op.batch_alter_table("episodes") as batch:
        batch.add_column(sa.Column("plans", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("plans_undecided", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("plan_seconds", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("episodes") as batch:
        batch.drop_column("plan_seconds")
        batch.drop_column("plans_undecided")
        batch.drop_column("plans")
    with op.batch_alter_table("programs") as batch:
        batch.drop_column("optimism_undecided")
