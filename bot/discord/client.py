"""The Discord bot: the client, its extensions (discovered), command sync, and the delivery and digest workers.

`start_discord` is called by `sunset run` when DISCORD_TOKEN is set; it logs in, syncs the slash
commands, connects to the gateway and starts the outbox worker. No privileged intents are used:
everything is slash commands, components and channel posts.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import json
import logging
import pkgutil
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import discord
import yarl
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from discord.ext import commands
from sqlmodel import Session

from bot.discord import exts
from bot.discord.errors import on_app_command_error
from bot.discord.notifier import DiscordNotifier
from bot.discord.text import CHOICE_NAME_MAX, CHOICES_MAX, truncate
from bot.discord.views import PledgeButton
from bot.outbox.delivery import deliver_lanes, pending
from bot.runtime.app import App, DiscordLoginError
from bot.services.digest import queue_due_digests, queue_pause_notices
from bot.services.queries import Choice, NameIndex, guild_policy, lab_choices, load_name_index, search_names
from bot.store import meta
from db.models import utcnow
from trackers.names import normalise_name, suggest
from trackers.sunset import Policy

log = logging.getLogger(__name__)


DISCORD_TARGETS = ("channel:", "user:")
NAME_INDEX_TTL_SECONDS = 300
DELIVERY_WORKERS = 4
DELIVERY_BATCH = 500
COMMAND_RESYNC = timedelta(days=1)  # unchanged commands are synced again after this long


def _recently_synced(session: Session, *, key: str, digest: str) -> dict[str, int] | None:
    """The synced commands' ids when these definitions were synced within a day (else None: sync again)."""
    value = meta.get(session, key=key)
    if value is None:
        return None
    stored = json.loads(value)
    fresh = stored["digest"] == digest and utcnow() - datetime.fromisoformat(stored["at"]) < COMMAND_RESYNC
    # A row from before the ids were kept syncs once more, so mentions can be clickable.
    return {name: int(ident) for name, ident in stored["ids"].items()} if fresh and "ids" in stored else None


def _remember_sync(session: Session, *, key: str, digest: str, ids: dict[str, int]) -> None:
    meta.put(session, key=key, value=json.dumps({"digest": digest, "at": utcnow().isoformat(), "ids": ids}))


def apply_api_base(base: str | None) -> None:
    """Point discord.py at another API (a testing and self-hosting hook); None leaves Discord's defaults alone.

    `base` is like `http://127.0.0.1:PORT/api/v10`: REST goes there, and the gateway is the same host with
    the ws/wss scheme and path `/` (a plain client never asks `/gateway/bot`, so both must be set).
    """
    if not base:
        return
    url = yarl.URL(base.rstrip("/"))
    if url.scheme not in {"http", "https"} or not url.host:
        raise ValueError(f"DISCORD_API_BASE must be an http(s) URL, got {base!r}")
    discord.http.Route.BASE = str(url)
    gateway = url.with_scheme("wss" if url.scheme == "https" else "ws").with_path("/")
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = gateway


def discover_extensions() -> list[str]:
    """Every module in `bot.discord.exts`: one feature group each, found rather than listed."""
    return sorted(f"{exts.__name__}.{module.name}" for module in pkgutil.iter_modules(exts.__path__))


