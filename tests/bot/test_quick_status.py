"""The quick `sunset status NAME` (bot/cli/quick.py): the full command's answer, or no answer at all.

The quick reads (trackers/store/quick.py) must build the records the ORM's reads build, for every model of
the bundled catalog; the console script must print the same bytes on both paths, take the quick one only
when warm, and give way to the full command whenever a config, a catalog file or the schema changed.
The quick path reads SQLite files only, so these tests use one whatever database the run is on.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from sqlmodel import Session

from bot.cli import quick
from db.engine import make_engine
from db.migrate import upgrade
from tests.helpers import write_config
from trackers.catalog import catalog_files
from trackers.catalog.sync import sync_catalog
from trackers.names import normalise_name
from trackers.store import quick as quick_reads
from trackers.store.models import load_catalogue

# Runs the `sunset` console script's `main` with ARGS…, then prints the top-level packages it imported.
SUNSET = (
    "import json, sys\n"
    "from bot.cli import main\n"
    "sys.argv = ['sunset', *sys.argv[1:]]\n"
    "code = 0\n"
    "try:\n"
    "    main()\n"
    "except SystemExit as exit:\n"
    "    code = exit.code or 0\n"
    "print(json.dumps(sorted({name.split('.')[0] for name in sys.modules})))\n"
    "sys.exit(code)\n"
)
HEAVY = {"sqlalchemy", "sqlmodel", "pydantic", "typer", "alembic", "rapidfuzz"}


def test_the_quick_reads_build_the_orm_records_for_every_bundled_model(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'all.sqlite3'}")
    upgrade(engine)
    with Session(engine) as session:
        sync_catalog(session, catalog_files())
        session.commit()
        catalogue = load_catalogue(session)
    engine.dispose()
    connection = sqlite3.connect(tmp_path / "all.sqlite3")
    differences = []
    for slug, record in catalogue.records.items():
        found = quick_reads.exact_model(connection, normalise_name(record.name))
        got = (found.record, found.lab_name, found.sources) if found else None
        if got != (record, catalogue.lab_name(record), catalogue.sources.get(slug, ())):
            differences.append(slug)
    assert len(catalogue.records) > 700
    assert any(record.base for record in catalogue.records.values())  # fine-tunes and their bases were compared
    assert differences == []
    assert quick_reads.exact_model(connection, normalise_name("no such model at all")) is None


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A config with a small catalog of our own on a SQLite file, and the environment that selects it."""
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'quick.sqlite3'}")
    env = dict(os.environ, SUNSET_CONFIG=str(config), XDG_CACHE_HOME=str(tmp_path / "cache"))
    env.pop("SUNSET_DATABASE_URL", None)
    env.pop("SUNSET_QUICK", None)
    return config, env


def sunset(env: dict[str, str], *args: str) -> tuple[int, str, set[str]]:
    """Exit code, output and imported packages of a fresh `sunset ARGS…` process."""
    result = subprocess.run(
        [sys.executable, "-c", SUNSET, *args], capture_output=True, text=True, env=env, timeout=120, check=False
    )
    *output, modules = result.stdout.splitlines()
    return result.returncode, "\n".join(output) + result.stderr, set(json.loads(modules))


def test_a_warm_status_prints_the_full_commands_answer_without_the_heavy_libraries(setup) -> None:
    _, env = setup
    code, cold, modules = sunset(env, "status", "Restricted")  # loads the catalog, remembers the settings
    assert code == 0 and "Restricted" in cold and "sqlalchemy" in modules
    code, warm, modules = sunset(env, "status", "Restricted")
    assert code == 0 and warm == cold
    assert modules & HEAVY == set()
    code, warm_json, modules = sunset(env, "status", "--json", "restricted")  # the slug, any case
    assert modules & HEAVY == set()
    _, full_json, full_modules = sunset(dict(env, SUNSET_QUICK="0"), "status", "restricted", "--json")
    assert "sqlalchemy" in full_modules and json.loads(warm_json) == json.loads(full_json)
    assert json.loads(warm_json)["slug"] == "restricted"


def test_an_edited_catalog_file_is_loaded_before_the_answer(setup) -> None:
    config, env = setup
    assert sunset(env, "status", "Restricted")[0] == 0
    lab_file = next((config.parent / "catalog").glob("*.toml"))
    text = lab_file.read_text()
    assert 'name = "Restricted LM"' in text
    lab_file.write_text(text.replace('name = "Restricted LM"', 'name = "Restricted Renamed"'))
    code, output, modules = sunset(env, "status", "Restricted Renamed")
    assert code == 0 and "Restricted Renamed" in output and "sqlalchemy" in modules  # the full command loaded it
    code, again, modules = sunset(env, "status", "Restricted Renamed")
    assert (code, again) == (0, output) and modules & HEAVY == set()


