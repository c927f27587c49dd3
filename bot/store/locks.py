"""PostgreSQL advisory locks: one process at a time holds a role (the delivery of events).

A session-level advisory lock belongs to one database connection: it is held until that connection
unlocks it or closes, and PostgreSQL closes the connection of a process that dies, so a crashed holder
never keeps the lock. The caller keeps the connection open (in autocommit mode, so it never sits idle
in a transaction) for as long as it holds the lock.
"""

from __future__ import annotations

import zlib

from sqlalchemy import Connection, text


def lock_key(name: str) -> int:
    """A stable 64-bit key for a lock's name (CRC-32, far from keys other applications pick by hand)."""
    return 0x5C_0000_0000 | zlib.crc32(name.encode())


DELIVERY_LOCK = lock_key("sunset-clause:delivery")


def try_lock(connection: Connection, *, key: int) -> bool:
    """Take the session-level advisory lock `key` on this connection if no other session holds it."""
    return bool(connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}).scalar_one())


def unlock(connection: Connection, *, key: int) -> bool:
    """Release the lock `key` held by this connection; False when it did not hold it."""
    return bool(connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key}).scalar_one())


def holds(connection: Connection, *, key: int) -> bool:
    """Whether this connection still holds the lock `key` (False when it cannot answer: the connection died)."""
    statement = text(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted "
        "AND ((classid::bigint << 32) | objid::bigint) = :key"
    )
    return bool(connection.execute(statement, {"key": key}).scalar_one())
