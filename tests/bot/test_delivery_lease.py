"""One delivery worker at a time: the PostgreSQL advisory lock behind `DeliveryLease`, and its no-op on SQLite."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlmodel import Session

from bot.outbox.lease import DeliveryLease
from bot.runtime.gateway import Gateway
from bot.store import locks
from db.engine import make_engine
from tests.conftest import POSTGRES_URL

postgres_only = pytest.mark.skipif(not POSTGRES_URL, reason="PostgreSQL advisory locks: runs in the PostgreSQL pass")


def lease_on(engine) -> DeliveryLease:
    """A process's lease: its engine, and a gateway of its own whose writer thread runs the lock's queries."""
    return DeliveryLease(engine, Gateway(lambda: Session(engine)))


def holder_pids(engine, key: int) -> list[int]:
    """The server processes (one per connection) holding the advisory lock `key`, seen from outside."""
    statement = text(
        "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted "
        "AND ((classid::bigint << 32) | objid::bigint) = :key"
    )
    with engine.connect() as connection:
        return list(connection.execute(statement, {"key": key}).scalars())


@postgres_only
async def test_only_one_process_delivers_and_another_takes_over_when_it_dies(engine, database_url):
    # Two engines stand for two processes: a session-level advisory lock belongs to one connection.
    first_engine, second_engine = make_engine(database_url), make_engine(database_url)
    first, second = lease_on(first_engine), lease_on(second_engine)
    try:
        assert await first.held()
        assert not await second.held()
        assert await first.held()  # kept from round to round
        assert not await second.held()
        [pid] = holder_pids(engine, locks.DELIVERY_LOCK)
        with engine.connect() as connection:  # the holder dies: its connection ends, and its lock with it
            connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        assert await second.held()
        assert not await first.held()  # the old holder notices, and waits its turn
        assert len(holder_pids(engine, locks.DELIVERY_LOCK)) == 1
    finally:
        await first.close()
        await second.close()
        first_engine.dispose()
        second_engine.dispose()


@postgres_only
async def test_a_stopping_process_hands_delivery_over_and_gated_rounds_run_only_where_held(engine, database_url):
    first_engine, second_engine = make_engine(database_url), make_engine(database_url)
    first, second = lease_on(first_engine), lease_on(second_engine)
    rounds: list[str] = []

    async def deliver(name: str) -> int:
        rounds.append(name)
        return 1

    try:
        assert await first.gated(deliver)("first") == 1
        assert await second.gated(deliver)("second") == 0
        await first.close()
        assert holder_pids(engine, locks.DELIVERY_LOCK) == []
        assert await second.gated(deliver)("second") == 1
        assert rounds == ["first", "second"]
    finally:
        await second.close()
        first_engine.dispose()
        second_engine.dispose()


@pytest.mark.skipif(bool(POSTGRES_URL), reason="SQLite's own behaviour: runs in the SQLite pass")
async def test_on_sqlite_the_one_process_always_delivers(engine):
    first, second = lease_on(engine), lease_on(engine)
    assert await first.held() and await second.held()
    await first.close()
