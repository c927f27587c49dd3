"""Delivery to the terminal, for `sunset run` without a Discord token."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape

from bot.outbox.delivery import Outgoing
from bot.present.messages import event_text


class ConsoleNotifier:
    """Prints each event as one line; the message id is the delivery's nonce."""

    def __init__(self, console: Console) -> None:
        self._console = console

    async def send(self, outgoing: Outgoing) -> str:
        """Print one event."""
        text = escape(event_text(outgoing.kind, outgoing.payload))
        self._console.print(f"[bold]{outgoing.occurred_on}[/bold] {outgoing.kind}: {text}")
        return outgoing.nonce

    async def already_sent(self, outgoing: Outgoing) -> str | None:
        """A terminal keeps no history to look in: an interrupted line is printed again (at most once more)."""
        return None
