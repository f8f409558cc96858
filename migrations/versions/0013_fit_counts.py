"""fit counts: a fit of PARAMS is bounded by a count of evaluations, which decides where it stops
(so a resumed or replayed run gets the same values), and by a wall-time cap, which only keeps a
slow program from holding its worker; each fit stores its count and what cut it short ("evaluations"
or "time"; none when it converged). Fits stored before this revision have neither (their budget was
wall time alone).

Revision ID: 0013
Revises: 0012
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("program_fits") as batch:
        batch.add_column(sa.Column("budget_evaluations", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("cut", sa.String(20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("program_fits") as batch:
        batch.drop_column("cut")
        batch.drop_column("budget_evaluations")
