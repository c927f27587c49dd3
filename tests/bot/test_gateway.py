"""The async gateway: database work in its own bounded threads, commits on write, and a guard for the loop."""

import asyncio
import threading

import pytest
from sqlmodel import Session

from bot.runtime import gateway as gateway_module
from bot.runtime.gateway import Gateway, SessionOnLoopError, forbid_sessions_on_loop, loop_code
from db.models import Meta


@pytest.fixture
def gateway(engine):
    gateway = Gateway(lambda: Session(engine, expire_on_commit=False), readers=2)
    yield gateway
    gateway.close()


def put(session: Session, *, key: str, value: str) -> str:
    session.add(Meta(key=key, value=value))
    return threading.current_thread().name


def get(session: Session, *, key: str) -> str | None:
    row = session.get(Meta, key)
    return row.value if row else None


def put_then_fail(session: Session, *, key: str) -> None:
    session.add(Meta(key=key, value="half"))
    session.flush()
    raise ValueError("refused")


async def test_writes_commit_in_the_writer_thread_and_reads_run_in_reader_threads(gateway):
    assert (await gateway.write(put, key="k", value="v")).startswith("db-write")
    assert await gateway.read(get, key="k") == "v"
    names = await asyncio.gather(*(gateway.read(lambda s: threading.current_thread().name) for _ in range(8)))
    assert {name.rsplit("_", 1)[0] for name in names} == {"db-read"} and len(set(names)) <= 2


async def test_a_write_that_raises_is_rolled_back(gateway):
    with pytest.raises(ValueError, match="refused"):
        await gateway.write(put_then_fail, key="gone")
    assert await gateway.read(get, key="gone") is None


async def test_a_session_opened_on_the_loop_by_loop_code_is_refused_and_remembered(engine, gateway):
    forbid_sessions_on_loop()
    before = len(gateway_module.violations)
    with loop_code():
        assert await gateway.read(get, key="nothing") is None  # through the gateway: fine
        with Session(engine) as session, pytest.raises(SessionOnLoopError):
            get(session, key="nothing")  # on the loop's own thread: refused
    assert len(gateway_module.violations) == before + 1
    del gateway_module.violations[before:]  # this test's deliberate violation, not a bug to report
    with Session(engine) as session:  # test code outside loop_code() may still set up data directly
        assert get(session, key="nothing") is None


async def test_sunset_run_refuses_a_session_opened_on_the_loop(tmp_path, database_url, monkeypatch):
    """A regression that queries on the loop inside `sunset run` fails at once instead of freezing the bot."""
    import io

    from rich.console import Console

    from bot.runtime import runner
    from bot.runtime.app import open_app
    from bot.runtime.config import load_settings
    from tests.helpers import write_config

    refused: list[BaseException] = []

    async def deliver_on_the_loop(app, notifier):
        try:
            with app.session() as session:
                get(session, key="anything")
        except SessionOnLoopError as error:
            refused.append(error)
        return 0

    monkeypatch.setattr(runner, "deliver_console", deliver_on_the_loop)
    before = len(gateway_module.violations)
    stop = asyncio.Event()
    stop.set()
    with open_app(load_settings(write_config(tmp_path, database_url), env={})) as app:
        await runner.run(app, Console(file=io.StringIO()), stop)
    assert len(refused) == 1 and len(gateway_module.violations) == before + 1
    del gateway_module.violations[before:]  # the deliberate one
