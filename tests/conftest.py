"""Shared fixtures: a real database (a SQLite file, or the PostgreSQL named by SUNSET_TEST_DATABASE_URL)."""

from __future__ import annotations

import os
import socket
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session

from db.engine import make_engine
from db.migrate import upgrade

POSTGRES_URL = os.environ.get("SUNSET_TEST_DATABASE_URL")


OTHERS_AT_WORK = text(
    "SELECT pid, state, left(query, 200) FROM pg_stat_activity WHERE datname = current_database() "
    "AND pid <> pg_backend_pid() AND state IN ('active', 'idle in transaction')"
)


def reset_postgres(url: str, *, patience: float = 10.0) -> None:
    """Empty the test database: drop and recreate the public schema.

    Work another connection still has under way (a thread an earlier test left running) gets `patience`
    seconds to end; after that the reset fails naming it, rather than deadlocking with it.
    """
    engine = make_engine(url)
    try:
        deadline = time.monotonic() + patience
        with engine.connect() as connection:
            if busy := connection.execute(OTHERS_AT_WORK).all():  # shown in the run's warnings: a leak to find
                warnings.warn(f"the test database reset waited for another connection's work: {busy}", stacklevel=2)
            while busy:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"other connections are still at work on the test database: {busy}")
                connection.rollback()
                time.sleep(0.1)  # bounded by the deadline above
                busy = connection.execute(OTHERS_AT_WORK).all()
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    finally:
        engine.dispose()


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """An empty database: PostgreSQL when SUNSET_TEST_DATABASE_URL is set (CI), else a fresh SQLite file."""
    if POSTGRES_URL:
        reset_postgres(POSTGRES_URL)  # fails loudly when PostgreSQL is missing: never a silent skip
        return POSTGRES_URL
    return f"sqlite:///{tmp_path / 'sunset.sqlite3'}"


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """A migrated engine on the test database."""
    engine = make_engine(database_url)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def gateway(engine: Engine) -> Iterator[Any]:
    """The bot's async gateway over the test database (its threads stopped at the end)."""
    from bot.runtime.gateway import Gateway

    gateway = Gateway(lambda: Session(engine, expire_on_commit=False))
    yield gateway
    gateway.close()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session on the migrated test database."""
    with Session(engine, expire_on_commit=False) as session:
        yield session


@pytest.fixture(autouse=True)
def _own_cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What a test's commands cache (the quick `sunset status` settings) stays in its own folder."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


_LOCAL_HOSTS = {"127.0.0.1", "::1", "localhost", "", None}


@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reaches the network: name lookups and connections beyond loopback fail loudly."""
    real_connect, real_getaddrinfo = socket.socket.connect, socket.getaddrinfo

    def connect(self: socket.socket, address: Any) -> Any:
        host = address[0] if isinstance(address, tuple) else None
        if self.family in (socket.AF_INET, socket.AF_INET6) and host not in _LOCAL_HOSTS:
            raise OSError(f"test tried to reach the network: {address!r}")
        return real_connect(self, address)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else host
        if name not in _LOCAL_HOSTS and not str(name).startswith("127."):
            raise socket.gaierror(socket.EAI_NONAME, f"test tried to resolve {host!r}")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test reads the developer's config, data directory or secrets."""
    for name in ("SUNSET_CONFIG", "SUNSET_DATABASE_URL", "DISCORD_TOKEN", "HF_TOKEN", "DISCORD_API_BASE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.chdir(tmp_path)


@pytest.fixture(autouse=True)
def _no_database_work_on_the_loop() -> Iterator[None]:
    """The bot's event-loop code (whatever `sunset run` starts) never opens a session on the loop's thread."""
    from bot.runtime import gateway

    gateway.forbid_sessions_on_loop()
    before = len(gateway.violations)
    yield
    found = gateway.violations[before:]
    del gateway.violations[before:]
    assert not found, f"database work on the event loop's thread ({len(found)} checkouts): use the gateway"
