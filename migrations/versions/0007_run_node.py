"""which machine ran each run (a Ray node id, else the host name), so that a sweep spread over a
cluster shows where each of its runs went (runs recorded before this revision have none); and at
most one run per cell of a sweep, so two processes playing the same sweep cannot both start a cell

Revision ID: 0007
Revises: 0006
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("node", sa.String(300), nullable=True))
        batch.create_index("uq_runs_sweep_cell", ["sweep_id", "sweep_index"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.drop_index("uq_runs_sweep_cell")
        batch.drop_column("node")
