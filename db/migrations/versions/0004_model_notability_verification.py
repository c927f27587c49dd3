"""model: Epoch AI notability (criteria, citations) and the catalog's verification (date, sources)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05 17:45:00

Four nullable columns; existing rows get them on the next catalog sync (the catalog source's digest
is cleared so every lab file loads again).
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("model") as batch:
        batch.add_column(sa.Column("notability", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True))
        batch.add_column(sa.Column("citations", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("verified_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("verified_sources", sa.Text(), nullable=True))
    op.execute("UPDATE source SET etag = NULL WHERE kind = 'catalog'")


def downgrade() -> None:
    with op.batch_alter_table("model") as batch:
        batch.drop_column("verified_sources")
        batch.drop_column("verified_on")
        batch.drop_column("citations")
        batch.drop_column("notability")
