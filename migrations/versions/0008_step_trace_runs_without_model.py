"""what each step of an episode was (for `wc runs show --episode` and `wc runs render`): where its
action came from (`plan`, `explore`, `llm`) and what the program predicted (the hash of its
predicted next state, and the state itself where it differs from what happened); and runs
without a model: a run allowed no LLM call asked none (transitions and runs recorded before
this revision have none of these)

Revision ID: 0008
Revises: 0007
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("transitions") as batch:
        batch.add_column(sa.Column("action_source", sa.String(10), nullable=True))
        batch.add_column(sa.Column("predicted_hash", sa.String(40), nullable=True))
        batch.add_column(sa.Column("predicted_state", sa.JSON(), nullable=True))
    with op.batch_alter_table("runs") as batch:
        batch.alter_column("model", existing_type=sa.String(200), nullable=True)


def downgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.execute("UPDATE runs SET model = 'none' WHERE model IS NULL")
        batch.alter_column("model", existing_type=sa.String(200), nullable=False)
    with op.batch_alter_table("transitions") as batch:
        batch.drop_column("predicted_state")
        batch.drop_column("predicted_hash")
        batch.drop_column("action_source")
