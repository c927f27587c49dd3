"""`sunset run` as two roles: the tracker role in a supervised child process, or each role on its own."""

import asyncio
import io
import logging
import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest
from rich.console import Console
from sqlmodel import select

from bot.runtime.app import open_app
from bot.runtime.config import load_settings
from bot.runtime.runner import TrackerProcess, run, tracker_command
from db.models import Source
from tests.helpers import write_config
from tests.trackers.conftest import fixture
from tests.trackers.server import LoopbackServer, Route

FEEDS = 5


@pytest.fixture
def served():
    with LoopbackServer() as server:
        for number in range(FEEDS):
            server.routes[f"/news-{number}.rss"] = Route(fixture("feeds/testlab_news.rss"))
        yield server


def config_with_feeds(tmp_path: Path, database_url: str, server: LoopbackServer) -> Path:
    """The small catalog plus FEEDS loopback RSS feeds."""
    config = write_config(tmp_path, database_url)
    feeds = "".join(
        f'[[sources]]\nname = "news-{n}"\nkind = "rss"\nlab = "testlab"\nurl = "{server.url(f"/news-{n}.rss")}"\n\n'
        for n in range(FEEDS)
    )
    text = config.read_text().replace("[trackers]\n", "[trackers]\nallow_private_addresses = true\n")
    config.write_text(text + "\n" + feeds)
    return config


def children(pid: int) -> list[int]:
    """The process ids of a process's children (Linux /proc)."""
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in path.read_text().split()] if path.exists() else []


def alive(pid: int) -> bool:
    """Whether a process exists and is not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def wait_for(predicate, within: float = 60.0) -> None:
    """Poll a condition another process makes true; bounded."""
    deadline = time.monotonic() + within
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.05)


def polled_sources(database_url: str) -> dict[str, str]:
    settings = load_settings(None, env={"SUNSET_DATABASE_URL": database_url})
    with open_app(settings, load_catalog=False) as app, app.session() as session:
        return {row.name: row.status for row in session.exec(select(Source)).all()}


def start_sunset_run(config: Path, *extra: str) -> subprocess.Popen[str]:
    """`sunset run` in a process group of its own, as a shell starts it in a terminal."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "200"}
    command = [sys.executable, "-m", "bot", "--config", str(config), "run", *extra]
    return subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, start_new_session=True
    )


def read_until(process: subprocess.Popen[str], marker: str, within: float = 60.0) -> list[str]:
    assert process.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        lines.append(line)
        if marker in line or not line:
            break
    assert any(marker in line for line in lines), lines
    return lines


def test_sunset_run_polls_in_a_child_process_and_sigterm_stops_both_with_every_poll_kept(
    tmp_path, database_url, served
):
    config = config_with_feeds(tmp_path, database_url, served)
    process = start_sunset_run(config)
    try:
        lines = read_until(process, "Running.")
        assert any("by the tracker process" in line for line in lines)
        wait_for(lambda: len(children(process.pid)) == 1)
        (tracker,) = children(process.pid)
        # The tracker role (the child) polls every feed and records it, while the bot role shares the database.
        wait_for(lambda: all(served.hits(f"/news-{n}.rss") for n in range(FEEDS)))
        wait_for(lambda: all(polled_sources(database_url).get(f"news-{n}") == "ok" for n in range(FEEDS)))
    finally:
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, stderr
    assert not alive(tracker)
    assert "Tracker role stopped." in stdout and stdout.rstrip().endswith("Stopped.")
    assert "Traceback" not in stderr and "database is locked" not in stderr
    assert sum(line.startswith("Tracked ") for line in stdout.splitlines()) >= 1  # its summary, in the same output


def test_the_tracker_role_stops_by_itself_when_its_supervisor_is_killed(tmp_path, database_url, served):
    process = start_sunset_run(config_with_feeds(tmp_path, database_url, served))
    try:
        read_until(process, "Running.")
        wait_for(lambda: len(children(process.pid)) == 1)
        (tracker,) = children(process.pid)
        process.kill()  # no chance to stop its child: the child notices its pipe close
        process.wait(timeout=30)
        wait_for(lambda: not alive(tracker), within=30)
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=30)


