"""A board built once per module from the bundled catalog, on a fixed date, in a real database."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from bot.cli.commands import app
from bot.runtime.app import open_app
from bot.runtime.config import load_settings
from bot.services.community import pledge
from tests.conftest import POSTGRES_URL, reset_postgres

ON = "2026-11-28"
runner = CliRunner()


def sunset(config: Path, *args: str) -> str:
    """Run the CLI; its output (exit 0 required)."""
    result = runner.invoke(app, ["--config", str(config), *args])
    assert result.exit_code == 0, result.output
    return result.output


def status_json(config: Path, *args: str) -> Any:
    """A `--json` command's answer."""
    return json.loads(sunset(config, *args, "--json", "--on", ON))


@pytest.fixture(scope="module")
def bundled_config(tmp_path_factory):
    """A config with the bundled catalog only, in a fresh database, with two pledges for AlphaGo."""
    folder = tmp_path_factory.mktemp("board-db")
    if POSTGRES_URL:
        reset_postgres(POSTGRES_URL)  # fails loudly when PostgreSQL is missing: never a silent skip
    url = POSTGRES_URL or f"sqlite:///{folder / 'sunset.sqlite3'}"
    config = folder / "config.toml"
    config.write_text(f'[database]\nurl = "{url}"\n\n[[sources]]\nname = "catalog"\nkind = "catalog"\n')
    with open_app(load_settings(config, env={})) as application, application.session() as session:
        for user in (1, 2):
            pledge(session, slug="alphago", user_id=user, guild_id=None)
    return config


@pytest.fixture(scope="module")
def board(bundled_config, tmp_path_factory):
    """The board built by `sunset site build DIR --on 2026-11-28` (no base URL)."""
    folder = tmp_path_factory.mktemp("board") / "site"
    sunset(bundled_config, "site", "build", str(folder), "--on", ON)
    return folder
