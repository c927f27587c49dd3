"""The composition root: the only place that builds (and closes) the engine and other long-lived parts."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session

from bot.runtime.config import Settings
from bot.runtime.gateway import Gateway
from db.engine import make_engine, redacted
from db.migrate import upgrade
from db.models import utcnow
from trackers.catalog import catalog_files
from trackers.catalog.sync import SyncResult, sync_catalog
from trackers.sources.catalog import KIND as CATALOG

log = logging.getLogger(__name__)


class DiscordLoginError(Exception):
    """Discord refused the bot's token at start-up: retrying cannot help, the operator must fix it."""


@dataclass
class App:
    """The running application's shared parts."""

    settings: Settings
    engine: Engine
    today: Callable[[], date] = field(default=lambda: today_utc())
    gateway: Gateway = field(init=False)

    def __post_init__(self) -> None:
        # Threads start at the first call: building the gateway opens nothing.
        self.gateway = Gateway(self.session)

    def session(self) -> Session:
        """A new database session (use it as a context manager)."""
        return Session(self.engine, expire_on_commit=False)

    def catalog_dirs(self) -> list[Path]:
        """Folders of the configured catalog sources: the bundled one unless a source sets `path`."""
        return [
            Path(CATALOG.location(source.spec())) for source in self.settings.sources if source.kind == CATALOG.name
        ]

    @property
    def catalog_hint(self) -> str | None:
        """What to tell someone who finds no models because no catalog source is configured."""
        if self.catalog_dirs():
            return None
        return 'no [[sources]] entry has kind = "catalog", so the bundled catalog is not loaded'

    def load_catalog(self) -> SyncResult | None:
        """Load changed catalog files into the database (CatalogError on a malformed file)."""
        dirs = self.catalog_dirs()
        if not dirs:
            return None
        with self.session() as session:
            synced = sync_catalog(session, [path for directory in dirs for path in catalog_files(directory)])
            session.commit()
            return synced


@contextmanager
def open_app(
    settings: Settings, *, load_catalog: bool = True, today: Callable[[], date] | None = None
) -> Iterator[App]:
    """Build the engine, bring the schema up to date, load the catalog; dispose of everything on exit."""
    url = settings.database.resolved_url()
    engine = make_engine(url)
    try:
        log.debug("database=%s", redacted(url))
        upgrade(engine)
        app = App(settings=settings, engine=engine, today=today or today_utc)
        if load_catalog:
            app.load_catalog()
        try:
            yield app
        finally:
            app.gateway.close()
    finally:
        engine.dispose()


def today_utc() -> date:
    """Today's date in UTC."""
    return utcnow().date()
