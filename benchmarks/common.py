"""Shared set-up for benchmarks: a fresh migrated SQLite file filled with synthetic labs and models."""

from __future__ import annotations

import random
import tempfile
from pathlib import Path

from sqlalchemy import Engine, insert

from db.engine import make_engine
from db.migrate import upgrade
from db.models import Alias, Lab, Model, utcnow
from trackers.names import normalise_name

WORDS = ("nova", "atlas", "orion", "lumen", "vega", "sable", "quartz", "ember", "delta", "falcon", "cedar", "pixel",
         "zephyr", "onyx", "polar", "rune", "tango", "umbra", "vertex", "willow")  # fmt: skip


def fresh_engine() -> tuple[Engine, Path]:
    """A migrated SQLite database in a temporary folder."""
    folder = Path(tempfile.mkdtemp(prefix="sunset-bench-"))
    engine = make_engine(f"sqlite:///{folder / 'bench.sqlite3'}")
    upgrade(engine)
    return engine, folder


def synthetic_models(engine: Engine, count: int, *, labs: int = 200, seed: int = 1) -> list[str]:
    """Insert `count` models (each with its name, slug and one alias) across `labs` labs; returns the names."""
    rng = random.Random(seed)
    now = utcnow()
    with engine.begin() as connection:
        connection.execute(insert(Lab), [{"slug": f"lab-{n}", "name": f"Lab {n}", "hf_orgs": ""} for n in range(labs)])
        names = []
        rows = []
        for n in range(count):
            name = f"{rng.choice(WORDS).title()} {rng.choice(WORDS).title()} {rng.randint(1, 999)}B v{n}"
            names.append(name)
            rows.append({"id": n + 1, "slug": f"m-{n}", "name": name, "lab_id": n % labs + 1, "state": "confirmed",
                         "origin": "catalog", "first_release": f"{2010 + n % 15}", "created_at": now,
                         "updated_at": now})  # fmt: skip
        connection.execute(insert(Model), rows)
        aliases = []
        for n, name in enumerate(names):
            alias = f"{name.split()[0]}-{n}"
            for text, kind in ((name, "name"), (f"m-{n}", "slug"), (alias, "alias")):
                aliases.append({"model_id": n + 1, "name": text, "key": normalise_name(text), "kind": kind,
                                "origin": "catalog"})  # fmt: skip
        connection.execute(insert(Alias), aliases)
    return names
