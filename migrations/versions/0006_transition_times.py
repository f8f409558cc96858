"""when each transition was recorded, so LLM calls can be placed at the env step they followed
(the cost curve of `wc report`); transitions recorded before this revision have none

Revision ID: 0006
Revises: 0005
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("transitions") as batch:
        batch.add_column(sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("transitions") as batch:
        batch.drop_column("recorded_at")
