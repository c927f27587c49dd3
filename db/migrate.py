"""Alembic, driven from code: `upgrade(engine)` brings any database to the newest schema."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, String, TypeDecorator, create_engine, event, inspect, text

from db.revisions import MIGRATIONS, VERSION_TABLE, script_heads

if TYPE_CHECKING:  # Alembic is imported only when there is migration work: most starts find the schema current
    from alembic.config import Config
    from alembic.runtime.migration import MigrationContext


def alembic_config(engine: Engine) -> Config:
    """An Alembic config pointing at our migrations and sharing the given engine."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply every migration up to `revision`, each with its version row in one transaction; never drops data.

    A process killed mid-migration leaves the database at the previous revision, whole, on PostgreSQL
    and SQLite alike: SQLite's DDL is transactional once the driver stops committing around it.
    A database already at the head costs one query and no Alembic import.
    """
    if revision == "head" and is_current(engine):
        return
    from alembic import command

    if engine.dialect.name != "sqlite":
        command.upgrade(alembic_config(engine), revision)
        return
    migrating = _transactional_sqlite(engine)
    try:
        command.upgrade(alembic_config(migrating), revision)
    finally:
        migrating.dispose()


def _transactional_sqlite(engine: Engine) -> Engine:
    """An engine on the same SQLite file whose transactions include DDL (the SQLAlchemy pysqlite recipe):
    the driver's own transaction handling is off, and every transaction starts with BEGIN IMMEDIATE."""
    migrating = create_engine(engine.url, connect_args={"timeout": 30})

    @event.listens_for(migrating, "connect")
    def _connect(connection: Any, _record: Any) -> None:
        connection.isolation_level = None  # pysqlite would otherwise commit before each DDL statement
        connection.execute("PRAGMA foreign_keys=OFF")  # tables are rebuilt by copying (batch mode)

    @event.listens_for(migrating, "begin")
    def _begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return migrating


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None for an empty database."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def is_current(engine: Engine) -> bool:
    """Whether the database's stored revisions are exactly the migrations' heads (one query, no Alembic)."""
    heads = script_heads()
    return heads is not None and stored_revisions(engine) == heads


def stored_revisions(engine: Engine) -> frozenset[str]:
    """The revisions recorded in the database's version table (empty for a database never migrated)."""
    with engine.connect() as connection:
        if not inspect(connection).has_table(VERSION_TABLE):
            return frozenset()
        return frozenset(row[0] for row in connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")))


def compare_type(
    context: MigrationContext, inspected: Any, metadata: Any, inspected_type: Any, metadata_type: Any
) -> bool | None:
    """Alembic's type comparison, except string lengths on SQLite: it ignores them, so they never need migrating."""
    declared = metadata_type.impl if isinstance(metadata_type, TypeDecorator) else metadata_type  # e.g. AutoString
    if context.dialect.name == "sqlite" and isinstance(inspected_type, String) and isinstance(declared, String):
        return False
    return None  # Alembic's own comparison
