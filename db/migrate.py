"""Alembic, driven from code: `upgrade(engine)` brings any database to the newest schema."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, String, TypeDecorator

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(engine: Engine) -> Config:
    """An Alembic config pointing at our migrations and sharing the given engine."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply every migration up to `revision`; never drops data."""
    command.upgrade(alembic_config(engine), revision)


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None for an empty database."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def compare_type(
    context: MigrationContext, inspected: Any, metadata: Any, inspected_type: Any, metadata_type: Any
) -> bool | None:
    """Alembic's type comparison, except string lengths on SQLite: it ignores them, so they never need migrating."""
    declared = metadata_type.impl if isinstance(metadata_type, TypeDecorator) else metadata_type  # e.g. AutoString
    if context.dialect.name == "sqlite" and isinstance(inspected_type, String) and isinstance(declared, String):
        return False
    return None  # Alembic's own comparison
