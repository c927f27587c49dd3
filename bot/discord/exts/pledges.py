"""`/pledge` (and the card's button) and `/pledges top`: members asking for a model to be opened."""

from __future__ import annotations

from discord import Interaction, app_commands
from discord.ext import commands

from bot.discord.client import SunsetBot
from bot.discord.embeds import pledges_embed
from bot.discord.errors import reply_error
from bot.discord.text import clean
from bot.services.community import pledge
from bot.services.queries import resolve_model, top_pledges


async def pledge_and_reply(bot: SunsetBot, interaction: Interaction[SunsetBot], name: str, *, revoke: bool) -> None:
    """Record (or revoke) the user's pledge for a model and tell them, privately."""
    try:
        slug = await bot.gateway.read(resolve_model, name)
        result = await bot.gateway.write(
            pledge, slug=slug, user_id=interaction.user.id, guild_id=interaction.guild_id, revoke=revoke
        )
    except Exception as error:
        await reply_error(interaction, error)
        return
    model = clean(result.model, 200)
    if revoke:
        text = f"Pledge for {model} revoked." if result.changed else f"You had not pledged for {model}."
    else:
        text = f"You pledged for {model} to be opened." if result.changed else f"You already pledged for {model}."
    await interaction.response.send_message(f"{text} {result.count} pledge(s) in all.", ephemeral=True)


class Pledges(commands.Cog):
    """Pledges."""

    top_group = app_commands.Group(name="pledges", description="Pledges across all servers.")

    def __init__(self, bot: SunsetBot) -> None:
        self.bot = bot

    @app_commands.command(name="pledge")
    @app_commands.describe(name="The model you want opened", revoke="Take your pledge back")
    async def pledge(self, interaction: Interaction[SunsetBot], name: str, revoke: bool = False) -> None:
        """Pledge that you want a model opened (one pledge per person and model)."""
        await pledge_and_reply(self.bot, interaction, name, revoke=revoke)

    @pledge.autocomplete("name")
    async def _names(self, interaction: Interaction[SunsetBot], current: str) -> list[app_commands.Choice[str]]:
        return await self.bot.model_choices(current)

    @top_group.command(name="top")
    async def top(self, interaction: Interaction[SunsetBot]) -> None:
        """The most-pledged models, with counts across all servers."""
        await interaction.response.defer(thinking=True)  # may take over a second: answer Discord first
        await interaction.followup.send(embed=pledges_embed(await self.bot.gateway.read(top_pledges, 10)))


async def setup(bot: SunsetBot) -> None:
    """Load the extension."""
    await bot.add_cog(Pledges(bot))
