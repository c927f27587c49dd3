"""A process killed at any moment of a migration leaves a SQLite database that the next start opens.

Each trial runs the migration in a child process that SIGKILLs itself just before one of its SQL
statements, chosen at random within a stretch of the run, the stretches covering all of it; then the
database must upgrade to head with every row kept.
"""

import itertools
import os
import random
import signal
import subprocess
import sys
import textwrap

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, func, inspect, text
from sqlmodel import Session, select

from db.engine import make_engine
from db.migrate import current_revision, upgrade
from db.models import Observation
from db.revisions import MIGRATIONS

pytestmark = pytest.mark.skipif(
    bool(os.environ.get("SUNSET_TEST_DATABASE_URL")), reason="SQLite's own behaviour: runs in the SQLite pass"
)

TRIALS = 6
ROWS = 5_000
CHILD = textwrap.dedent(
    """
    import os, signal, sys
    from sqlalchemy import Engine, event
    from db.engine import make_engine
    from db.migrate import upgrade
    url, kill_at = sys.argv[1], int(sys.argv[2])
    statements = 0

    @event.listens_for(Engine, "before_cursor_execute")
    def count(*args):
        global statements
        statements += 1
        if statements == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)  # no cleanup, no rollback: as a power cut would leave it

    upgrade(make_engine(url))
    print(statements, flush=True)
    """
)


def migrate_in_child(url: str, kill_at: int = 0) -> int:
    """Run the upgrade in a child, killed just before its `kill_at`-th SQL statement (0: never);
    returns how many statements a full run executed."""
    child = subprocess.run(
        [sys.executable, "-c", CHILD, url, str(kill_at)], capture_output=True, text=True, timeout=120
    )
    if kill_at:
        assert child.returncode == -signal.SIGKILL, child.stderr
        return kill_at
    assert child.returncode == 0, child.stderr
    return int(child.stdout.split()[-1])


def kill_points(total: int) -> list[int]:
    """TRIALS statement numbers spread over the whole run, at random within each stretch."""
    rng = random.Random(total)
    edges = [1 + total * n // TRIALS for n in range(TRIALS + 1)]
    return [rng.randrange(low, max(low + 1, high)) for low, high in itertools.pairwise(edges)]


def opens_at_head(url: str) -> Engine:
    engine = make_engine(url)
    upgrade(engine)  # raised "table guildsettings already exists" / "duplicate column name: claim" before
    assert current_revision(engine) == HEAD
    return engine


HEAD = ScriptDirectory(str(MIGRATIONS)).get_current_head()


def test_a_first_start_killed_at_any_moment_leaves_a_database_that_opens(tmp_path):
    total = migrate_in_child(f"sqlite:///{tmp_path / 'measure.db'}")
    for trial, kill_at in enumerate(kill_points(total)):
        url = f"sqlite:///{tmp_path / f'first-{trial}.db'}"
        migrate_in_child(url, kill_at)
        engine = opens_at_head(url)
        assert "guildsettings" in inspect(engine).get_table_names()
        engine.dispose()


def test_an_upgrade_killed_at_any_moment_keeps_every_row(tmp_path):
    def at_0002_with_rows(path) -> str:
        url = f"sqlite:///{path}"
        engine = make_engine(url)
        upgrade(engine, "0002")
        with engine.begin() as connection:  # rows as revision 0002 stores them (the tables have grown since)
            connection.execute(text("INSERT INTO lab (id, slug, name, hf_orgs) VALUES (1, 'lab', 'Lab', '')"))
            connection.execute(
                text(
                    "INSERT INTO model (id, slug, name, lab_id, state, origin, created_at, updated_at) "
                    "VALUES (1, 'm', 'M', 1, 'confirmed', 'catalog', '2026-01-01', '2026-01-01')"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO observation (model_id, origin, rank, fact, value, url, seen_at) "
                    "VALUES (1, 'catalog', 80, 'released', :value, :url, '2026-01-01')"
                ),
                [{"value": f"v{n}", "url": f"https://x.example/{n}"} for n in range(ROWS)],
            )
        engine.dispose()
        return url

    total = migrate_in_child(at_0002_with_rows(tmp_path / "measure.db"))
    for trial, kill_at in enumerate(kill_points(total)):
        url = at_0002_with_rows(tmp_path / f"upgrade-{trial}.db")
        migrate_in_child(url, kill_at)
        engine = opens_at_head(url)
        with Session(engine) as session:
            assert session.exec(select(func.count()).select_from(Observation)).one() == ROWS
        engine.dispose()
