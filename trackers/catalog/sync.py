"""Load the catalog into the database: a file whose hash changed replaces its catalog facts; nothing else is touched.

Which files to load is decided here; the writes are `trackers.store.catalog`'s. Nothing commits: the caller
owns the transaction (and rolls it back on a CatalogError).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from sqlmodel import Session

from db.models import utcnow
from trackers.catalog import catalog_files, loaded_digest, snapshot_digest, source_name
from trackers.catalog.epoch import EpochRow, read_snapshot
from trackers.catalog.lab_files import read_lab_file
from trackers.catalog.schema import ModelEntry
from trackers.names import normalise_name
from trackers.records import Notability
from trackers.store import catalog as store
from trackers.store.catalog import RANK

__all__ = ["RANK", "SyncResult", "sync_catalog"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SyncResult:
    """What a catalog load changed."""

    files_loaded: int
    files_unchanged: int
    models: int


def sync_catalog(session: Session, paths: Iterable[Path] | None = None) -> SyncResult:
    """Bring the database in line with the catalog files; an unchanged file costs one hash comparison.

    Raises CatalogError for a malformed file before anything of that file is written. Does not commit.
    """
    loaded = unchanged = models = 0
    bases: list[tuple[int, str]] = []
    snapshot = _Snapshot()
    paths = catalog_files() if paths is None else list(paths)
    digests = store.file_digests(session, names=[source_name(path) for path in paths])
    for path in paths:
        name = source_name(path)
        digest = loaded_digest(path, snapshot.digest)  # a new Epoch snapshot reloads every file
        if digests.get(name) == digest:
            unchanged += 1
            continue
        lab_file = read_lab_file(path)
        lab_id = store.upsert_lab(session, entry=lab_file.content.lab)
        for entry in lab_file.content.models:
            model_id = store.replace_model(session, lab_id=lab_id, entry=entry, notability=snapshot.notability(entry))
            if entry.base:
                bases.append((model_id, entry.base))
        store.withdraw_missing(session, lab_id=lab_id, kept={entry.slug for entry in lab_file.content.models})
        count = len(lab_file.content.models)
        store.mark_file_loaded(
            session,
            name=name,
            lab=lab_file.content.lab.slug,
            url=lab_file.path.name,
            digest=digest,
            items=count,
            now=utcnow(),
        )
        models += count
        loaded += 1
        log.info("source=%s status=ok models=%d", name, count)
    store.link_bases(session, bases=bases)
    return SyncResult(files_loaded=loaded, files_unchanged=unchanged, models=models)


class _Snapshot:
    """Epoch AI's rows by normalised name, read once per sync and only when a file needs loading."""

    def __init__(self) -> None:
        self.digest = snapshot_digest()
        self._rows: dict[str, EpochRow] | None = None

    def notability(self, entry: ModelEntry) -> Notability | None:
        """The most notable row that names the entry (by name, slug or alias), if any."""
        if self._rows is None:
            self._rows = {normalise_name(row.name): row for row in read_snapshot()}
        names = {normalise_name(text) for text in (entry.name, entry.slug, *entry.aliases)}
        found = [Notability(row.criteria, row.citations) for key in names if (row := self._rows.get(key))]
        return max(found, key=lambda item: item.rank, default=None)