async def test_a_tracker_process_that_dies_is_restarted_with_back_off(tmp_path, database_url, served, caplog):
    config = config_with_feeds(tmp_path, database_url, served)
    child = TrackerProcess(tracker_command(config), backoff=(0.2, 0.5), stable=60.0)
    caplog.set_level(logging.INFO, logger="bot.runtime.runner")
    child.start()
    try:
        first = await asyncio.wait_for(child.wait_started(1), 60)
        os.kill(first, signal.SIGKILL)
        second = await asyncio.wait_for(child.wait_started(2), 60)
        assert second != first and alive(second)
        os.kill(second, signal.SIGKILL)  # dies again at once: the next wait is longer
        third = await asyncio.wait_for(child.wait_started(3), 60)
    finally:
        await asyncio.wait_for(child.stop(), 60)
    assert not alive(third)
    restarts = [r.getMessage() for r in caplog.records if "restarting" in r.getMessage()]
    assert restarts == [f"tracker role exited code=-9; restarting in {delay} s" for delay in ("0.2", "0.5")]


async def test_role_bot_polls_nothing_and_role_tracker_only_polls(tmp_path, database_url, served):
    settings = load_settings(config_with_feeds(tmp_path, database_url, served), env={})
    output, stop = io.StringIO(), asyncio.Event()
    stop.set()  # start, summarise, stop
    with open_app(settings, today=lambda: date(2026, 11, 28)) as app:
        await run(app, Console(file=output, width=200), stop, role="bot")
    assert "sources polled by the tracker role (sunset run --role tracker)" in output.getvalue()
    assert "Sunset Clause: 3 models" in output.getvalue()
    assert not any(served.hits(f"/news-{n}.rss") for n in range(FEEDS))

    output, stop = io.StringIO(), asyncio.Event()
    with open_app(settings, load_catalog=False) as app:
        task = asyncio.create_task(run(app, Console(file=output, width=200), stop, role="tracker"))
        for _ in range(1200):  # until the first cycle has polled every feed; bounded
            if all(served.hits(f"/news-{n}.rss") for n in range(FEEDS)) and "Tracked " in output.getvalue():
                break
            await asyncio.sleep(0.05)
        stop.set()
        await asyncio.wait_for(task, 30)
    text = output.getvalue()
    assert (
        "Tracker role (pid" in text
        and "Tracked 6 sources: 5 ok, 1 unchanged" in text
        and "Tracker role stopped." in text
    )
    assert "Sunset Clause:" not in text  # no evaluation, no delivery, no summary of the record


def test_an_unknown_role_is_one_line_and_exit_2(tmp_path, database_url):
    from typer.testing import CliRunner

    from bot.cli.commands import app

    result = CliRunner().invoke(app, ["--config", str(write_config(tmp_path, database_url)), "run", "--role", "both"])
    assert result.exit_code == 2
    assert result.stderr == "error: --role must be one of all, bot, tracker (got 'both')\n"


def test_ctrl_c_in_the_terminal_stops_the_tracker_through_the_bot_without_a_restart(tmp_path, database_url, served):
    process = start_sunset_run(config_with_feeds(tmp_path, database_url, served))
    try:
        read_until(process, "Running.")
        wait_for(lambda: len(children(process.pid)) == 1)
        (tracker,) = children(process.pid)
        wait_for(lambda: all(served.hits(f"/news-{n}.rss") for n in range(FEEDS)))
    finally:
        os.killpg(process.pid, signal.SIGINT)  # what the terminal does on Ctrl-C: the whole foreground group
        stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, stderr
    assert not alive(tracker)
    assert "Tracker role stopped." in stdout and stdout.rstrip().endswith("Stopped.")
    assert "restarting" not in stderr and "Traceback" not in stderr
