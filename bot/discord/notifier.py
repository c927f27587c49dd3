"""The Discord notifier for the outbox: one message per delivery, sent with its nonce, never pinging anyone."""

from __future__ import annotations

import asyncio
import io
import logging
import time
from collections.abc import Callable
from datetime import date
from typing import Any

import discord

from bot.discord.embeds import CHART_FILENAME, outgoing_embed, plain_command
from bot.discord.views import model_view
from bot.outbox.delivery import Outgoing, PermanentDeliveryError
from bot.present.chart import release_chart_png
from bot.present.plain_text import model_link
from bot.services.digest import WEEKLY_DIGEST, Digest

log = logging.getLogger(__name__)

# Discord's global limit is 50 requests per second per bot; stay a little under it so 429s stay rare.
GLOBAL_RATE_PER_SECOND = 48.0
HISTORY_LOOKBACK = 50  # messages read back after a crash: the outbox posts a few per target at a time


def reference(outgoing: Outgoing) -> str:
    """The short reference every outbox message carries in its footer, by which a retry finds it again."""
    return f"ref {outgoing.nonce[:12]}"


class Pacer:
    """Spaces calls at least 1/rate seconds apart (a leaky bucket with no burst), shared by every sender."""

    def __init__(self, rate_per_second: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._interval, self._clock, self._next = 1 / rate_per_second, clock, 0.0
        self._lock = asyncio.Lock()

    async def wait(self) -> None:
        """Return when the next call may go."""
        async with self._lock:
            now = self._clock()
            delay = self._next - now
            self._next = max(now, self._next) + self._interval
        if delay > 0:
            await asyncio.sleep(delay)


class DiscordNotifier:
    """Sends outbox messages through a logged-in discord.py client.

    Each message carries the delivery's deterministic nonce with `enforce_nonce`, so a retry after a
    crash returns the message already posted instead of a second one while Discord remembers the nonce
    (minutes); past that, `already_sent` finds it in the channel's recent history by the reference in
    its footer. A target that refuses for good — gone (404), forbidden (403), or any other 4xx but 429 —
    raises PermanentDeliveryError, which pauses the subscription.
    Rate limits: our pacer keeps under the global limit; discord.py honours any 429 it still gets.
    """

    def __init__(
        self, client: discord.Client, *, rate_per_second: float = GLOBAL_RATE_PER_SECOND, board_url: str | None = None
    ) -> None:
        self._client = client
        self._board_url = board_url or None  # `[site] base_url`: alerts link to the model's page there
        self._pacer = Pacer(rate_per_second)
        self._dm_channels: dict[int, int] = {}

    async def _channel(self, target: str) -> discord.abc.Messageable:
        kind, _, ident = target.partition(":")
        if not ident.isdigit() or kind not in {"channel", "user"}:
            raise PermanentDeliveryError(f"not a Discord target: {target}")
        if kind == "channel":
            return self._client.get_partial_messageable(int(ident))
        user_id = int(ident)
        if user_id not in self._dm_channels:
            await self._pacer.wait()
            dm = await self._client.create_dm(discord.Object(id=user_id))
            self._dm_channels[user_id] = dm.id
        return self._client.get_partial_messageable(self._dm_channels[user_id], type=discord.ChannelType.private)

    async def send(self, outgoing: Outgoing) -> str:
        """Post one event (or digest) and return the Discord message id."""
        mention = getattr(self._client, "mention", plain_command)
        embed = outgoing_embed(outgoing, base_url=self._board_url or "", mention=mention)
        kwargs: dict[str, Any] = {"embed": embed}
        if outgoing.kind == WEEKLY_DIGEST:
            digest = Digest.from_payload(outgoing.payload)
            png = await asyncio.to_thread(
                release_chart_png,
                digest.by_year_level,
                window_years=digest.window_years,
                on=date.fromisoformat(digest.on),
            )
            kwargs["file"] = discord.File(io.BytesIO(png), filename=CHART_FILENAME)
        if isinstance(outgoing.payload.get("model"), str) and outgoing.kind != WEEKLY_DIGEST:
            url, slug = outgoing.payload.get("url"), outgoing.payload["model"]
            board = model_link(self._board_url, slug)
            kwargs["view"] = model_view(slug, [url] if isinstance(url, str) else [], board=board)
        footer = f"{embed.footer.text} · " if embed.footer.text else ""
        embed.set_footer(text=f"{footer}{reference(outgoing)}")
        try:
            channel = await self._channel(outgoing.target)
            await self._pacer.wait()
            message = await channel.send(
                nonce=outgoing.nonce, allowed_mentions=discord.AllowedMentions.none(), **kwargs
            )
        except discord.HTTPException as error:
            if 400 <= error.status < 500 and error.status != 429:  # refused for good: retrying cannot help
                raise PermanentDeliveryError(f"{outgoing.target}: {error.status} {error.text or 'refused'}") from error
            raise
        return str(message.id)

    async def already_sent(self, outgoing: Outgoing) -> str | None:
        """The message an interrupted attempt posted, found by its reference in the target's recent history."""
        try:
            channel = await self._channel(outgoing.target)
            await self._pacer.wait()
            mark = reference(outgoing)
            async for message in channel.history(limit=HISTORY_LOOKBACK):
                footers = [embed.footer.text or "" for embed in message.embeds]
                if message.author.id == getattr(self._client.user, "id", None) and any(mark in f for f in footers):
                    return str(message.id)
        except discord.HTTPException as error:
            if 400 <= error.status < 500 and error.status != 429:
                raise PermanentDeliveryError(f"{outgoing.target}: {error.status} {error.text or 'refused'}") from error
            raise
        return None
