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


EXPIRED = 10062  # Unknown interaction: not answered within Discord's 3 seconds, its token is dead


def failed_reply(error: BaseException) -> discord.HTTPException | None:
    """The Discord error behind a reply that could not be sent (an expired interaction, a refused message)."""
    original = error.original if isinstance(error, app_commands.CommandInvokeError) else error
    return original if isinstance(original, discord.HTTPException) else None


def reply_failure_line(interaction: discord.Interaction[Any], failure: discord.HTTPException) -> str:
    """One log line for a reply Discord refused: the command, the user, the status and Discord's code."""
    command = interaction.command.qualified_name if interaction.command else interaction.type.name
    text = failure.text.splitlines()[0][:200] if failure.text else ""
    who = f"command={command} user={interaction.user.id}"
    return f"reply failed: {who} status={failure.status} code={failure.code} {text}".rstrip()


async def reply_error(interaction: discord.Interaction[Any], error: BaseException) -> None:
    """Tell the user what went wrong, privately; log the traceback of anything unexpected.

    A reply Discord refused is one log line, not a traceback: it is expected (an interaction that
    expired, 10062) and says nothing about our code; an expired interaction is not answered again.
    """
    failure = failed_reply(error)
    if failure is not None:
        log.warning("%s", reply_failure_line(interaction, failure))
        if failure.code == EXPIRED:
            return
    message = user_message(error)
    if message is None:
        if failure is None:
            command = interaction.command.qualified_name if interaction.command else interaction.data
            log.error("interaction failed: command=%s user=%s", command, interaction.user.id, exc_info=error)
        message = UNEXPECTED
    try:
        if interaction.response.is_done():
            await interaction.followup.send(embed=error_embed(message), ephemeral=True)
        else:
            await interaction.response.send_message(embed=error_embed(message), ephemeral=True)
    except discord.HTTPException as again:
        log.warning("%s", reply_failure_line(interaction, again))


async def on_app_command_error(interaction: discord.Interaction[Any], error: app_commands.AppCommandError) -> None:
    """The command tree's error handler."""
    await reply_error(interaction, error)
