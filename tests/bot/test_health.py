"""`sunset run`'s GET /healthz over real HTTP on loopback: 200 with the facts when healthy, 503 with the reason."""

import asyncio
import io
import socket
from typing import Any

import aiohttp
import pytest
from rich.console import Console

from bot.runtime.app import App, open_app
from bot.runtime.config import ConfigError, load_settings
from bot.runtime.health import start_health
from bot.runtime.runner import run
from db.engine import make_engine
from db.migrate import upgrade
from db.revisions import script_heads
from tests.bot.discord.standin import StandIn
from tests.helpers import write_config


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def config_with_health(tmp_path, database_url, port):
    config = write_config(tmp_path, database_url)
    config.write_text(config.read_text() + f'\n[health]\nhost = "127.0.0.1"\nport = {port}\n')
    return config


async def get_health(port: int) -> tuple[int, dict[str, Any]]:
    async with aiohttp.ClientSession() as client, client.get(f"http://127.0.0.1:{port}/healthz") as response:
        return response.status, await response.json()


async def health_once(tmp_path, url: str, port: int, *, prepare=lambda engine: None) -> tuple[int, dict[str, Any]]:
    """Start the endpoint alone on `url` (after `prepare(engine)`), ask it once, stop it."""
    settings = load_settings(config_with_health(tmp_path, url, port), env={})
    engine, stop = make_engine(url), asyncio.Event()
    prepare(engine)
    try:
        await start_health(App(settings=settings, engine=engine), stop, say=lambda _: None)
        return await get_health(port)
    finally:
        stop.set()
        engine.dispose()


async def wait_for_health(port: int, *, until=lambda status, body: True) -> tuple[int, dict[str, Any]]:
    """Ask until the endpoint answers as `until` wants (it starts with `sunset run`): bounded."""
    for _ in range(600):
        try:
            status, body = await get_health(port)
        except aiohttp.ClientConnectionError:
            await asyncio.sleep(0.05)
            continue
        if until(status, body):
            return status, body
        await asyncio.sleep(0.05)
    raise AssertionError("the health endpoint never answered as expected")


async def test_console_mode_answers_200_with_database_revision_tracking_and_backlog(tmp_path, database_url):
    port = free_port()
    settings = load_settings(config_with_health(tmp_path, database_url, port), env={})
    output, stop = io.StringIO(), asyncio.Event()
    with open_app(settings) as app:
        task = asyncio.create_task(run(app, Console(file=output, width=200), stop, delivery_interval=0.05))
        status, body = await wait_for_health(port)
        stop.set()
        await asyncio.wait_for(task, 30)
    assert status == 200, body
    assert body["status"] == "ok" and body["discord"] == "console"
    assert body["database"] == {
        "reachable": True, "revision": ",".join(sorted(script_heads() or ())), "schema_current": True, "error": None
    }  # fmt: skip
    assert isinstance(body["deliveries"]["backlog"], int)
    assert set(body["tracking"]) == {"last_poll_at", "sources", "failing_sources"}
    assert f"Health: http://127.0.0.1:{port}/healthz" in output.getvalue()
    with pytest.raises(aiohttp.ClientConnectionError):  # stopped with the bot
        await get_health(port)


async def test_no_port_configured_means_no_endpoint(tmp_path, database_url):
    settings = load_settings(write_config(tmp_path, database_url), env={})
    with open_app(settings, load_catalog=False) as app:
        assert await start_health(app, asyncio.Event(), say=print) is None


async def test_a_database_that_does_not_answer_is_503_with_the_reason(tmp_path):
    port = free_port()
    unreachable = "postgresql+psycopg://sunset@127.0.0.1:1/sunset?connect_timeout=2"  # nothing listens on port 1
    status, body = await health_once(tmp_path, unreachable, port)
    assert status == 503 and body["status"] == "failing"
    assert body["database"]["reachable"] is False and body["database"]["error"]
    assert body["deliveries"]["backlog"] is None and body["tracking"]["last_poll_at"] is None


async def test_a_database_behind_the_newest_migration_is_503(tmp_path, database_url):
    port = free_port()
    status, body = await health_once(tmp_path, database_url, port, prepare=lambda engine: upgrade(engine, "0001"))
    assert status == 503
    assert body["database"]["reachable"] is True and body["database"]["revision"] == "0001"
    assert body["database"]["schema_current"] is False


async def test_a_port_already_taken_is_one_configuration_line(tmp_path, database_url):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        settings = load_settings(config_with_health(tmp_path, database_url, port), env={})
        with open_app(settings, load_catalog=False) as app, pytest.raises(ConfigError, match=f"127.0.0.1:{port}"):
            await start_health(app, asyncio.Event(), say=lambda _: None)


async def test_with_a_token_it_is_503_until_discord_is_connected_then_200(tmp_path, database_url, restore_discord_urls):
    port = free_port()
    standin = StandIn()
    standin.unavailable = 1_000_000  # every login meets a 503 until the test lets it through
    await standin.start()
    env = {"DISCORD_TOKEN": "test-token", "DISCORD_API_BASE": standin.base}
    settings = load_settings(config_with_health(tmp_path, database_url, port), env=env)
    output, stop = io.StringIO(), asyncio.Event()
    try:
        with open_app(settings) as app:
            task = asyncio.create_task(
                run(app, Console(file=output, width=200), stop, delivery_interval=0.05, discord_backoff=(0.05,))
            )
            before = await wait_for_health(port)
            standin.unavailable = 0
            after = await wait_for_health(port, until=lambda status, body: body["discord"] == "connected")
            stop.set()
            await asyncio.wait_for(task, 30)
    finally:
        await standin.stop()
    assert before[0] == 503 and before[1]["discord"] == "connecting" and before[1]["database"]["reachable"]
    assert after[0] == 200 and after[1]["status"] == "ok"


def test_sunset_health_port_in_the_environment_sets_the_port_as_sunset_database_url_does(tmp_path, database_url):
    config = write_config(tmp_path, database_url)
    assert load_settings(config, env={}).health.port == 0  # off unless configured
    settings = load_settings(config, env={"SUNSET_HEALTH_PORT": "8081"})
    assert settings.health.port == 8081 and settings.health.host == "127.0.0.1"
    with pytest.raises(ConfigError, match=r"health\.port"):
        load_settings(config, env={"SUNSET_HEALTH_PORT": "eighty"})
