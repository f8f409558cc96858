"""program fits: a program version whose PARAMS were fitted to the data (issue 30), with the
program it was fitted from, the values before and after, the fit's budget and transition sample,
its residuals and what the data does not determine

Revision ID: 0012
Revises: 0011
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "program_fits",
        sa.Column("program_id", sa.Integer(), sa.ForeignKey("programs.id"), primary_key=True),
        sa.Column("parent_id", sa.Integer(), sa.ForeignKey("programs.id"), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("initial", sa.JSON(), nullable=False),
        sa.Column("fitted", sa.JSON(), nullable=False),
        sa.Column("budget_seconds", sa.Float(), nullable=False),
        sa.Column("n_transitions", sa.Integer(), nullable=False),
        sa.Column("sample", sa.JSON(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("evaluations", sa.Integer(), nullable=False),
        sa.Column("residuals", sa.JSON(), nullable=False),
        sa.Column("identifiability", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_program_fits_parent_id", "program_fits", ["parent_id"])


def downgrade() -> None:
    op.drop_index("ix_program_fits_parent_id", "program_fits")
    op.drop_table("program_fits")
