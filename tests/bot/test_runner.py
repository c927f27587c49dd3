"""`sunset run`: the start-up summary, events printed once as they happen, and a clean stop."""

import asyncio
import io
import os
import re
import signal
import subprocess
import sys
import time
from datetime import UTC, date, datetime

import pytest
from rich.console import Console

from bot.runtime.app import open_app
from bot.runtime.config import load_settings
from bot.runtime.runner import run
from bot.runtime.tracking import cycle_summary
from tests.helpers import ONLY_THESE_SOURCES, write_config
from trackers.cycle import CycleReport, SourceReport


async def run_once(settings, day):
    buffer = io.StringIO()
    stop = asyncio.Event()
    stop.set()  # start, summarise, deliver, then stop at once
    with open_app(settings, today=lambda: day) as app:
        await run(app, Console(file=buffer, width=200), stop)
    return buffer.getvalue()


async def test_first_run_summarises_without_a_flood_of_history(tmp_path, database_url):
    settings = load_settings(write_config(tmp_path, database_url), env={})
    output = await run_once(settings, date(2026, 11, 28))
    assert "3 models — 1 overdue, 0 due soon, 1 open, 1 in window" in output
    assert "sunset_passed" not in output  # OldNet passed its sunset in 2022: history, not news
    assert "catalog is not loaded" not in output


async def test_run_asks_the_operator_to_put_a_contact_in_the_user_agent_until_they_do(tmp_path, database_url):
    config = write_config(tmp_path, database_url)
    output = await run_once(load_settings(config, env={}), date(2026, 11, 28))
    assert "Note: [trackers] user_agent is the default: set it to name you" in output
    text = config.read_text().replace("[trackers]\n", '[trackers]\nuser_agent = "Bot/1 (+https://me.example)"\n')
    config.write_text(text)
    assert "user_agent" not in await run_once(load_settings(config, env={}), date(2026, 11, 28))


async def test_console_mode_says_so_and_when_the_next_poll_and_evaluation_are(tmp_path, database_url):
    settings = load_settings(write_config(tmp_path, database_url), env={})
    output = await run_once(settings, date(2026, 11, 28))
    assert "Console mode: DISCORD_TOKEN is not set, so events are printed here" in output
    schedule = next(line for line in output.splitlines() if line.startswith("Schedule:"))
    assert re.search(r"1 sources, each polled when due \(next poll: \d{4}-\d\d-\d\d \d\d:\d\d UTC\)", schedule)
    assert re.search(r"evaluation daily at 00:05 UTC \(next: \d{4}-\d\d-\d\d 00:05 UTC\)", schedule)


async def test_the_banner_never_wraps_on_a_narrow_or_piped_console(tmp_path, database_url):
    buffer, stop = io.StringIO(), asyncio.Event()
    stop.set()
    with open_app(load_settings(write_config(tmp_path, database_url), env={})) as app:
        await run(app, Console(file=buffer, width=80), stop)
    lines = buffer.getvalue().splitlines()
    assert lines[0].startswith("Sunset Clause: 3 models") and lines[0].endswith("weights profile).")
    assert all(not line.startswith("(") for line in lines)


def test_a_cycles_summary_groups_failures_by_cause_commonest_first():
    failing = [
        SourceReport(f"hf-{n}", "huggingface", "error", error="cannot resolve huggingface.co: no") for n in "abcde"
    ]
    report = CycleReport(
        sources=(*failing, SourceReport("news", "rss", "ok", new=1), SourceReport("gh", "github", "not_modified"),
                 SourceReport("feed", "rss", "paused", error="HTTP 404 Not Found")),
        announced=(7,),
    )  # fmt: skip
    summary = cycle_summary(report, datetime(2026, 12, 5, 18, 10, tzinfo=UTC)).splitlines()
    assert summary == [
        "Tracked 8 sources: 1 ok, 1 unchanged, 6 failed; 1 new events. Next poll: 2026-12-05 18:10 UTC.",
        "  5 × cannot resolve huggingface.co: no (hf-a, hf-b, hf-c and 2 more)",
        "  1 × HTTP 404 Not Found (feed)",
    ]


async def test_a_config_without_the_catalog_says_so_at_start(tmp_path, database_url):
    path = tmp_path / "config.toml"
    path.write_text(
        f'[database]\nurl = "{database_url}"\n\n{ONLY_THESE_SOURCES}[[sources]]\nname = "feed"\nkind = "rss"\nurl = "https://x.example/feed"\n'
    )
    output = await run_once(load_settings(path, env={}), date(2026, 11, 28))
    assert "0 models" in output
    assert 'Note: no [[sources]] entry has kind = "catalog", so the bundled catalog is not loaded.' in output


async def test_a_sunset_crossed_later_is_announced_exactly_once(tmp_path, database_url):
    settings = load_settings(write_config(tmp_path, database_url), env={})
    await run_once(settings, date(2033, 7, 10))
    crossing = await run_once(settings, date(2033, 7, 20))  # Restricted LM's sunset is 2033-07-18
    assert crossing.count("Restricted LM passed its 10-year sunset on 2033-07-18") == 1
    again = await run_once(settings, date(2033, 7, 21))
    assert "Restricted LM passed" not in again


