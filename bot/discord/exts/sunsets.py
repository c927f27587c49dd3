"""`/sunset overdue|upcoming|recent|stats`: sorted lists of sunsets, and counts with the release-year chart."""

from __future__ import annotations

import asyncio
import io

import discord
from discord import Interaction, app_commands
from discord.ext import commands

from bot.discord.client import SunsetBot
from bot.discord.embeds import CHART_FILENAME, list_pages, stats_embed
from bot.discord.text import clean
from bot.discord.views import send_pages
from bot.present.chart import release_chart_png
from bot.services.queries import lab_family, overdue, recent, stats, upcoming

LIST_MAX = 250  # rows a list shows (25 pages): a million-model record never builds every line


class Sunsets(commands.GroupCog, group_name="sunset", group_description="Models against their sunset dates."):
    """The /sunset group."""

    def __init__(self, bot: SunsetBot) -> None:
        self.bot = bot

    @app_commands.command(name="overdue")
    @app_commands.describe(
        lab="Only this lab (name or slug)", notable="Only models in Epoch AI's notable-models data (default: all)"
    )
    async def overdue(self, interaction: Interaction[SunsetBot], lab: str | None = None, notable: bool = False) -> None:
        """Models past their sunset and still not open, most notable first."""
        await interaction.response.defer(thinking=True)  # may take over a second: answer Discord first
        policy, on = await self.bot.policy(interaction.guild_id), self.bot.today()
        rows = await self.bot.gateway.read(overdue, policy, on, lab=lab, notable_only=notable, limit=LIST_MAX + 1)
        title = f"Overdue{' notable models' * notable}{f' — {clean(lab, 80)}' if lab else ''}"
        if lab and (family := await self.bot.gateway.read(lab_family, lab)).children:  # say which labs it took in
            title += f" (with {clean(', '.join(name for _, name in family.children), 120)})"
        await send_pages(interaction, list_pages(title, rows, policy, on, most=LIST_MAX))

    @app_commands.command(name="upcoming")
    @app_commands.describe(days="How far ahead to look (days, default 365)")
    async def upcoming(self, interaction: Interaction[SunsetBot], days: app_commands.Range[int, 1, 3650] = 365) -> None:
        """Sunsets coming up for models that are not open yet, soonest first."""
        await interaction.response.defer(thinking=True)  # may take over a second: answer Discord first
        policy, on = await self.bot.policy(interaction.guild_id), self.bot.today()
        rows = await self.bot.gateway.read(upcoming, policy, on, days=days, limit=LIST_MAX + 1)
        await send_pages(interaction, list_pages(f"Sunsets in the next {days} days", rows, policy, on, most=LIST_MAX))

    @app_commands.command(name="recent")
    @app_commands.describe(days="How far back to look (days, default 90)")
    async def recent(self, interaction: Interaction[SunsetBot], days: app_commands.Range[int, 1, 3650] = 90) -> None:
        """Sunsets passed in the last N days by models still not open."""
        await interaction.response.defer(thinking=True)  # may take over a second: answer Discord first
        policy, on = await self.bot.policy(interaction.guild_id), self.bot.today()
        rows = await self.bot.gateway.read(recent, policy, on, days=days, limit=LIST_MAX + 1)
        title = f"Sunsets passed in the last {days} days"
        await send_pages(interaction, list_pages(title, rows, policy, on, most=LIST_MAX))

    @app_commands.command(name="stats")
    async def stats(self, interaction: Interaction[SunsetBot]) -> None:
        """Counts by status and level, with a chart of models by release year."""
        await interaction.response.defer(thinking=True)
        policy, on = await self.bot.policy(interaction.guild_id), self.bot.today()
        result = await self.bot.gateway.read(stats, policy, on)
        png = await asyncio.to_thread(release_chart_png, result.by_year_level, window_years=result.window_years, on=on)
        chart = discord.File(io.BytesIO(png), filename=CHART_FILENAME)
        await interaction.followup.send(embed=stats_embed(result), file=chart)

    @overdue.autocomplete("lab")
    async def _labs(self, interaction: Interaction[SunsetBot], current: str) -> list[app_commands.Choice[str]]:
        return await self.bot.lab_choices(current)


async def setup(bot: SunsetBot) -> None:
    """Load the extension."""
    await bot.add_cog(Sunsets(bot))
