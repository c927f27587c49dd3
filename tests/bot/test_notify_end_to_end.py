"""`sunset run` with `[[notifications]]` targets: real Apprise against loopback stand-ins for the services.

A catalog edit made while the bot runs reaches each healthy target once (a JSON webhook, Mastodon,
ntfy); a target answering 500 gets it on the retry; one answering 401 is paused and shown by
`sunset notifications`; and no secret from a URL appears in anything the program printed, logged or stored.
"""

import asyncio
import io
import json
import logging
import time
from datetime import date

from rich.console import Console
from sqlmodel import select
from typer.testing import CliRunner

from bot.cli.commands import app as cli
from bot.runtime.app import open_app
from bot.runtime.config import load_settings
from bot.runtime.runner import run
from db.models import Delivery, Meta, Subscription
from tests.helpers import write_config
from tests.trackers.server import LoopbackServer, Route

HOOK_SECRET = "hook-5ecret-Wq7Rt2"
MASTODON_TOKEN = "masto-t0ken-Hy6Pp9"
NTFY_PASSWORD = "ntfy-pa55-Lk3Ms8"
SECRETS = (HOOK_SECRET, MASTODON_TOKEN, NTFY_PASSWORD)
RELICENSED = """
[[models.changes]]
date = "2026-11-28"
kind = "relicensed"
license = { raw = "Apache License 2.0", spdx = "Apache-2.0" }
source = "https://testlab.example/r-apache"
"""


def notifications_config(tmp_path, database_url, port):
    path = write_config(tmp_path, database_url)
    targets = {
        "webhook": "json://127.0.0.1:{port}/ok/${HOOK_SECRET}",
        "flaky": "json://127.0.0.1:{port}/flaky?token=${HOOK_SECRET}",
        "revoked": "json://127.0.0.1:{port}/revoked/${HOOK_SECRET}",
        "mastodon": "mastodon://${MASTODON_TOKEN}@127.0.0.1:{port}",
        "ntfy": "ntfy://sunset:${NTFY_PASSWORD}@127.0.0.1:{port}/sunsets",
    }
    text = path.read_text() + '\n[site]\nbase_url = "https://board.example/"\n'
    for name, url in targets.items():
        text += f'\n[[notifications]]\nname = "{name}"\nurl = "{url.replace("{port}", str(port))}"\nevents = "all"\n'
    path.write_text(text)
    return path


def answers_500_then_200():
    calls = []

    def handler(request):
        calls.append(request.path)
        return Route(b"{}", status=500 if len(calls) == 1 else 200)

    return Route(handler=handler)


async def wait_for(condition, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return time.monotonic()
        await asyncio.sleep(0.05)
    raise AssertionError("timed out waiting")


async def test_an_event_reaches_each_target_once_failures_retry_or_pause_and_no_secret_leaks(
    tmp_path, database_url, caplog
):
    for name in (None, "apprise", "urllib3"):  # everything anyone could log, even where the CLI quiets it
        caplog.set_level(logging.DEBUG, logger=name)
    env = {"HOOK_SECRET": HOOK_SECRET, "MASTODON_TOKEN": MASTODON_TOKEN, "NTFY_PASSWORD": NTFY_PASSWORD}
    with LoopbackServer() as server:
        server.routes[f"/ok/{HOOK_SECRET}"] = Route(b"{}")
        server.routes["/flaky"] = answers_500_then_200()
        server.routes[f"/revoked/{HOOK_SECRET}"] = Route(b'{"error": "token revoked"}', status=401)
        server.routes["/api/v1/statuses"] = Route(b'{"id": "1"}')
        server.routes["/"] = Route(b"{}")  # ntfy posts its topic in the body
        config = notifications_config(tmp_path, database_url, server.port)
        settings = load_settings(config, env=env)
        output, stop = io.StringIO(), asyncio.Event()
        with open_app(settings, today=lambda: date(2026, 11, 28)) as app:
            console = Console(file=output, width=200)
            task = asyncio.create_task(run(app, console, stop, delivery_interval=0.2, change_interval=0.5))
            await wait_for(lambda: "Running." in output.getvalue(), 30)
            assert server.bodies == []  # the first start is history: nothing to announce

            catalog = tmp_path / "catalog" / "testlab.toml"
            catalog.write_text(catalog.read_text() + RELICENSED)
            started = time.monotonic()
            # nothing else to do: the running bot's change scan loads the edited file and announces it

            def got(path):
                return lambda: any(b"Restricted LM" in body for body in server.posted(path))

            arrived = [await wait_for(got(path), 60) for path in (f"/ok/{HOOK_SECRET}", "/api/v1/statuses", "/")]
            await wait_for(lambda: server.hits(f"/revoked/{HOOK_SECRET}") == 1, 60)
            await wait_for(lambda: len(server.posted("/flaky")) == 2, 60)  # 500, then the retry 10 s later
            await asyncio.sleep(1)  # a few more ticks: nothing is sent twice
            stop.set()
            await asyncio.wait_for(task, 30)
        print(f"catalog edit → delivered: {max(arrived) - started:.2f}s")
        assert max(arrived) - started < 60

        assert [len(server.posted(path)) for path in (f"/ok/{HOOK_SECRET}", "/api/v1/statuses", "/")] == [1, 1, 1]
        assert len(server.posted("/flaky")) == 2 and server.hits(f"/revoked/{HOOK_SECRET}") == 1
        toot = json.loads(server.posted("/api/v1/statuses")[0])["status"]
        assert len(toot) <= 500 and toot.endswith("https://board.example/models/restricted/")
        hook = json.loads(server.posted(f"/ok/{HOOK_SECRET}")[0])
        assert hook["title"] == "Openness changed" and "Restricted LM openness changed: L1 → L2" in hook["message"]

    runner = CliRunner()
    listing = runner.invoke(cli, ["--config", str(config), "notifications", "--json"], env=env)
    table = runner.invoke(cli, ["--config", str(config), "notifications"], env={**env, "COLUMNS": "250"})
    subscriptions = runner.invoke(cli, ["--config", str(config), "subscriptions", "--json"], env=env)
    assert listing.exit_code == table.exit_code == subscriptions.exit_code == 0, listing.output
    rows = {row["name"]: row for row in json.loads(listing.stdout)}
    assert rows["revoked"]["status"] == "paused" and "401 Unauthorized" in rows["revoked"]["reason"]
    assert rows["revoked"]["url"] == "json://127.0.0.1/…"
    assert (rows["flaky"]["status"], rows["flaky"]["sent"], rows["flaky"]["failed"]) == ("active", 1, 0)
    assert all(rows[name]["sent"] == 1 for name in ("webhook", "mastodon", "ntfy", "flaky"))
    assert "paused" in table.stdout and "revoked" in table.stdout

    with open_app(settings, load_catalog=False) as app, app.session() as session:
        stored = [row.error or "" for row in session.exec(select(Delivery)).all()]
        stored += [row.pause_reason or "" for row in session.exec(select(Subscription)).all()]
        stored += [row.value for row in session.exec(select(Meta)).all()]
    everything = "\n".join(
        [output.getvalue(), caplog.text, listing.output, table.output, subscriptions.output, *stored]
    )
    assert "JSON POST URL" in caplog.text and "Failed to send JSON" in caplog.text  # the logs were there
    for secret in SECRETS:
        assert secret not in everything
