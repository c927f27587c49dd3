"""`/subscribe`, `/unsubscribe`, `/subscriptions`: who gets which alerts, in a channel or in DMs."""

from __future__ import annotations

from typing import Literal

import discord
from discord import Interaction, app_commands
from discord.ext import commands

from bot.discord.client import SunsetBot
from bot.discord.embeds import subscription_line, subscriptions_pages
from bot.discord.text import clean
from bot.discord.views import send_pages
from bot.services.community import (
    DEFAULT_KINDS,
    SUBSCRIBABLE_KINDS,
    channel_target,
    subscribe,
    subscriptions_for,
    unsubscribe,
    user_target,
)
from bot.services.queries import lab_family, resolve_model


def parse_kinds(text: str | None) -> tuple[str, ...]:
    """'sunset_passed, new_model' → the kinds; empty or 'default' → the default kinds."""
    if not text or text.strip().casefold() == "default":
        return DEFAULT_KINDS
    if text.strip().casefold() == "all":
        return SUBSCRIBABLE_KINDS
    return tuple(part.strip().casefold().replace(" ", "_") for part in text.split(",") if part.strip())


class Subscriptions(commands.Cog):
    """Alert subscriptions."""

    def __init__(self, bot: SunsetBot) -> None:
        self.bot = bot

    @app_commands.command(name="subscribe")
    @app_commands.describe(
        scope="What to follow: all models, one lab, or one model",
        name="The lab or model (for those scopes)",
        events="Comma-separated kinds, 'default' or 'all' (default: sunsets passed and approaching, opened, new)",
        target="Post in a channel (needs Manage Server) or send to your DMs",
        channel="The channel (default: this one)",
    )
    async def subscribe(
        self,
        interaction: Interaction[SunsetBot],
        scope: Literal["all", "lab", "model"],  # required: no accidental "everything, in my DMs"
        name: str | None = None,
        events: str | None = None,
        target: Literal["channel", "dm"] = "dm",
        channel: discord.TextChannel | None = None,
    ) -> None:
        """Get alerts about sunsets and openings, in a channel or your DMs."""
        if target == "channel":
            if interaction.guild_id is None:
                raise app_commands.NoPrivateMessage()
            if not interaction.permissions.manage_guild:
                raise app_commands.MissingPermissions(["manage_guild"])
            channel_id = channel.id if channel else interaction.channel_id
            assert channel_id is not None
            where = channel_target(channel_id)
        else:
            where = user_target(interaction.user.id)
        value, takes_in = None, ""
        if scope == "model":
            value = await self.bot.gateway.read(resolve_model, name or "")
        elif scope == "lab":
            family = await self.bot.gateway.read(lab_family, name or "")
            value = family.slug
            if family.children:  # a lab's followers get the news of the labs that are part of it
                takes_in = f" It takes in {clean(', '.join(child for _, child in family.children), 200)}."
        info, new = await self.bot.gateway.write(
            subscribe,
            guild_id=interaction.guild_id,
            target=where,
            scope=scope,
            scope_value=value,
            kinds=parse_kinds(events),
            created_by=interaction.user.id,
        )
        verb = "Subscribed" if new else "Updated"
        undo = f"{self.bot.mention('unsubscribe')} id:{info.id} stops it."
        await interaction.response.send_message(f"{verb}: {subscription_line(info)}.{takes_in} {undo}", ephemeral=True)

    @subscribe.autocomplete("name")
    async def _scope_names(self, interaction: Interaction[SunsetBot], current: str) -> list[app_commands.Choice[str]]:
        if getattr(interaction.namespace, "scope", None) == "lab":
            return await self.bot.lab_choices(current)
        return await self.bot.model_choices(current)

    @subscribe.autocomplete("events")
    async def _kinds(self, interaction: Interaction[SunsetBot], current: str) -> list[app_commands.Choice[str]]:
        done, _, typing = current.rpartition(",")
        prefix = f"{done}," if done else ""
        options = ["default", "all", *SUBSCRIBABLE_KINDS] if not done else list(SUBSCRIBABLE_KINDS)
        return [
            app_commands.Choice(name=f"{prefix}{kind}"[:100], value=f"{prefix}{kind}"[:100])
            for kind in options
            if kind.startswith(typing.strip().casefold())
        ][:25]

    @app_commands.command(name="unsubscribe")
    @app_commands.describe(id="The subscription's id (see /subscriptions)")
    async def unsubscribe(self, interaction: Interaction[SunsetBot], id: int) -> None:
        """Stop a subscription (your DMs, or this server's channels with Manage Server)."""
        target = await self.bot.gateway.write(
            unsubscribe,
            subscription_id=id,
            guild_id=interaction.guild_id,
            user_id=interaction.user.id,
            can_manage=interaction.permissions.manage_guild,
        )
        where = "your DMs" if target.startswith("user:") else f"<#{target.partition(':')[2]}>"
        await interaction.response.send_message(f"Unsubscribed #{id} ({where}).", ephemeral=True)

    @app_commands.command(name="subscriptions")
    async def subscriptions(self, interaction: Interaction[SunsetBot]) -> None:
        """This server's channel subscriptions and your DM subscriptions, with ids."""
        await interaction.response.defer(thinking=True, ephemeral=True)  # may take over a second
        rows = await self.bot.gateway.read(
            subscriptions_for, guild_id=interaction.guild_id, user_id=interaction.user.id
        )
        await send_pages(interaction, subscriptions_pages(rows, mention=self.bot.mention), ephemeral=True)


async def setup(bot: SunsetBot) -> None:
    """Load the extension."""
    await bot.add_cog(Subscriptions(bot))
