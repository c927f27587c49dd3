"""Components: page turning for long lists, source link buttons, and the persistent "Pledge: open it" button."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import discord

from bot.discord.text import BUTTON_LABEL_MAX, truncate

if TYPE_CHECKING:
    from bot.discord.client import SunsetBot

log = logging.getLogger(__name__)

PAGE_TIMEOUT_SECONDS = 600
MAX_LINK_BUTTONS = 4


class Pages(discord.ui.View):
    """◀ ▶ buttons over a list of embeds; only the person who asked can turn the pages."""

    def __init__(self, pages: Sequence[discord.Embed], owner_id: int, *, timeout: float | None = None) -> None:
        super().__init__(timeout=PAGE_TIMEOUT_SECONDS if timeout is None else timeout)
        self.pages, self.owner_id, self.index = list(pages), owner_id, 0
        self.interaction: discord.Interaction[Any] | None = None  # the answer to edit when the pages expire
        self._update_buttons()

    async def on_timeout(self) -> None:
        """Say the pages expired (buttons greyed out) instead of leaving buttons that silently fail."""
        for item in self.children:
            if isinstance(item, discord.ui.Button):
                item.disabled = True
        self.counter.label = f"{self.index + 1}/{len(self.pages)} · expired: run the command again"
        if self.interaction is not None:
            try:
                await self.interaction.edit_original_response(view=self)
            except discord.HTTPException as error:  # the answer was deleted, or the token expired (15 min)
                log.debug("could not mark pages expired: %s", error)

    def _update_buttons(self) -> None:
        self.previous.disabled = self.index == 0
        self.next.disabled = self.index >= len(self.pages) - 1
        self.counter.label = f"{self.index + 1}/{len(self.pages)}"

    @property
    def current(self) -> discord.Embed:
        """The page on show."""
        return self.pages[self.index]

    def turn(self, step: int) -> discord.Embed:
        """Move by `step` pages (clamped) and return the page now on show."""
        self.index = max(0, min(len(self.pages) - 1, self.index + step))
        self._update_buttons()
        return self.current

    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        """Only the person who ran the command turns its pages."""
        if interaction.user.id == self.owner_id:
            return True
        await interaction.response.send_message("Only the person who asked can turn these pages.", ephemeral=True)
        return False

    @discord.ui.button(label="◀", style=discord.ButtonStyle.secondary)
    async def previous(self, interaction: discord.Interaction[Any], _: discord.ui.Button[Pages]) -> None:
        """Show the previous page."""
        await interaction.response.edit_message(embed=self.turn(-1), view=self)

    @discord.ui.button(label="1/1", style=discord.ButtonStyle.secondary, disabled=True)
    async def counter(self, interaction: discord.Interaction[Any], _: discord.ui.Button[Pages]) -> None:
        """The page counter (not clickable)."""
        await interaction.response.defer()

    @discord.ui.button(label="▶", style=discord.ButtonStyle.secondary)
    async def next(self, interaction: discord.Interaction[Any], _: discord.ui.Button[Pages]) -> None:
        """Show the next page."""
        await interaction.response.edit_message(embed=self.turn(1), view=self)


async def send_pages(
    interaction: discord.Interaction[Any], pages: Sequence[discord.Embed], *, ephemeral: bool = False
) -> None:
    """Answer with the first page, and page buttons when there is more than one."""
    view = Pages(pages, interaction.user.id) if len(pages) > 1 else None
    kwargs: dict[str, Any] = {"embed": pages[0], "ephemeral": ephemeral}
    if view is not None:
        kwargs["view"] = view
    if interaction.response.is_done():
        await interaction.followup.send(**kwargs)
    else:
        await interaction.response.send_message(**kwargs)
    if view is not None:
        view.interaction = interaction


class PledgeButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"pledge:(?P<slug>[\w.+-]{1,80})"):
    """The "Pledge: open it" button under a model card; works across restarts (its custom id names the model)."""

    def __init__(self, slug: str) -> None:
        super().__init__(
            discord.ui.Button(label="Pledge: open it", style=discord.ButtonStyle.success, custom_id=f"pledge:{slug}")
        )
        self.slug = slug

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> PledgeButton:
        """Rebuild the button from a click."""
        return cls(match["slug"])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        """Record the clicker's pledge (once per person and model)."""
        from bot.discord.exts.pledges import pledge_and_reply

        bot: SunsetBot = interaction.client
        await pledge_and_reply(bot, interaction, self.slug, revoke=False)


def model_view(slug: str, sources: Sequence[str], *, board: str | None = None) -> discord.ui.View:
    """Link buttons to the model's page on the board (when there is one) and its first sources; the pledge button."""
    view = discord.ui.View(timeout=None)
    if board:
        view.add_item(discord.ui.Button(label="On the board", url=board, style=discord.ButtonStyle.link))
    for number, url in enumerate(
        [u for u in sources if u.startswith(("https://", "http://")) and len(u) <= 512][:MAX_LINK_BUTTONS], start=1
    ):
        label = truncate(f"Source {number}: {urlsplit(url).netloc}", BUTTON_LABEL_MAX)
        view.add_item(discord.ui.Button(label=label, url=url, style=discord.ButtonStyle.link))
    view.add_item(PledgeButton(slug))
    return view