class SunsetBot(commands.Bot):
    """The bot: slash commands only, mentions disabled for every message it sends."""

    def __init__(self, app: App, **options: Any) -> None:
        intents = discord.Intents.none()
        intents.guilds = True  # not privileged: channel and server names for the cache
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents,
            help_command=None,
            allowed_mentions=discord.AllowedMentions.none(),
            # Our commands do not wait on guild streaming; READY is enough.
            guild_ready_timeout=0.5,
            **options,
        )
        self.app = app
        self.gateway = app.gateway  # every database call of the extensions goes through it
        self.command_ids: dict[str, int] = {}  # top-level command → id, for clickable mentions
        self._names: NameIndex | None = None
        self._names_built = 0.0
        self._names_refresh: asyncio.Task[None] | None = None

    async def setup_hook(self) -> None:
        """Load every extension, install the error handler and the pledge button, sync commands."""
        self.tree.error(on_app_command_error)
        for name in discover_extensions():
            await self.load_extension(name)
        self.add_dynamic_items(PledgeButton)
        await self._refresh_names()
        await self.sync_commands()

    async def sync_commands(self) -> None:
        """Sync globally, or to the configured development servers (instant) when `[discord] guild_ids` is set.

        A scope whose command definitions are the ones synced there within the last day is skipped (a
        digest per application and scope in the `meta` table): restarts cost no API call, and a change
        of commands, or a day passing, syncs again (which also heals commands removed by hand).
        """
        guild_ids = self.app.settings.discord.guild_ids
        scopes: list[discord.Object | None] = [discord.Object(id=guild_id) for guild_id in guild_ids] or [None]
        for guild in scopes:
            if guild is not None:
                self.tree.copy_global_to(guild=guild)
            scope = str(guild.id) if guild is not None else "global"
            definitions = [command.to_dict(self.tree) for command in self.tree.get_commands(guild=guild)]
            digest = hashlib.sha256(json.dumps(definitions, sort_keys=True).encode()).hexdigest()
            key = f"discord_commands:{self.application_id}:{scope}"
            known = await self.gateway.read(_recently_synced, key=key, digest=digest)
            if known is not None:
                self.command_ids.update(known)
                log.info("discord commands unchanged scope=%s: not synced", scope)
                continue
            synced = await self.tree.sync(guild=guild)
            ids = {command.name: command.id for command in synced}
            self.command_ids.update(ids)
            await self.gateway.write(_remember_sync, key=key, digest=digest, ids=ids)
            log.info("discord commands synced scope=%s count=%d", scope, len(synced))

    def mention(self, path: str) -> str:
        """A clickable command mention ('</model status:123>'), or '/model status' while its id is unknown."""
        ident = self.command_ids.get(path.split()[0])
        return f"</{path}:{ident}>" if ident else f"/{path}"

    async def on_ready(self) -> None:
        """Log who we are once connected."""
        log.info("discord connected as %s to %d servers", self.user, len(self.guilds))

    # ── services for the extensions ──────────────────────────────────────────────────────────────

    def today(self) -> date:
        """Today, from the app's clock."""
        return self.app.today()

    async def policy(self, guild_id: int | None) -> Policy:
        """The sunset policy for a server: the global one with its overrides."""
        return await self.gateway.read(guild_policy, guild_id, self.app.settings.sunset)

    async def model_choices(self, current: str) -> list[discord.app_commands.Choice[str]]:
        """Autocomplete: up to 25 models for what has been typed, from the in-memory name index (searched in a
        reader thread, which reads the names of the models found)."""
        if self._names is None or time.monotonic() - self._names_built > NAME_INDEX_TTL_SECONDS:
            if self._names is None:
                await self._refresh_names()
            elif self._names_refresh is None or self._names_refresh.done():
                self._names_refresh = asyncio.create_task(self._refresh_names())
        assert self._names is not None
        return [
            discord.app_commands.Choice(name=truncate(choice.name, CHOICE_NAME_MAX), value=choice.value[:100])
            for choice in await self.gateway.read(search_names, self._names, current, CHOICES_MAX)
        ]

    async def model_search(self, query: str, limit: int) -> list[Choice]:
        """Models matching a query (prefix first, then fuzzy), from the name index."""
        if self._names is None:
            await self._refresh_names()
        assert self._names is not None
        return await self.gateway.read(search_names, self._names, query, limit)

    async def lab_choices(self, current: str) -> list[discord.app_commands.Choice[str]]:
        """Autocomplete for labs: names containing what was typed, else the closest by fuzzy match."""
        labs = await self.gateway.read(lab_choices)
        key = normalise_name(current)
        hits = [(slug, name) for slug, name in labs if key in normalise_name(name) or key in normalise_name(slug)]
        if not hits:
            wanted = suggest(current, labs, limit=CHOICES_MAX)
            hits = [(slug, name) for slug, name in labs if slug in wanted]
        return [
            discord.app_commands.Choice(name=truncate(name, CHOICE_NAME_MAX), value=slug[:100])
            for slug, name in hits[:CHOICES_MAX]
        ]

    async def _refresh_names(self) -> None:
        self._names = await self.gateway.read(load_name_index, texts=False)  # names read for the few answered
        self._names_built = time.monotonic()
        log.debug("name index rebuilt models=%d", len(self._names))


class ShardedSunsetBot(SunsetBot, commands.AutoShardedBot):
    """The same bot over several gateway connections (discord.py's AutoShardedClient), one per shard."""


GATEWAY_BOT_SHARDS_UNKNOWN = 1


async def recommended_shards(token: str) -> int:
    """How many shards Discord recommends for this bot (`GET /gateway/bot`): one per ~1,000 servers.

    A refused token raises discord.LoginFailure; a gateway answer we cannot read counts as one shard.
    """
    http = discord.http.HTTPClient(asyncio.get_running_loop())
    try:
        await http.static_login(token)
        shards, _, _ = await http.get_bot_gateway()
        return max(1, int(shards))
    except discord.GatewayNotFound:
        log.warning("discord /gateway/bot did not answer: connecting without shards")
        return GATEWAY_BOT_SHARDS_UNKNOWN
    finally:
        await http.close()


async def make_bot(app: App, token: str) -> SunsetBot:
    """The client `[discord] shards` asks for: sharded when set ("auto" or N), or when Discord recommends more
    than one shard (Discord requires sharding from 2,500 servers); else one connection."""
    setting = app.settings.discord.shards
    if setting is None:
        recommended = await recommended_shards(token)
        if recommended == 1:
            return SunsetBot(app)
        log.info("discord recommends %d shards: connecting sharded", recommended)
        return ShardedSunsetBot(app, shard_count=recommended)
    return ShardedSunsetBot(app, shard_count=None if setting == "auto" else setting)


