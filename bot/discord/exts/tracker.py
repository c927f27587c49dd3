"""`/tracker status` (Manage Server): source health, paused subscriptions and operator events."""

from __future__ import annotations

from discord import Interaction, app_commands
from discord.ext import commands

from bot.discord.client import SunsetBot
from bot.discord.embeds import tracker_embed
from bot.discord.exts.settings import require_manage_guild
from bot.services.queries import tracker_status


@app_commands.guild_only()
@app_commands.default_permissions(manage_guild=True)
class Tracker(commands.GroupCog, group_name="tracker", group_description="The trackers' health (Manage Server)."):
    """The /tracker group."""

    def __init__(self, bot: SunsetBot) -> None:
        self.bot = bot

    async def interaction_check(self, interaction: Interaction[SunsetBot]) -> bool:  # type: ignore[override]
        """Every /tracker command needs Manage Server."""
        return await require_manage_guild(interaction)

    @app_commands.command(name="status")
    async def status(self, interaction: Interaction[SunsetBot]) -> None:
        """Source health as in `sunset sources`, paused subscriptions here, and recent operator events."""
        await interaction.response.defer(thinking=True, ephemeral=True)  # may take over a second
        status = await self.bot.gateway.read(tracker_status, interaction.guild_id)
        await interaction.followup.send(embed=tracker_embed(status), ephemeral=True)


async def setup(bot: SunsetBot) -> None:
    """Load the extension."""
    await bot.add_cog(Tracker(bot))
