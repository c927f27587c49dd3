"""One error handler for every command and component: a friendly ephemeral line to the user, tracebacks to the log."""

from __future__ import annotations

import logging
from typing import Any

import discord
from discord import app_commands

from bot.discord.embeds import error_embed
from bot.discord.text import clean
from bot.services.community import CommunityError
from bot.services.queries import NotFoundError

log = logging.getLogger(__name__)

UNEXPECTED = "Something went wrong on our side. It has been logged; please try again later."


def user_message(error: BaseException) -> str | None:
    """The sentence to show for an error a person can act on; None for a bug (which gets the generic line)."""
    if isinstance(error, app_commands.CommandInvokeError):
        return user_message(error.original)
    if isinstance(error, app_commands.TransformerError):
        return user_message(error.__cause__) if error.__cause__ else f"I could not read {clean(error.value, 100)}."
    if isinstance(error, NotFoundError | CommunityError):
        return clean(str(error), 1500)
    if isinstance(error, app_commands.MissingPermissions):
        return "You need the **Manage Server** permission for this command."
    if isinstance(error, app_commands.BotMissingPermissions):
        return "I am missing permissions in this channel: " + ", ".join(error.missing_permissions)
    if isinstance(error, app_commands.NoPrivateMessage):
        return "This command works in a server, not in DMs."
    if isinstance(error, app_commands.CommandOnCooldown):
        return f"Slow down: try again in {error.retry_after:.0f} seconds."
    if isinstance(error, app_commands.CheckFailure):
        return "You cannot use this command here."
    return None


async def reply_error(interaction: discord.Interaction[Any], error: BaseException) -> None:
    """Tell the user what went wrong, privately; log the traceback of anything unexpected."""
    message = user_message(error)
    if message is None:
        command = interaction.command.qualified_name if interaction.command else interaction.data
        log.error("interaction failed: command=%s user=%s", command, interaction.user.id, exc_info=error)
        message = UNEXPECTED
    try:
        if interaction.response.is_done():
            await interaction.followup.send(embed=error_embed(message), ephemeral=True)
        else:
            await interaction.response.send_message(embed=error_embed(message), ephemeral=True)
    except discord.HTTPException:
        log.warning("could not report an error to user=%s", interaction.user.id, exc_info=True)


async def on_app_command_error(interaction: discord.Interaction[Any], error: app_commands.AppCommandError) -> None:
    """The command tree's error handler."""
    await reply_error(interaction, error)