def test_a_catalog_folder_gone_is_reported_by_the_full_command(setup) -> None:
    config, env = setup
    assert sunset(env, "status", "Restricted")[0] == 0
    (config.parent / "catalog").rename(config.parent / "moved")
    code, output, _ = sunset(env, "status", "Restricted")
    assert code == 2 and "does not exist" in output


def test_an_edited_config_is_read_again(setup) -> None:
    config, env = setup
    assert "10-year window" in sunset(env, "status", "Restricted")[1]
    config.write_text(config.read_text() + "\n[sunset]\nwindow_years = 15\n")
    code, output, modules = sunset(env, "status", "Restricted")
    assert code == 0 and "15-year window" in output and "sqlalchemy" in modules
    config.write_text(config.read_text() + "\n[nonsense]\n")
    code, output, _ = sunset(env, "status", "Restricted")
    assert code == 2 and "nonsense" in output  # a broken config is reported, never answered past


def test_anything_but_an_exact_name_goes_to_the_full_command(setup) -> None:
    _, env = setup
    assert sunset(env, "status", "Restricted")[0] == 0
    code, output, modules = sunset(env, "status", "Restrictd")
    assert code == 1 and "Did you mean" in output and "rapidfuzz" in modules
    code, output, modules = sunset(env, "status", "Restricted", "--on", "2020-01-01")
    assert code == 0 and "sqlalchemy" in modules
    code, _, modules = sunset(dict(env, SUNSET_QUICK="0"), "status", "Restricted")
    assert code == 0 and "sqlalchemy" in modules


def test_a_schema_behind_or_another_database_gets_no_quick_answer(setup, tmp_path: Path) -> None:
    _, env = setup
    assert sunset(env, "status", "Restricted")[0] == 0
    assert quick.answer(["status", "Restricted"], env) == 0
    with sqlite3.connect(tmp_path / "quick.sqlite3") as connection:
        connection.execute("UPDATE alembic_version SET version_num = '0001'")
    assert quick.answer(["status", "Restricted"], env) is None
    assert quick.answer(["status", "Restricted"], dict(env, SUNSET_DATABASE_URL="postgresql+psycopg://x/y")) is None
    assert quick._sqlite_file("postgresql+psycopg://127.0.0.1/test") is None
    assert quick._sqlite_file("sqlite:///a%20b.sqlite3") is None
    assert quick._sqlite_file("sqlite:////data/sunset.sqlite3") == Path("/data/sunset.sqlite3")


@pytest.mark.parametrize(
    ("argv", "taken"),
    [
        (["status", "GPT-3"], ("GPT-3", False)),
        (["status", "--json", "GPT-3"], ("GPT-3", True)),
        (["status", "GPT-3", "--json"], ("GPT-3", True)),
        (["status"], None),
        (["status", "GPT-3", "--window", "15"], None),
        (["status", "GPT-3", "--evidence"], None),
        (["status", "GPT-3", "GPT-2"], None),
        (["status", "--json", "--json", "GPT-3"], None),
        (["--config", "x.toml", "status", "GPT-3"], None),
        (["list"], None),
        ([], None),
    ],
)
def test_only_status_name_and_json_are_taken(argv: list[str], taken: tuple[str, bool] | None) -> None:
    assert quick._request(argv) == taken


def test_the_remembered_settings_are_keyed_by_what_they_were_read_from(setup, tmp_path: Path) -> None:
    _, env = setup
    assert quick.recall(env) is None  # nothing remembered yet
    assert sunset(env, "status", "Restricted")[0] == 0
    remembered = quick.recall(env)
    assert remembered is not None and remembered.database_url.endswith("quick.sqlite3")
    assert remembered.window_years == 10 and remembered.catalog_dirs == (str((tmp_path / "catalog").resolve()),)
    assert quick.recall(dict(env, SUNSET_DATABASE_URL=f"sqlite:///{tmp_path / 'other.sqlite3'}")) is None
    assert quick.recall(dict(env, HOME=str(tmp_path))) is None
    memo = tmp_path / "cache" / "sunset-clause" / quick.MEMO
    memo.write_text("{not json")
    assert quick.recall(env) is None  # a damaged memo is ignored, and replaced by the next full answer
    assert sunset(env, "status", "Restricted")[0] == 0 and quick.recall(env) == remembered
