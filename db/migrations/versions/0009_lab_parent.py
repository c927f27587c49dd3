"""lab.parent_slug and parent_source: a lab can be part of another (Google DeepMind of Google), with its source

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 19:40:00

Two nullable columns; the catalog source's digests are cleared so every lab file loads again and fills them.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("lab") as batch:
        batch.add_column(sa.Column("parent_slug", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True))
        batch.add_column(sa.Column("parent_source", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True))
        batch.create_index(batch.f("ix_lab_parent_slug"), ["parent_slug"], unique=False)
    op.execute("UPDATE source SET etag = NULL WHERE kind = 'catalog'")


def downgrade() -> None:
    with op.batch_alter_table("lab") as batch:
        batch.drop_index(batch.f("ix_lab_parent_slug"))
        batch.drop_column("parent_source")
        batch.drop_column("parent_slug")
