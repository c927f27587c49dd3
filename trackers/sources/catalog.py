"""`catalog`: the bundled, curated catalog (or a folder of lab files given as `path`), as a source.

It is local and already a complete record — models, dates, openness changes, each with its source —
so instead of being fetched and read into sightings it is applied whole by `sync_catalog`: a file whose
hash is unchanged costs one comparison, a changed file replaces its catalog facts (rank 80, below only
a moderator).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import field_validator

from trackers.sources import Applied, LocalKind, Options, ParseError, SourceSpec

if TYPE_CHECKING:
    from sqlmodel import Session

# The catalog package (schema, checker, licences) and its sync are imported where used: the settings import every
# kind to check its options, and a command's start-up must not pay for them.


class CatalogOptions(Options):
    """`path`: a folder of catalog TOML files instead of the bundled catalog."""

    path: str | None = None

    @field_validator("path", mode="before")
    @classmethod
    def _an_existing_folder(cls, value: Any) -> Any:
        if value is None:
            return value
        if not isinstance(value, str):
            raise ValueError(f"a catalog source's path is a folder name in quotes (got {value!r})")
        if not Path(value).expanduser().is_dir():
            raise ValueError(f"the catalog folder {value!r} does not exist")
        return value


def folder(options: CatalogOptions) -> str:
    """The folder of lab files this source reads."""
    from trackers.catalog import CATALOG_DIR

    return str(Path(options.path).expanduser() if options.path else CATALOG_DIR)


def apply(session: Session, spec: SourceSpec) -> Applied:
    """Load the changed lab files, without committing (ParseError on a malformed one: the caller rolls back)."""
    from trackers.catalog import CatalogError, catalog_files
    from trackers.catalog.sync import sync_catalog

    directory = Path(KIND.location(spec))
    try:
        synced = sync_catalog(session, catalog_files(directory))
    except CatalogError as error:
        raise ParseError(str(error)) from error
    return Applied(changed=synced.files_loaded, items=synced.models)


KIND = LocalKind("catalog", CatalogOptions, folder, apply)
