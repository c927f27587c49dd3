"""The bundled catalog as shipped: valid, and answering from a fresh install with no set-up."""

import json
import os
import subprocess
import sys
from datetime import date

from trackers.catalog.lab_files import check_catalog, load_catalog


def test_the_bundled_catalog_passes_its_own_check():
    files = load_catalog()
    assert files, "the catalog folder has no lab files"
    errors = [str(problem) for problem in check_catalog(files, date.today()) if not problem.warning]  # noqa: DTZ011
    assert errors == []


def test_a_fresh_install_answers_status_alphago_from_the_bundled_catalog(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SUNSET_", "XDG_"))}
    env |= {"HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path / "data")}
    result = subprocess.run(
        [sys.executable, "-m", "bot", "status", "AlphaGo", "--json"],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["name"] == "AlphaGo"
    assert data["first_release"].startswith("2016")
    assert data["level"] == "L0"
    assert data["sources"]
    assert (tmp_path / "data" / "sunset-clause" / "sunset.sqlite3").exists()