def test_the_process_stops_cleanly_on_ctrl_c(tmp_path, database_url):
    config = write_config(tmp_path, database_url)
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "200"}
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "--config", str(config), "run"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    lines = []
    deadline = time.monotonic() + 60
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        lines.append(line)
        if "Running." in line or not line:
            break
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr
    assert any("Sunset Clause: 3 models" in line for line in lines)
    assert "Stopped." in stdout
    assert "Traceback" not in stderr


async def test_a_crash_between_storing_events_and_queueing_deliveries_loses_nothing(
    tmp_path, database_url, monkeypatch
):
    import bot.runtime.runner

    settings = load_settings(write_config(tmp_path, database_url), env={})
    await run_once(settings, date(2033, 7, 10))

    def crash(session, events):
        raise SystemExit("killed between evaluate_all and fan_out")

    monkeypatch.setattr(bot.runtime.runner, "fan_out", crash)
    with open_app(settings, today=lambda: date(2033, 7, 20)) as app, pytest.raises(SystemExit):
        bot.runtime.runner.evaluate_and_fan_out(app)  # Restricted LM's sunset passed: stored, then the process dies
    monkeypatch.undo()
    after = await run_once(settings, date(2033, 7, 20))
    assert after.count("Restricted LM passed its 10-year sunset on 2033-07-18") == 1


async def test_announced_events_left_without_deliveries_are_recovered_at_start(tmp_path, database_url):
    import json

    from db.models import Event, utcnow

    settings = load_settings(write_config(tmp_path, database_url), env={})
    await run_once(settings, date(2033, 7, 10))  # the console's subscription exists from here on
    with open_app(settings) as app, app.session() as session:  # what a crash left under the old two-step design
        session.add(Event(subject="model:oldnet", kind="openness_changed", key="lost", occurred_on=date(2033, 7, 10),
                          payload=json.dumps({"name": "OldNet", "from": "L0", "to": "L2", "change": "opened"}),
                          announce=True, created_at=utcnow()))  # fmt: skip
        session.commit()
    output = await run_once(settings, date(2033, 7, 10))
    assert output.count("OldNet openness changed: L0 → L2") == 1
    again = await run_once(settings, date(2033, 7, 10))
    assert "OldNet openness changed" not in again


async def test_with_a_site_folder_the_board_is_built_at_start_and_follows_the_daily_evaluation(tmp_path, database_url):
    config = write_config(tmp_path, database_url)
    board = tmp_path / "board"
    config.write_text(config.read_text().replace("[[sources]]", f'[site]\noutput_dir = "{board}"\n\n[[sources]]', 1))
    settings = load_settings(config, env={})
    output = await run_once(settings, date(2033, 7, 10))
    assert f"The Sunset Board is in {board}" in output
    page = board / "models/restricted/index.html"
    assert "sunset in 8 days" in page.read_text()
    await run_once(settings, date(2033, 7, 20))  # Restricted LM's sunset is 2033-07-18
    assert "overdue by 2 days" in page.read_text()


async def test_a_change_scan_in_flight_at_stop_finishes_before_run_returns(tmp_path, database_url, monkeypatch):
    """A bulk job still writing when the app closes its database would outlive it (and, on a shared PostgreSQL,
    deadlock the next user's schema change): `run` returns only after it."""
    import bot.runtime.runner as runner

    begun, finished = [], []
    real = runner.announce_changes

    def slow_scan(app):
        begun.append(True)
        time.sleep(0.5)  # a long transaction in the bulk thread while the stop comes
        finished.append(real(app))
        return finished[-1]

    monkeypatch.setattr(runner, "announce_changes", slow_scan)
    stop = asyncio.Event()
    with open_app(load_settings(write_config(tmp_path, database_url), env={})) as app:
        task = asyncio.create_task(run(app, Console(file=io.StringIO(), width=200), stop, change_interval=0.05))
        for _ in range(600):
            if len(begun) >= 2:  # the start-up's scan, then a scheduled one is under way
                break
            await asyncio.sleep(0.05)  # bounded
        stop.set()
        await asyncio.wait_for(task, 30)
        assert len(begun) >= 2 and len(finished) == len(begun)  # every scan begun had finished


def test_a_closed_output_pipe_stops_the_process_and_its_tracker_child(tmp_path, database_url):
    """`sunset run | head -3`: once the reader has gone, the process stops (exit 1, Rich's closed-pipe code)
    instead of hanging, and takes its tracker child with it."""
    config = write_config(tmp_path, database_url)
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "200"}
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "-v", "--config", str(config), "run"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(3)]
        assert lines[0].startswith("Sunset Clause: 3 models") and lines[2].startswith("Console mode"), lines
        process.stdout.close()  # the reader goes, as `head -3` does, while the tracker child starts
        _, stderr = process.communicate(timeout=60)
    finally:
        process.kill()
        process.wait()
    assert process.returncode == 1, stderr
    assert "Traceback" not in stderr
    child = re.search(r"tracker role started pid=(\d+)", stderr)
    assert child is not None, stderr
    with pytest.raises(ProcessLookupError):
        os.kill(int(child.group(1)), 0)
