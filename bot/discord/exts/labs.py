"""`/lab scorecard`: a lab's record against the sunset clause."""

from __future__ import annotations

from discord import Interaction, app_commands
from discord.ext import commands

from bot.discord.client import SunsetBot
from bot.discord.embeds import scorecard_embed
from bot.services.queries import lab_scorecard


class Labs(commands.GroupCog, group_name="lab", group_description="The labs that release models."):
    """The /lab group."""

    def __init__(self, bot: SunsetBot) -> None:
        self.bot = bot

    @app_commands.command(name="scorecard")
    @app_commands.describe(name="Lab name or slug (e.g. OpenAI)")
    async def scorecard(self, interaction: Interaction[SunsetBot], name: str) -> None:
        """A lab's models by level, overdue count, longest overdue and recently opened models."""
        await interaction.response.defer(thinking=True)  # may take over a second: answer Discord first
        policy, on = await self.bot.policy(interaction.guild_id), self.bot.today()
        card = await self.bot.gateway.read(lab_scorecard, name, policy, on)
        await interaction.followup.send(embed=scorecard_embed(card, on=on))

    @scorecard.autocomplete("name")
    async def _labs(self, interaction: Interaction[SunsetBot], current: str) -> list[app_commands.Choice[str]]:
        return await self.bot.lab_choices(current)


async def setup(bot: SunsetBot) -> None:
    """Load the extension."""
    await bot.add_cog(Labs(bot))
