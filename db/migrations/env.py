"""Alembic environment: runs against the engine handed over in `config.attributes` (see db/migrate.py)."""

from alembic import context
from sqlalchemy import Engine
from sqlmodel import SQLModel

import db.models  # noqa: F401  (registers the tables on SQLModel.metadata)
from db.migrate import compare_type

target_metadata = SQLModel.metadata


def run_migrations() -> None:
    """Run the migrations on the engine `db.migrate` hands over, each with its version row in one transaction."""
    engine: Engine = context.config.attributes["engine"]
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying them
            compare_type=compare_type,
            transaction_per_migration=True,  # each migration commits with its version row, or not at all
        )
        with context.begin_transaction():
            context.run_migrations()


run_migrations()
