"""model.first_release_url as long as the observation URL it is copied from (1,000 characters)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 10:05:00

A tracker-created model takes its release URL from the claim it believes; announcement links may be
up to 1,000 characters (the observation's limit), and PostgreSQL enforces VARCHAR lengths. SQLite
ignores them, so there is nothing to change there (and rebuilding a referenced table under foreign
keys would fail).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    op.alter_column("model", "first_release_url", existing_type=sa.String(500), type_=sa.String(1000))


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    op.alter_column(
        "model",
        "first_release_url",
        existing_type=sa.String(1000),
        type_=sa.String(500),
        postgresql_using="left(first_release_url, 500)",
    )
