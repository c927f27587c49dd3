"""an index on model.base_id: the change scan finds the fine-tunes of every changed model

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 22:40:00

A fine-tune's training code and data are capped at its base's, so a change to a base re-evaluates the
models built on it; without the index each change scan would read the whole model table.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(op.f("ix_model_base_id"), "model", ["base_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_model_base_id"), table_name="model")
