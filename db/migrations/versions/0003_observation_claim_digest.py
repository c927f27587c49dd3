"""observations unique by a digest of (fact, value, url) instead of the texts themselves

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 10:10:00

PostgreSQL caps a b-tree index row at 2,704 bytes; a long value (a release tag from a hostile feed)
and a long URL in the old unique constraint exceeded it and failed the whole transaction. The new
`claim` column holds sha256(fact + US + value + US + url), which db.models.claim_digest computes on
every insert; existing rows are filled here with the same formula.
"""

import hashlib
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

observation = sa.table(
    "observation", sa.column("id"), sa.column("fact"), sa.column("value"), sa.column("url"), sa.column("claim")
)


def upgrade() -> None:
    with op.batch_alter_table("observation") as batch:
        batch.add_column(sa.Column("claim", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
    connection = op.get_bind()
    rows = connection.execute(sa.select(observation.c.id, observation.c.fact, observation.c.value, observation.c.url))
    claims = [
        {"b_id": id_, "b_claim": hashlib.sha256("\x1f".join((fact, value, url)).encode()).hexdigest()}
        for id_, fact, value, url in rows
    ]
    if claims:
        statement = sa.update(observation).where(observation.c.id == sa.bindparam("b_id"))
        connection.execute(statement.values(claim=sa.bindparam("b_claim")), claims)
    with op.batch_alter_table("observation") as batch:
        batch.alter_column("claim", existing_type=sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False)
        batch.drop_constraint("uq_observation_model_id", type_="unique")
        batch.create_unique_constraint("uq_observation_model_id", ["model_id", "origin", "claim"])


def downgrade() -> None:
    with op.batch_alter_table("observation") as batch:
        batch.drop_constraint("uq_observation_model_id", type_="unique")
        batch.create_unique_constraint("uq_observation_model_id", ["model_id", "origin", "fact", "value", "url"])
        batch.drop_column("claim")
