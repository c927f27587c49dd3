"""What `sunset` imports before it works: `--help` loads no database, network or Discord library, and a
command on a database already at the newest schema never imports Alembic.

Each check runs a fresh interpreter and reads its `sys.modules`, since this test process has imported
everything already. Speed itself is measured by `benchmarks/cli.py`, not here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from bot.cli.commands import CHALLENGE_FACTS
from trackers import challenges

# Runs `sunset ARGS…`, then prints the top-level packages it imported as the last line of stdout.
LOADED = (
    "import json, sys\n"
    "from bot.cli.commands import main\n"
    "sys.argv = ['sunset', *sys.argv[1:]]\n"
    "try:\n"
    "    main()\n"
    "except SystemExit:\n"
    "    pass\n"
    "print(json.dumps(sorted({name.split('.')[0] for name in sys.modules})))\n"
)
HEAVY = {"sqlalchemy", "sqlmodel", "alembic", "aiohttp", "discord", "matplotlib", "jinja2", "apprise", "httpx"}


def loaded_by(*args: str, database_url: str | None = None) -> set[str]:
    """The top-level packages a fresh `sunset ARGS…` process imported."""
    env = dict(os.environ)
    if database_url:
        env["SUNSET_DATABASE_URL"] = database_url
    result = subprocess.run(
        [sys.executable, "-c", LOADED, *args], capture_output=True, text=True, env=env, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    return set(json.loads(result.stdout.strip().splitlines()[-1]))


def test_help_imports_no_database_network_or_discord_library():
    assert loaded_by("--help") & HEAVY == set()


def test_a_subcommands_help_imports_no_network_or_discord_library():
    assert loaded_by("track", "--help") & {"alembic", "aiohttp", "discord", "matplotlib", "jinja2"} == set()


def test_status_on_a_current_database_imports_no_alembic_or_network_library(tmp_path: Path, database_url: str):
    loaded_by("db", "upgrade", database_url=database_url)  # the first start migrates (Alembic runs)
    modules = loaded_by("status", "GPT-3", database_url=database_url)
    assert "sqlalchemy" in modules  # it did read the database
    assert modules & {"alembic", "aiohttp", "discord", "matplotlib", "jinja2", "apprise"} == set()


def test_the_facts_report_names_in_its_help_are_the_ones_a_challenge_accepts():
    assert CHALLENGE_FACTS == challenges.FACTS
