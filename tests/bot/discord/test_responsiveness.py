"""`/model status` is answered within Discord's deadline while the tracker role polls 200 unresponsive sources."""

import asyncio
import io

import pytest
from rich.console import Console

from bot.runtime.app import open_app
from bot.runtime.config import load_settings
from bot.runtime.runner import run, tracker_command
from tests.bot.discord.standin import StandIn, embed_text
from tests.bot.unresponsive import serve_unresponsive, sources_toml, unresponsive_hits
from tests.helpers import write_config
from tests.trackers.server import LoopbackServer

SOURCES = 200
CALLS = 20
DISCORD_DEADLINE_SECONDS = 3.0


pytestmark = pytest.mark.usefixtures("restore_discord_urls")


async def test_model_status_is_answered_in_time_while_the_tracker_role_polls_200_unresponsive_sources(
    tmp_path, database_url
):
    fake = StandIn(deadline=DISCORD_DEADLINE_SECONDS)  # answers later than Discord allows get 404 10062
    await fake.start()
    with LoopbackServer() as server:
        config = write_config(tmp_path, database_url)
        text = config.read_text().replace("[trackers]\n", "[trackers]\nallow_private_addresses = true\n")
        config.write_text(text + "\n" + sources_toml(serve_unresponsive(server, SOURCES)))
        settings = load_settings(config, env={"DISCORD_TOKEN": "test-token", "DISCORD_API_BASE": fake.base})
        stop = asyncio.Event()
        with open_app(settings) as app:
            task = asyncio.create_task(
                run(app, Console(file=io.StringIO()), stop, tracker=tracker_command(config), delivery_interval=0.05)
            )
            try:
                await asyncio.wait_for(fake.identified.wait(), 60)
                for _ in range(1200):  # until the tracker role's cycle is polling them; bounded
                    if unresponsive_hits(server) >= settings.trackers.concurrency:
                        break
                    await asyncio.sleep(0.05)
                assert unresponsive_hits(server) >= settings.trackers.concurrency
                answers = [await fake.command("model status", name="OldNet") for _ in range(CALLS)]
                answers += await asyncio.gather(*(fake.command("model status", name="OldNet") for _ in range(CALLS)))
                assert unresponsive_hits(server) < SOURCES  # the cycle was still polling throughout
            finally:
                stop.set()
                await asyncio.wait_for(task, 60)
    await fake.stop()
    assert fake.expired == []
    assert all("OldNet" in embed_text(answer) for answer in answers)
