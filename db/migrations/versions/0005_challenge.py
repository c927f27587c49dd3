"""challenge: a fact disputed by a community member, waiting for a moderator's decision

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05 18:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Text = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "challenge",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model_id", sa.Integer(), nullable=False),
        sa.Column("fact", Text(length=40), nullable=False),
        sa.Column("proposed", Text(length=200), nullable=False),
        sa.Column("source_url", Text(length=1000), nullable=False),
        sa.Column("note", Text(length=500), nullable=True),
        sa.Column("reporter", Text(length=120), nullable=False),
        sa.Column("notify", Text(length=80), nullable=True),
        sa.Column("status", Text(length=16), nullable=False),
        sa.Column("reason", Text(length=500), nullable=True),
        sa.Column("decided_by", Text(length=120), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["model_id"], ["model.id"], name=op.f("fk_challenge_model_id_model"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_challenge")),
    )
    with op.batch_alter_table("challenge") as batch:
        batch.create_index(batch.f("ix_challenge_model_id"), ["model_id"], unique=False)
        batch.create_index(batch.f("ix_challenge_reporter"), ["reporter"], unique=False)
        batch.create_index(batch.f("ix_challenge_status"), ["status"], unique=False)


def downgrade() -> None:
    op.drop_table("challenge")
