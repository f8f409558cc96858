"""the program contract's version with every program; the reward mode with every environment

Revision ID: 0004
Revises: 0003
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("programs") as batch:
        batch.add_column(sa.Column("contract_version", sa.Integer(), nullable=True))
    with op.batch_alter_table("environments") as batch:
        batch.add_column(sa.Column("reward_mode", sa.String(length=10), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("environments") as batch:
        batch.drop_column("reward_mode")
    with op.batch_alter_table("programs") as batch:
        batch.drop_column("contract_version")