# ── the outbox worker ────────────────────────────────────────────────────────────────────────────


async def deliver_discord(app: App, notifier: DiscordNotifier, *, workers: int = DELIVERY_WORKERS) -> int:
    """Send every pending channel and DM delivery; targets are split among workers so each keeps its order.

    The batch is read in a gateway worker, each message sent on the loop, its outcome recorded in a worker.
    """
    sent = 0
    while True:
        due = await app.gateway.read(pending, limit=DELIVERY_BATCH)
        batch = [outgoing for outgoing in due if outgoing.target.startswith(DISCORD_TARGETS)]
        if not batch:
            break
        lanes: list[list[Any]] = [[] for _ in range(workers)]
        for outgoing in batch:
            lanes[hash(outgoing.target) % workers].append(outgoing)
        done = await deliver_lanes(app.gateway, lanes, notifier)
        sent += done
        await app.gateway.write(queue_pause_notices, app.today())
        if done == 0:
            break  # everything left failed this round: wait for the next tick instead of spinning
    return sent


@dataclass
class DiscordRuntime:
    """The running Discord side of `sunset run`: the client, its gateway task and the outbox worker."""

    bot: SunsetBot
    notifier: DiscordNotifier
    gateway: asyncio.Task[None]
    worker: asyncio.Task[None]
    wake: asyncio.Event

    async def close(self) -> None:
        """Stop the worker and disconnect."""
        self.worker.cancel()
        await asyncio.gather(self.worker, return_exceptions=True)
        await self.bot.close()
        await asyncio.gather(self.gateway, return_exceptions=True)


LOGIN_BACKOFF_SECONDS = (5.0, 15.0, 30.0, 60.0, 120.0, 300.0)


async def login_with_retry(
    app: App, *, stop: asyncio.Event, say: Callable[[str], None], backoff: Sequence[float] = LOGIN_BACKOFF_SECONDS
) -> SunsetBot | None:
    """Log in (which syncs the commands), retrying with back-off while Discord cannot be reached.

    A refused token raises DiscordLoginError (retrying cannot help); `stop` during a wait gives None.
    Each failed attempt closes its client, so no HTTP session is left open.
    """
    token = app.settings.discord_token
    assert token is not None
    for attempt in itertools.count():
        bot: SunsetBot | None = None
        try:
            bot = await make_bot(app, token.get_secret_value())
            await bot.login(token.get_secret_value())
            return bot
        except discord.LoginFailure:
            if bot is not None:
                await bot.close()
            raise DiscordLoginError(
                "Discord refused DISCORD_TOKEN (401 Unauthorized): copy the bot's token again from "
                "https://discord.com/developers/applications (Bot → Reset Token)"
            ) from None
        except (OSError, TimeoutError, discord.DiscordServerError) as error:
            if bot is not None:
                await bot.close()
            delay = backoff[min(attempt, len(backoff) - 1)]
            reason = str(error).strip().splitlines()[0][:200] if str(error).strip() else type(error).__name__
            say(f"Discord is unreachable ({reason}); retrying in {delay:g} s (attempt {attempt + 1}).")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=delay)
                return None
    raise AssertionError("unreachable")  # pragma: no cover


async def start_discord(
    app: App,
    scheduler: AsyncIOScheduler,
    *,
    delivery_interval: float,
    stop: asyncio.Event,
    say: Callable[[str], None],
    backoff: Sequence[float] | None = None,
    may_deliver: Callable[[], Awaitable[bool]] | None = None,
) -> DiscordRuntime | None:
    """Log in (retrying while Discord is unreachable), connect to the gateway, start the outbox and digest jobs.

    `may_deliver` is asked before each delivery round (the delivery lease: one delivering process at a time).
    """
    apply_api_base(app.settings.discord_api_base)
    bot = await login_with_retry(app, stop=stop, say=say, backoff=backoff or LOGIN_BACKOFF_SECONDS)
    if bot is None:
        return None
    gateway = asyncio.create_task(bot.connect(reconnect=True), name="discord-gateway")
    notifier = DiscordNotifier(bot, board_url=app.settings.site.base_url)
    wake = asyncio.Event()

    async def work() -> None:
        while True:
            try:
                if may_deliver is None or await may_deliver():
                    await deliver_discord(app, notifier)
            except Exception:
                log.exception("discord delivery round failed; retrying next tick")
            wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), timeout=delivery_interval)

    async def digests() -> None:
        if await app.gateway.write(queue_due_digests, utcnow(), app.settings.sunset):
            wake.set()

    worker = asyncio.create_task(work(), name="discord-delivery")
    hourly = CronTrigger(minute=1, timezone=UTC)
    scheduler.add_job(digests, hourly, id="digests", coalesce=True, misfire_grace_time=3600)
    return DiscordRuntime(bot=bot, notifier=notifier, gateway=gateway, worker=worker, wake=wake)
