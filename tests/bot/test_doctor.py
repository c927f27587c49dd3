"""`sunset doctor`: the database, each source host and Discord, checked against real loopback servers."""

import json
import socket

import pytest
from typer.testing import CliRunner

from bot.cli.commands import app
from bot.cli.doctor import run_checks
from bot.runtime.config import load_settings
from bot.runtime.tracking import source_specs
from tests.bot.discord.standin import StandIn
from tests.helpers import ONLY_THESE_SOURCES, write_catalog
from tests.trackers.server import LoopbackServer


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port  # nothing listens once the socket is closed


@pytest.fixture
def config(tmp_path, database_url):
    def write(feed_url: str) -> object:
        path = tmp_path / "config.toml"
        path.write_text(
            f'[database]\nurl = "{database_url}"\n\n{ONLY_THESE_SOURCES}'
            f'[[sources]]\nname = "catalog"\nkind = "catalog"\npath = "{write_catalog(tmp_path / "catalog")}"\n\n'
            f'[[sources]]\nname = "feed"\nkind = "rss"\nurl = "{feed_url}"\n'
        )
        return path

    return write


async def test_doctor_reports_each_part_ok_against_servers_that_answer(config):
    standin = StandIn()
    await standin.start()
    try:
        with LoopbackServer() as server:
            env = {"DISCORD_TOKEN": "test-token", "DISCORD_API_BASE": standin.base}
            settings = load_settings(config(server.url("/feed.rss")), env=env)
            checks = {check.name.split(" (")[0]: check for check in await run_checks(settings, source_specs(settings))}
            assert server.requests == []  # a TCP connection only: no source is polled out of turn
    finally:
        await standin.stop()
    assert checks["database"].status in {"ok", "warn"}
    assert (checks["source host 127.0.0.1"].status, checks["source host 127.0.0.1"].detail) == ("ok", "reachable")
    assert (checks["discord"].status, checks["discord"].detail) == ("ok", "logged in as Sunset Clause")
    assert checks["user agent"].status == "warn"


async def test_doctor_names_what_fails_a_refused_token_and_an_unreachable_host(config):
    standin = StandIn()
    await standin.start()
    try:
        env = {"DISCORD_TOKEN": "wrong", "DISCORD_API_BASE": standin.base}
        settings = load_settings(config(f"http://127.0.0.1:{closed_port()}/feed.rss"), env=env)
        checks = {check.name.split(" (")[0]: check for check in await run_checks(settings, source_specs(settings))}
    finally:
        await standin.stop()
    assert checks["source host 127.0.0.1"].status == "fail"
    assert "unreachable" in checks["source host 127.0.0.1"].detail
    assert (checks["discord"].status, checks["discord"].detail) == ("fail", "DISCORD_TOKEN refused (401 Unauthorized)")


def test_doctor_exits_1_on_a_failure_and_skips_discord_in_console_mode(config):
    path = config(f"http://127.0.0.1:{closed_port()}/feed.rss")
    result = CliRunner().invoke(app, ["--config", str(path), "doctor", "--json"], env={"DISCORD_TOKEN": ""})
    assert result.exit_code == 1, result.output
    checks = {check["name"].split(" (")[0]: check for check in json.loads(result.stdout)}
    assert checks["discord"]["status"] == "skip" and checks["source host 127.0.0.1"]["status"] == "fail"
    human = CliRunner().invoke(app, ["--config", str(path), "doctor"], env={"DISCORD_TOKEN": ""})
    assert "fail source host 127.0.0.1 (1 source): unreachable" in human.stdout and "1 failed" in human.stdout
