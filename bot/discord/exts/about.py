"""`/about` (what the sunset clause asks, how it is judged, the data's sources, this server) and `/help`."""

from __future__ import annotations

from discord import Interaction, app_commands
from discord.ext import commands

from bot.discord.client import SunsetBot
from bot.discord.embeds import about_embed, help_embed
from bot.services.community import get_settings


class About(commands.Cog):
    """The /about command."""

    def __init__(self, bot: SunsetBot) -> None:
        self.bot = bot

    @app_commands.command(name="about")
    async def about(self, interaction: Interaction[SunsetBot]) -> None:
        """What the sunset clause is, how models are judged, where the data comes from."""
        policy = await self.bot.policy(interaction.guild_id)
        guild_id = interaction.guild_id
        settings = await self.bot.gateway.read(get_settings, guild_id) if guild_id is not None else None
        await interaction.response.send_message(embed=about_embed(policy, settings), ephemeral=True)

    @app_commands.command(name="help")
    async def show_help(self, interaction: Interaction[SunsetBot]) -> None:
        """Every command and what it does."""
        commands_ = [
            (command.qualified_name, command.description)
            for command in self.bot.tree.walk_commands()
            if isinstance(command, app_commands.Command)
        ]
        embed = help_embed(commands_, mention=self.bot.mention)
        await interaction.response.send_message(embed=embed, ephemeral=True)


async def setup(bot: SunsetBot) -> None:
    """Load the extension."""
    await bot.add_cog(About(bot))
