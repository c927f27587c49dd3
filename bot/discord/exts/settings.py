"""`/settings show|channel|window|profile|digest` (Manage Server): this server's overrides and alerts channel."""

from __future__ import annotations

from typing import Literal

import discord
from discord import Interaction, app_commands
from discord.ext import commands

from bot.discord.client import SunsetBot
from bot.discord.embeds import WEEKDAYS, settings_embed
from bot.services.community import get_settings, update_settings

Weekday = Literal["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday", "off"]


async def require_manage_guild(interaction: Interaction[SunsetBot]) -> bool:
    """Admin commands are hidden by default_member_permissions and checked again here, at run time."""
    if interaction.guild_id is None:
        raise app_commands.NoPrivateMessage()
    if not interaction.permissions.manage_guild:
        raise app_commands.MissingPermissions(["manage_guild"])
    return True


@app_commands.guild_only()
@app_commands.default_permissions(manage_guild=True)
class Settings(commands.GroupCog, group_name="settings", group_description="This server's settings (Manage Server)."):
    """The /settings group."""

    def __init__(self, bot: SunsetBot) -> None:
        self.bot = bot

    async def interaction_check(self, interaction: Interaction[SunsetBot]) -> bool:  # type: ignore[override]
        """Every /settings command needs Manage Server."""
        return await require_manage_guild(interaction)

    async def _show(self, interaction: Interaction[SunsetBot], note: str | None = None) -> None:
        assert interaction.guild_id is not None
        row = await self.bot.gateway.read(get_settings, interaction.guild_id)
        policy = await self.bot.policy(interaction.guild_id)
        defaults = self.bot.app.settings.discord
        embed = settings_embed(row, policy, default_digest=(defaults.digest_weekday, defaults.digest_hour))
        await interaction.response.send_message(content=note, embed=embed, ephemeral=True)

    @app_commands.command(name="show")
    async def show(self, interaction: Interaction[SunsetBot]) -> None:
        """Show this server's settings."""
        await self._show(interaction)

    @app_commands.command(name="channel")
    @app_commands.describe(channel="Where alerts, digests and notices go by default")
    async def channel(self, interaction: Interaction[SunsetBot], channel: discord.TextChannel) -> None:
        """Set the default alerts channel."""
        assert interaction.guild_id is not None
        await self.bot.gateway.write(update_settings, interaction.guild_id, alerts_channel_id=channel.id)
        await self._show(interaction, "Alerts channel saved.")

    @app_commands.command(name="window")
    @app_commands.describe(years="Years after first release before a model should be open (10–15)")
    async def window(self, interaction: Interaction[SunsetBot], years: app_commands.Range[int, 10, 15]) -> None:
        """Set this server's sunset window."""
        assert interaction.guild_id is not None
        await self.bot.gateway.write(update_settings, interaction.guild_id, window_years=years)
        await self._show(interaction, "Window saved.")

    @app_commands.command(name="profile")
    @app_commands.describe(profile="weights: opened at L2 (open weights); strict: opened at L3 (open source)")
    async def profile(self, interaction: Interaction[SunsetBot], profile: Literal["weights", "strict"]) -> None:
        """Set what counts as opened on this server."""
        assert interaction.guild_id is not None
        await self.bot.gateway.write(update_settings, interaction.guild_id, profile=profile)
        await self._show(interaction, "Profile saved.")

    @app_commands.command(name="digest")
    @app_commands.describe(weekday="Day of the weekly digest, or off", hour="Hour (UTC, 0–23)")
    async def digest(
        self, interaction: Interaction[SunsetBot], weekday: Weekday, hour: app_commands.Range[int, 0, 23] | None = None
    ) -> None:
        """Turn the weekly digest on (day and hour, UTC) or off."""
        assert interaction.guild_id is not None
        if weekday == "off":
            await self.bot.gateway.write(update_settings, interaction.guild_id, digest_off=True)
        else:
            chosen = (
                WEEKDAYS.index(weekday),
                self.bot.app.settings.discord.digest_hour if hour is None else hour,
            )
            await self.bot.gateway.write(update_settings, interaction.guild_id, digest=chosen)
        await self._show(interaction, "Digest saved.")


async def setup(bot: SunsetBot) -> None:
    """Load the extension."""
    await bot.add_cog(Settings(bot))
