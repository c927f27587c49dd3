"""`catalog`: the bundled, curated catalog (or a folder of lab files given as `path`), as a source.

It is local and already a complete record — models, dates, openness changes, each with its source —
so instead of sightings it is loaded whole by `sync_catalog`: a file whose hash is unchanged costs one
comparison, a changed file replaces its catalog facts (rank 80, below only a moderator).
"""

from __future__ import annotations

from pathlib import Path

from sqlmodel import Session

from trackers.catalog import CATALOG_DIR, catalog_files
from trackers.catalog.sync import SyncResult, sync_catalog
from trackers.sources import SourceSpec


def folder(spec: SourceSpec) -> Path:
    """The folder of lab files this source reads."""
    return Path(spec.options.get("path") or CATALOG_DIR)


def load(session: Session, spec: SourceSpec) -> SyncResult:
    """Load the changed lab files (CatalogError on a malformed one, before anything of it is written)."""
    return sync_catalog(session, catalog_files(folder(spec)))
