"""Where Sunset Clause keeps its files: the config file's candidates, the default database, the cache.

Imports nothing heavy: the quick `sunset status` (bot/cli/quick.py) needs these before deciding whether
to load the full settings (`bot.runtime.config`, which holds the lookup order these serve).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from platformdirs import user_cache_path, user_config_path, user_data_path

APP_NAME = "sunset-clause"


def config_candidates(env: Mapping[str, str]) -> list[Path]:
    """The files that may be the config, in lookup order after `--config`: $SUNSET_CONFIG, ./config.toml, the
    user's config file (which one is read: `bot.runtime.config.config_path`)."""
    given = [Path(env["SUNSET_CONFIG"])] if env.get("SUNSET_CONFIG") else []
    return [*given, Path("config.toml"), user_config_path(APP_NAME) / "config.toml"]


def default_database_url() -> str:
    """The database when none is configured: a SQLite file in the user data directory."""
    return f"sqlite:///{user_data_path(APP_NAME) / 'sunset.sqlite3'}"


def cache_dir() -> Path:
    """The user cache directory (e.g. ~/.cache/sunset-clause): what may be deleted at any time."""
    return user_cache_path(APP_NAME)
