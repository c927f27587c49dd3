"""The bundled, curated catalog: one TOML file per lab in this folder (docs/CATALOG.md has the format).

This module is what every start needs and imports nothing heavy: where the files are, and the digest that
says whether a file changed since it was loaded. Reading and checking them is `trackers.catalog.lab_files`;
loading them into the database, `trackers.catalog.sync`.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

CATALOG_DIR = Path(__file__).parent
SNAPSHOT = CATALOG_DIR / "epoch" / "notable.csv"  # Epoch AI's notable-models CSV, as downloaded (see epoch.py)
ORIGIN = "catalog"  # the origin of catalog facts, and the prefix of each lab file's source name


class CatalogError(Exception):
    """A catalog file that cannot be read or does not match the schema."""


def catalog_files(directory: Path = CATALOG_DIR) -> list[Path]:
    """The lab files, in name order."""
    return sorted(directory.glob("*.toml"))


def file_digest(path: Path) -> str:
    """SHA-256 of a file's bytes: a changed digest means the file must be loaded again."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def source_name(path: Path) -> str:
    """The name of a lab file's row in the source table (its load is recorded there)."""
    return f"{ORIGIN}:{path.stem}"


def loaded_digest(path: Path, snapshot: str) -> str:
    """What a lab file's row records once it is loaded: its digest and the Epoch snapshot's (a new snapshot
    reloads every file). `snapshot` is `snapshot_digest()`, computed once per sync."""
    return f"{file_digest(path)}:{snapshot}"


def snapshot_digest() -> str:
    """The short digest of the bundled Epoch snapshot that every lab file's loaded digest carries."""
    return file_digest(SNAPSHOT)[:16]
