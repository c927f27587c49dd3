"""One delivery worker at a time: the process that holds the delivery lock sends; the others wait their turn.

On PostgreSQL several processes may run `sunset run`; each delivery round first asks `DeliveryLease.held()`,
which takes the advisory lock (`bot.store.locks`) when it is free and keeps it on a connection of its
own until `close()`. A process that dies loses its connection and so the lock; the next round of a
waiting process takes it over. On SQLite (one process) the lease is always held.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Awaitable, Callable
from typing import ParamSpec

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError

from bot.runtime.gateway import Gateway
from bot.store import locks

log = logging.getLogger(__name__)
_P = ParamSpec("_P")


class DeliveryLease:
    """The right to deliver events, held by at most one process per PostgreSQL database."""

    def __init__(self, engine: Engine, gateway: Gateway, *, key: int = locks.DELIVERY_LOCK) -> None:
        self._engine = engine
        self._gateway = gateway  # its writer thread runs the lock's queries: never the loop, never to_thread
        self._key = key
        self._connection: Connection | None = None
        self._waiting = False
        self._guard = asyncio.Lock()

    async def held(self) -> bool:
        """Whether this process may deliver now: keeps the lock it has, or takes it when it is free."""
        if self._engine.dialect.name != "postgresql":
            return True
        async with self._guard:
            return await self._gateway.job(self._hold)

    def gated(self, job: Callable[_P, Awaitable[int]]) -> Callable[_P, Awaitable[int]]:
        """`job` (a delivery round returning how many it sent) run only while the lease is held; else 0."""

        @functools.wraps(job)
        async def round_if_held(*args: _P.args, **kwargs: _P.kwargs) -> int:
            return await job(*args, **kwargs) if await self.held() else 0

        return round_if_held

    async def close(self) -> None:
        """Give the lock back (a process that simply dies gives it back too, with its connection)."""
        async with self._guard:
            await self._gateway.job(self._let_go)

    def _hold(self) -> bool:
        if self._connection is not None:
            try:
                if locks.holds(self._connection, key=self._key):
                    return True
                log.warning("the delivery lock was lost; taking it again")
            except DBAPIError as error:
                log.warning("the delivery lock's connection failed (%s); taking the lock again", type(error).__name__)
            self._drop()
        try:
            connection = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        except DBAPIError as error:
            log.error("delivery lock: database unreachable (%s); no delivery this round", type(error).__name__)
            return False
        try:
            taken = locks.try_lock(connection, key=self._key)
        except DBAPIError:
            connection.invalidate()
            connection.close()
            raise
        if not taken:
            connection.close()
            if not self._waiting:
                log.info("another process delivers events; this one takes over if it stops")
            self._waiting = True
            return False
        self._connection, self._waiting = connection, False
        log.info("this process now delivers events (delivery lock taken)")
        return True

    def _let_go(self) -> None:
        if self._connection is None:
            return
        with contextlib.suppress(DBAPIError):  # a connection that is gone took the lock with it
            locks.unlock(self._connection, key=self._key)
        self._drop()

    def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                connection.invalidate()  # never back to the pool: a pooled connection must not carry a lock
            finally:
                connection.close()
