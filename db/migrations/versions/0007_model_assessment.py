"""model: its stored assessment (level and its validity, status and sunset under the default policy, the release
bounds and notability order the list and count queries compute any policy from) and the indexes they use

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05 19:40:00

Nullable columns (notable_order defaults to 0); existing rows are filled by the next evaluation (at start-up):
until then the queries assess those models in memory, as before.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = {
    "ix_model_state_status_sunset": ["state", "status", "sunset_on"],
    "ix_model_state_release": ["state", "release_latest"],
    "ix_model_state_notable": ["state", "notable_order", "release_latest", "sort_name"],
    "ix_model_tally": [
        "state", "level", "release_latest", "release_earliest", "level_since", "level_until", "lab_id", "updated_at"
    ],
    "ix_model_state_level_since": ["state", "level_since"],
    "ix_model_state_level_until": ["state", "level_until"],
    "ix_model_state_updated": ["state", "updated_at"],
}


def upgrade() -> None:
    with op.batch_alter_table("model") as batch:
        batch.add_column(sa.Column("assessed_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("level", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=True))
        batch.add_column(sa.Column("level_since", sa.Date(), nullable=True))
        batch.add_column(sa.Column("level_until", sa.Date(), nullable=True))
        batch.add_column(sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True))
        batch.add_column(sa.Column("sunset_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("release_earliest", sa.Date(), nullable=True))
        batch.add_column(sa.Column("release_latest", sa.Date(), nullable=True))
        batch.add_column(sa.Column("notable_order", sa.Integer(), server_default="0", nullable=False))
        batch.add_column(sa.Column("sort_name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True))
    for name, columns in INDEXES.items():
        op.create_index(name, "model", columns)


def downgrade() -> None:
    for name in INDEXES:
        op.drop_index(name, table_name="model")
    with op.batch_alter_table("model") as batch:
        for column in ("sort_name", "notable_order", "release_latest", "release_earliest", "sunset_on", "status",
                       "level_until", "level_since", "level", "assessed_on"):  # fmt: skip
            batch.drop_column(column)
