"""The status card's reads on a bare sqlite3 connection, for `sunset status NAME` (see `bot.cli.quick`).

Importing SQLAlchemy alone takes longer than the command may (300 ms warm), so on a SQLite file the
command asks these questions in SQL text with the standard library: is the schema at the migrations'
heads, which catalog files are loaded, and the model an exact name means, as the records
`trackers.store.models` would build (`resolve_name`'s exact match, `load_catalogue(slugs=…)`, same rows,
same order, same mapping in `trackers.store.rows`). tests/bot/test_quick_status.py holds the two to
the same card for every bundled model. Read-only: nothing here writes.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from trackers.records import ModelRecord
from trackers.store.rows import VISIBLE_STATES, record_of

_SHOWN = f"model.state IN ({', '.join('?' * len(VISIBLE_STATES))})"


@dataclass
class _Model:
    """A `model` row joined with its lab's slug and name."""

    id: int
    slug: str
    name: str
    lab: str
    lab_name: str
    base_id: int | None
    first_release: str | None
    verified_on: date | None
    verified_sources: str | None
    notability: str | None
    citations: int | None


@dataclass
class _Change:
    """An `opennesschange` row."""

    kind: str
    on: date | None
    access: str | None
    licence_raw: str | None
    licence_spdx: str | None
    training_code: str | None
    training_data: str | None
    checkpoints: bool | None
    paper: str | None
    source_url: str | None


@dataclass(frozen=True)
class Found:
    """The model a name means, as a record, with its lab's display name and its source URLs."""

    record: ModelRecord
    lab_name: str
    sources: tuple[str, ...]


def connect(path: Path) -> sqlite3.Connection:
    """A connection to the SQLite file that refuses to write (a reader never blocks `sunset run`'s writer)."""
    connection = sqlite3.connect(path, timeout=5)
    connection.execute("PRAGMA query_only = ON")
    return connection


def stored_revisions(connection: sqlite3.Connection) -> frozenset[str]:
    """The revisions in the version table (empty for a database never migrated)."""
    try:
        return frozenset(row[0] for row in connection.execute("SELECT version_num FROM alembic_version"))
    except sqlite3.OperationalError:  # no such table
        return frozenset()


def loaded_digests(connection: sqlite3.Connection, names: Collection[str]) -> dict[str, str | None]:
    """The digest last loaded of each named catalog file that has a row (`trackers.store.catalog.file_digests`)."""
    marks = ", ".join("?" * len(names))
    return dict(connection.execute(f"SELECT name, etag FROM source WHERE name IN ({marks})", tuple(names)).fetchall())


def exact_model(connection: sqlite3.Connection, key: str) -> Found | None:
    """The visible model whose name, slug or alias normalises to `key`, or None."""
    hit = connection.execute(
        f"SELECT model.slug FROM model JOIN alias ON alias.model_id = model.id WHERE alias.key = ? AND {_SHOWN}",
        (key, *VISIBLE_STATES),
    ).fetchone()
    if hit is None:
        return None
    model = _model(connection, "model.slug = ?", hit[0])
    if model is None:
        return None
    chain = [model]  # the model, then its bases a generation at a time, as far as they are visible
    while chain[-1].base_id is not None and all(row.id != chain[-1].base_id for row in chain):
        base = _model(connection, "model.id = ?", chain[-1].base_id)
        if base is None:
            break
        chain.append(base)
    record: ModelRecord | None = None
    for row in reversed(chain):
        record = record_of(row, row.lab, _changes(connection, row.id), _aliases(connection, row.id), record)
    assert record is not None
    return Found(record=record, lab_name=model.lab_name, sources=_sources(connection, model.id))


def _model(connection: sqlite3.Connection, where: str, value: object) -> _Model | None:
    row = connection.execute(
        "SELECT model.id, model.slug, model.name, lab.slug, lab.name, model.base_id, model.first_release, "
        "model.verified_on, model.verified_sources, model.notability, model.citations "
        f"FROM model JOIN lab ON model.lab_id = lab.id WHERE {_SHOWN} AND {where}",
        (*VISIBLE_STATES, value),
    ).fetchone()
    if row is None:
        return None
    model_id, slug, name, lab, lab_name, base_id, first_release, verified_on, sources, notability, citations = row
    return _Model(
        model_id, slug, name, lab, lab_name, base_id, first_release, _date(verified_on), sources, notability, citations
    )


def _changes(connection: sqlite3.Connection, model_id: int) -> list[_Change]:
    rows = connection.execute(
        'SELECT kind, "on", access, licence_raw, licence_spdx, training_code, training_data, checkpoints, paper, '
        "source_url FROM opennesschange WHERE opennesschange.model_id IN (?)",
        (model_id,),
    )
    return [
        _Change(
            kind=kind,
            on=_date(on),
            access=access,
            licence_raw=licence_raw,
            licence_spdx=licence_spdx,
            training_code=training_code,
            training_data=training_data,
            checkpoints=None if checkpoints is None else bool(checkpoints),
            paper=paper,
            source_url=source_url,
        )
        for (
            kind,
            on,
            access,
            licence_raw,
            licence_spdx,
            training_code,
            training_data,
            checkpoints,
            paper,
            source_url,
        ) in (rows)
    ]


def _aliases(connection: sqlite3.Connection, model_id: int) -> list[str]:
    rows = connection.execute(
        "SELECT name FROM alias WHERE alias.model_id IN (?) AND alias.kind NOT IN ('slug', 'name')", (model_id,)
    )
    return [name for (name,) in rows]


def _sources(connection: sqlite3.Connection, model_id: int) -> tuple[str, ...]:
    rows = connection.execute(
        "SELECT url FROM observation WHERE observation.model_id IN (?) ORDER BY observation.rank DESC, observation.id",
        (model_id,),
    )
    return tuple(dict.fromkeys(url for (url,) in rows))


def _date(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None
