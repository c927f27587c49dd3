"""The composition root: the only place that builds (and closes) the engine and other long-lived parts."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Engine
from sqlmodel import Session

from bot.config import Settings
from db.engine import make_engine, redacted
from db.migrate import upgrade
from trackers.catalog.sync import SyncResult, sync_catalog

log = logging.getLogger(__name__)


@dataclass
class App:
    """The running application's shared parts."""

    settings: Settings
    engine: Engine

    def session(self) -> Session:
        """A new database session (use it as a context manager)."""
        return Session(self.engine, expire_on_commit=False)

    def catalog_enabled(self) -> bool:
        """Whether the bundled catalog is one of the configured sources."""
        return any(source.kind == "catalog" for source in self.settings.sources)

    def load_catalog(self) -> SyncResult | None:
        """Load changed catalog files into the database (CatalogError on a malformed file)."""
        if not self.catalog_enabled():
            return None
        with self.session() as session:
            return sync_catalog(session)


@contextmanager
def open_app(settings: Settings, *, load_catalog: bool = True) -> Iterator[App]:
    """Build the engine, bring the schema up to date, load the catalog; dispose of everything on exit."""
    url = settings.database.resolved_url()
    engine = make_engine(url)
    try:
        log.debug("database=%s", redacted(url))
        upgrade(engine)
        app = App(settings=settings, engine=engine)
        if load_catalog:
            app.load_catalog()
        yield app
    finally:
        engine.dispose()


def today_utc() -> date:
    """Today's date in UTC."""
    from db.models import utcnow

    return utcnow().date()
