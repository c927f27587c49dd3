"""The Discord client sharded (discord.py's AutoShardedClient) when configured or when Discord recommends it, and
a reply Discord refuses logged in one line — the unmodified client against the loopback stand-in."""

import asyncio
import io
import logging
from contextlib import asynccontextmanager

import pytest
from rich.console import Console

from bot.discord.client import ShardedSunsetBot, SunsetBot
from bot.runtime.app import open_app
from bot.runtime.config import load_settings
from bot.runtime.runner import run
from tests.bot.discord.standin import ADMIN_ID, GUILD_ID, StandIn, embed_text
from tests.helpers import write_config

pytestmark = pytest.mark.usefixtures("restore_discord_urls")


@asynccontextmanager
async def bot_running(tmp_path, database_url, fake, discord_section=""):
    """`sunset run`'s bot role against the stand-in until the block ends; yields the client."""
    config = write_config(tmp_path, database_url)
    if discord_section:
        config.write_text(config.read_text().replace("[[sources]]", f"[discord]\n{discord_section}\n\n[[sources]]", 1))
    settings = load_settings(config, env={"DISCORD_TOKEN": "test-token", "DISCORD_API_BASE": fake.base})
    stop = asyncio.Event()
    clients: list[SunsetBot] = []
    original = SunsetBot.setup_hook

    async def remember(self):
        clients.append(self)
        await original(self)

    SunsetBot.setup_hook = remember  # type: ignore[method-assign]
    try:
        with open_app(settings) as app:
            task = asyncio.create_task(run(app, Console(file=io.StringIO()), stop, delivery_interval=0.05))
            await asyncio.wait_for(fake.identified.wait(), 60)
            try:
                yield clients[-1]
            finally:
                stop.set()
                await asyncio.wait_for(task, 30)
    finally:
        SunsetBot.setup_hook = original  # type: ignore[method-assign]


@pytest.fixture
async def fake():
    standin = StandIn()
    await standin.start()
    yield standin
    await standin.stop()


async def test_one_connection_while_discord_recommends_one_shard(tmp_path, database_url, fake):
    async with bot_running(tmp_path, database_url, fake) as bot:
        assert type(bot) is SunsetBot
        assert fake.identifies == [(0, 1)]
        assert "OldNet" in embed_text(await fake.command("model status", name="OldNet"))


async def test_configured_shards_connect_one_gateway_per_shard_and_answer_from_the_servers_shard(
    tmp_path, database_url, fake
):
    async with bot_running(tmp_path, database_url, fake, "shards = 2") as bot:
        assert isinstance(bot, ShardedSunsetBot) and bot.shard_count == 2
        assert sorted(fake.identifies) == [(0, 2), (1, 2)]
        await fake.wait_until(lambda: bot.get_guild(GUILD_ID) is not None)
        guild = bot.get_guild(GUILD_ID)
        assert guild is not None and guild.shard_id == (GUILD_ID >> 22) % 2
        assert "OldNet" in embed_text(await fake.command("model status", name="OldNet"))


async def test_shards_follow_discords_recommendation_when_the_server_count_requires_it(tmp_path, database_url, fake):
    fake.recommended_shards = 2  # what /gateway/bot says from 1,000 servers on; required from 2,500
    async with bot_running(tmp_path, database_url, fake) as bot:
        assert isinstance(bot, ShardedSunsetBot) and bot.shard_count == 2
        assert sorted(fake.identifies) == [(0, 2), (1, 2)]
        assert "OldNet" in embed_text(await fake.command("model status", name="OldNet"))


async def test_shards_auto_asks_discord_how_many(tmp_path, database_url, fake):
    async with bot_running(tmp_path, database_url, fake, 'shards = "auto"') as bot:
        assert isinstance(bot, ShardedSunsetBot) and bot.shard_count == 1
        assert fake.identifies == [(0, 1)]


async def test_an_answer_after_discords_deadline_is_one_log_line_not_a_traceback(tmp_path, database_url, fake, caplog):
    fake.deadline = 0.0  # every answer arrives too late: Discord says 404 Unknown interaction (10062)
    caplog.set_level(logging.INFO)
    async with bot_running(tmp_path, database_url, fake):
        answer = await fake.send_interaction(fake.interaction(2, fake.command_data(["about"], {})))
        assert answer == {"type": None, "expired": True}
        await fake.wait_until(lambda: any("reply failed" in r.getMessage() for r in caplog.records))
    failures = [record for record in caplog.records if record.name.startswith(("bot", "discord"))]
    lines = [r.getMessage() for r in failures if r.levelno >= logging.WARNING]
    assert lines == [f"reply failed: command=about user={ADMIN_ID} status=404 code=10062 Unknown interaction"]
    assert all(record.exc_info is None for record in failures if record.levelno >= logging.WARNING)
