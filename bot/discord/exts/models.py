"""`/model status|search|history|report`: a model's record, finding models, its history, challenging a fact."""

from __future__ import annotations

from discord import Interaction, app_commands
from discord.ext import commands

from bot.discord.client import SunsetBot
from bot.discord.embeds import history_pages, model_embed, search_pages
from bot.discord.views import model_view, send_pages
from bot.services.community import report_fact
from bot.services.queries import model_card, model_history
from db.models import utcnow
from trackers.challenges import FACTS

SEARCH_LIMIT = 100


class Models(commands.GroupCog, group_name="model", group_description="Look up AI models."):
    """The /model group."""

    def __init__(self, bot: SunsetBot) -> None:
        self.bot = bot

    @app_commands.command(name="status")
    @app_commands.describe(name="Model name, slug or alias (e.g. GPT-3)")
    async def status(self, interaction: Interaction[SunsetBot], name: str) -> None:
        """A model's openness, sunset date and status under this server's window and profile."""
        await interaction.response.defer(thinking=True)  # may take over a second: answer Discord first
        policy, on = await self.bot.policy(interaction.guild_id), self.bot.today()
        card = await self.bot.gateway.read(model_card, name, policy, on)
        view = model_view(card.card.slug, card.card.sources)
        base_url = self.bot.app.settings.site.base_url
        embed = model_embed(card, on=on, base_url=base_url, mention=self.bot.mention)
        await interaction.followup.send(embed=embed, view=view)

    @app_commands.command(name="search")
    @app_commands.describe(query="Part of a name or alias")
    async def search(self, interaction: Interaction[SunsetBot], query: str) -> None:
        """Find models by name or alias."""
        choices = await self.bot.model_search(query, SEARCH_LIMIT)
        await send_pages(interaction, search_pages(query, [(c.name, c.value) for c in choices]))

    @app_commands.command(name="history")
    @app_commands.describe(name="Model name, slug or alias")
    async def history(self, interaction: Interaction[SunsetBot], name: str) -> None:
        """A model's dated events and sourced observations."""
        await interaction.response.defer(thinking=True)  # may take over a second: answer Discord first
        await send_pages(interaction, history_pages(await self.bot.gateway.read(model_history, name)))

    @app_commands.command(name="report")
    @app_commands.describe(
        name="Model name, slug or alias",
        fact="The fact you dispute",
        value="What it should say (a date YYYY-MM-DD, an access value, a licence name…)",
        source="A URL that shows it (the lab's page, repository or paper is best)",
        note="Anything a moderator should know",
    )
    @app_commands.choices(fact=[app_commands.Choice(name=fact.replace("_", " "), value=fact) for fact in FACTS])
    @app_commands.checks.cooldown(1, 30.0, key=lambda interaction: interaction.user.id)
    async def report(
        self,
        interaction: Interaction[SunsetBot],
        name: str,
        fact: str,
        value: app_commands.Range[str, 1, 200],
        source: app_commands.Range[str, 1, 1000],
        note: app_commands.Range[str, 1, 500] | None = None,
    ) -> None:
        """Challenge a fact of a model: moderators review it against its sources and you are told the outcome."""
        number = await self.bot.gateway.write(
            report_fact,
            name=name,
            fact=fact,
            value=value,
            source=source,
            note=note,
            user_id=interaction.user.id,
            now=utcnow(),
        )
        await interaction.response.send_message(
            f"Thank you: challenge #{number} is in the review queue. I will tell you the outcome by DM.",
            ephemeral=True,
        )

    @status.autocomplete("name")
    @history.autocomplete("name")
    @report.autocomplete("name")
    async def _model_names(self, interaction: Interaction[SunsetBot], current: str) -> list[app_commands.Choice[str]]:
        return await self.bot.model_choices(current)


async def setup(bot: SunsetBot) -> None:
    """Load the extension."""
    await bot.add_cog(Models(bot))
