"""Bulk reads stay under the database's bound-parameter limit, however many models change at once.

SQLite refuses a statement with more bound parameters than its limit (32,766 by default): a catalogue
of a million models once failed `sunset run` at start-up this way. Here the limit is lowered to 100 so
a few hundred models show it.
"""

import sqlite3
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import event
from sqlmodel import Session, func, select

from benchmarks.scale import build
from db.models import Event
from trackers.events import NEW_MODEL, evaluate_changed, mark_evaluated
from trackers.store.assessments import read_batch
from trackers.store.models import load_catalogue
from trackers.sunset import Policy

MODELS = 500
ON = date(2026, 12, 5)


@pytest.fixture
def small_limit_engine(engine):
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite's bound-parameter limit: runs in the SQLite pass")

    @event.listens_for(engine, "connect")
    def limit(dbapi_connection, _record):
        dbapi_connection.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 100)

    engine.dispose()  # pooled connections were opened before the limit
    return engine


def test_the_limit_is_real(small_limit_engine):
    with small_limit_engine.connect() as connection, pytest.raises(Exception, match="too many SQL variables"):
        connection.exec_driver_sql(f"SELECT 1 WHERE 1 IN ({', '.join('?' * 101)})", tuple(range(101)))


def test_the_whole_catalogue_loads_whatever_its_size(small_limit_engine):
    build(small_limit_engine, MODELS)
    with Session(small_limit_engine) as session:
        catalogue = load_catalogue(session)
    assert len(catalogue.records) == MODELS
    assert all(record.aliases and record.initial.access is not None for record in catalogue.records.values())


def test_a_bulk_change_is_scanned_in_bounded_reads(small_limit_engine, monkeypatch):
    monkeypatch.setattr("trackers.events.EVALUATION_BATCH", 40)  # under the lowered limit, as 2,000 is under 32,766
    monkeypatch.setattr("trackers.store.events.LOOKUP_CHUNK", 40)
    policy = Policy()
    with Session(small_limit_engine) as session:
        mark_evaluated(session, ON)
        assert evaluate_changed(session, policy, ON, datetime(2026, 12, 5, 9, tzinfo=UTC)) == []  # sets the mark
        session.commit()
    build(small_limit_engine, MODELS)  # an import of many models at once: each is new
    with Session(small_limit_engine) as session:
        announced = [
            draft.kind for draft in evaluate_changed(session, policy, ON, datetime(2026, 12, 5, 10, tzinfo=UTC))
        ]
        session.commit()
        stored = session.exec(select(func.count()).select_from(Event).where(Event.kind == NEW_MODEL)).one()
    assert stored == MODELS
    assert announced.count(NEW_MODEL) == MODELS


def test_scattered_models_are_read_by_their_ids_as_the_catalogue_loads_them(small_limit_engine):
    build(small_limit_engine, MODELS)
    scattered = [3, 250, 499]  # far apart: read by id, not as the range between them
    with Session(small_limit_engine) as session:
        batch = read_batch(session, ids=scattered)
        catalogue = load_catalogue(session, ids=set(scattered), with_sources=False)
    assert sorted(batch.records) == scattered
    assert {record.slug: record for record in batch.records.values()} == catalogue.records
