"""`sunset status NAME` within 300 ms: the warm case answered without typer, pydantic or SQLAlchemy.

Importing SQLAlchemy and SQLModel alone takes 0.3–0.45 s on a small machine, more than the whole
command may. So `sunset status NAME [--json]` on a SQLite database first tries this path: the settings
the full command last validated (remembered in the user cache directory, keyed by everything they were
read from), the standard library's sqlite3 and the card's own pure code. It answers only when the
answer is certainly the full command's: the same config files, environment and working directory as when
remembered, a SQLite file at the newest schema, every catalog file loaded as it is on disk, and a name
that exactly matches a model. Anything else — another database, another option, a near miss that wants
suggestions, an edited catalog or config, a schema behind — returns None and the full command runs
(reporting errors, migrating, loading, suggesting, and remembering the settings for next time).
`SUNSET_QUICK=0` turns the quick path off.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.runtime import paths

if TYPE_CHECKING:
    from bot.present.assessment import Card
    from bot.runtime.config import Settings

MEMO = "status-settings.json"
ENVIRONMENT = ("SUNSET_CONFIG", "SUNSET_DATABASE_URL", "HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME")
_CONFIG_CODE = Path(__file__).parents[1] / "runtime" / "config.py"  # its defaults are part of what is remembered


@dataclass(frozen=True)
class Remembered:
    """What `sunset status` needs of the validated settings."""

    database_url: str
    catalog_dirs: tuple[str, ...]
    window_years: int
    profile: str
    lead_days: tuple[int, ...]


def answer(argv: list[str], env: Mapping[str, str] = os.environ) -> int | None:
    """Print the status card and return the exit code, or None when the full command must answer."""
    request = _request(argv)
    if request is None or env.get("SUNSET_QUICK") == "0":
        return None
    name, as_json = request
    settings = recall(env)
    if settings is None:
        return None
    database = _sqlite_file(settings.database_url)
    if database is None or not database.is_file():
        return None
    try:
        card = _card(database, settings, name)
    except (sqlite3.Error, OSError, ValueError):  # anything odd: the full command knows what to say
        return None
    if card is None:
        return None
    if as_json:
        sys.stdout.write(json.dumps(card.to_json(), indent=2, ensure_ascii=False) + "\n")
    else:
        from rich.console import Console

        from bot.cli.status_view import print_status

        print_status(card, Console(highlight=False, soft_wrap=False))
    return 0


def _request(argv: list[str]) -> tuple[str, bool] | None:
    """(NAME, --json) from `status NAME [--json]`, else None."""
    if not argv or argv[0] != "status":
        return None
    rest = argv[1:]
    as_json = "--json" in rest
    names = [arg for arg in rest if arg != "--json"]
    if len(names) != 1 or names[0].startswith("-") or len(rest) - len(names) > 1:
        return None
    return names[0], as_json


def _card(database: Path, settings: Remembered, name: str) -> Card | None:
    """The card of the model `name` exactly means, if the database is current and holds the catalog as it is."""
    from bot.present.assessment import card_of
    from db.revisions import script_heads
    from trackers import catalog
    from trackers.assess import assess
    from trackers.names import normalise_name
    from trackers.store import quick
    from trackers.sunset import Policy, Profile

    connection = quick.connect(database)
    try:
        if quick.stored_revisions(connection) != script_heads():
            return None
        folders = [Path(folder) for folder in settings.catalog_dirs]
        if not all(folder.is_dir() for folder in folders):  # the full command says which folder went missing
            return None
        files = [path for folder in folders for path in catalog.catalog_files(folder)]
        if files:
            snapshot = catalog.snapshot_digest()
            wanted = {catalog.source_name(path): catalog.loaded_digest(path, snapshot) for path in files}
            if quick.loaded_digests(connection, wanted) != wanted:
                return None
        found = quick.exact_model(connection, normalise_name(name))
    finally:
        connection.close()
    if found is None:
        return None
    policy = Policy(window_years=settings.window_years, profile=Profile(settings.profile), lead_days=settings.lead_days)
    today = datetime.now(UTC).date()
    return card_of(assess(found.record, policy, today), lab_name=found.lab_name, sources=found.sources)


def _sqlite_file(url: str) -> Path | None:
    """The file of a plain `sqlite:///PATH` URL; None for any other database or a URL with options."""
    prefix = "sqlite:///"
    if not url.startswith(prefix) or any(char in url for char in "?%#"):
        return None
    path = url[len(prefix) :]
    return Path(path) if path and path != ":memory:" else None


# ── the remembered settings ──────────────────────────────────────────────────────────────────────


def remember(settings: Settings, catalog_dirs: list[Path], env: Mapping[str, str] = os.environ) -> None:
    """Remember what `sunset status` read of settings the full command has just validated (best effort)."""
    memo = paths.cache_dir() / MEMO
    values = Remembered(
        database_url=settings.database.resolved_url(),
        catalog_dirs=tuple(str(folder.resolve()) for folder in catalog_dirs),
        window_years=settings.sunset.window_years,
        profile=str(settings.sunset.profile),
        lead_days=tuple(settings.sunset.lead_days),
    )
    content = json.dumps({"key": _key(env), "settings": values.__dict__}, indent=1)
    try:
        if memo.is_file() and memo.read_text(encoding="utf-8") == content:
            return
        memo.parent.mkdir(parents=True, exist_ok=True)
        partial = memo.with_name(f"{MEMO}.{os.getpid()}")
        partial.write_text(content, encoding="utf-8")
        partial.replace(memo)  # whole or not at all, whatever runs beside
    except OSError:
        pass  # a read-only home: the full command answers every time


def recall(env: Mapping[str, str] = os.environ) -> Remembered | None:
    """The remembered settings, if they were remembered from exactly what would be read now."""
    try:
        data = json.loads((paths.cache_dir() / MEMO).read_text(encoding="utf-8"))
        if data.get("key") != _key(env):
            return None
        values = data["settings"]
        return Remembered(
            database_url=str(values["database_url"]),
            catalog_dirs=tuple(map(str, values["catalog_dirs"])),
            window_years=int(values["window_years"]),
            profile=str(values["profile"]),
            lead_days=tuple(map(int, values["lead_days"])),
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def _key(env: Mapping[str, str]) -> str:
    """A digest of everything the settings are read from: the working directory, the environment variables
    that choose files, each candidate config file's bytes, and the settings code (its defaults)."""
    parts: list[Any] = [os.getcwd(), [env.get(name) for name in ENVIRONMENT]]
    for path in [*paths.config_candidates(env), _CONFIG_CODE]:
        try:
            parts.append([str(path), hashlib.sha256(path.read_bytes()).hexdigest()])
        except OSError:
            parts.append([str(path), None])
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()
