"""The async gateway: the only way event-loop code reaches the database.

Each call runs a function that takes a `Session` in one of the gateway's own bounded thread pools — a few
readers and one writer — never on the event loop and never in asyncio's default executor (which DNS
look-ups and other `to_thread` work share, so a burst of those cannot starve a command). `write` commits
the session when the function returns and rolls back when it raises; `read` never commits. One writer
thread serialises the bot's writes, so on SQLite they queue here instead of in the busy timeout.

`forbid_sessions_on_loop` makes the rule structural: code that runs under `sunset run` (the context the
runner marks with `loop_code()`) fails with `SessionOnLoopError` the moment it checks a database connection
out on a thread that is running an event loop, and the violation is remembered for the tests to assert on.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import logging
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, Concatenate, ParamSpec, TypeVar

from sqlalchemy import event
from sqlalchemy.pool import Pool
from sqlmodel import Session

log = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")

READERS = 4
WRITERS = 1


class Gateway:
    """Bounded reader and writer thread pools of the bot's own; each call gets a fresh session."""

    def __init__(self, open_session: Callable[[], Session], *, readers: int = READERS) -> None:
        self._open_session = open_session
        self._readers = ThreadPoolExecutor(max_workers=readers, thread_name_prefix="db-read")
        self._writer = ThreadPoolExecutor(max_workers=WRITERS, thread_name_prefix="db-write")

    async def read(self, fn: Callable[Concatenate[Session, P], T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """Run a query function in a reader thread with its own session (never committed)."""

        def work() -> T:
            with self._open_session() as session:
                return fn(session, *args, **kwargs)

        return await self._submit(self._readers, work)

    async def write(self, fn: Callable[Concatenate[Session, P], T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """Run a write function in the writer thread; its session is committed when it returns."""

        def work() -> T:
            with self._open_session() as session:
                result = fn(session, *args, **kwargs)
                session.commit()
                return result

        return await self._submit(self._writer, work)

    async def job(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """Run a job that opens its own sessions (the evaluation, the board's rebuild) in the writer thread."""
        return await self._submit(self._writer, functools.partial(fn, *args, **kwargs))

    async def _submit(self, pool: ThreadPoolExecutor, work: Callable[[], T]) -> T:
        # The caller's context goes along (as with asyncio.to_thread): its log fields and the loop-code mark.
        context = contextvars.copy_context()
        return await asyncio.wrap_future(pool.submit(context.run, work))

    def close(self) -> None:
        """Wait for the calls in flight, then stop the threads (calls after this fail)."""
        self._readers.shutdown(wait=True)
        self._writer.shutdown(wait=True)


# ── the guard: no session on the event loop's thread ────────────────────────────────────────────


class SessionOnLoopError(RuntimeError):
    """Event-loop code opened a database connection on the loop's thread: it must go through the gateway."""


_loop_code: contextvars.ContextVar[bool] = contextvars.ContextVar("sunset_loop_code", default=False)
violations: list[str] = []  # every refused checkout since start (what the tests assert is empty)
_installed = threading.Lock()
_guarding = False


@contextmanager
def loop_code() -> Iterator[None]:
    """Mark the code run inside (and every task it starts) as event-loop code the guard watches."""
    token = _loop_code.set(True)
    try:
        yield
    finally:
        _loop_code.reset(token)


def _on_loop_thread() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _refuse_on_loop(dbapi_connection: Any, connection_record: Any, connection_proxy: Any) -> None:
    if _loop_code.get() and _on_loop_thread():
        where = threading.current_thread().name
        violations.append(where)
        log.error("a database connection was opened on the event loop (thread %s): use the gateway", where)
        raise SessionOnLoopError("database work on the event loop's thread: use `await gateway.read/write(...)`")


def forbid_sessions_on_loop() -> None:
    """Install the guard on every connection pool of the process (idempotent)."""
    global _guarding
    with _installed:
        if not _guarding:
            event.listen(Pool, "checkout", _refuse_on_loop)
            _guarding = True
