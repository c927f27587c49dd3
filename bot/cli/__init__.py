"""The `sunset` command line: `main` answers a warm `sunset status NAME` on the quick path (bot/cli/quick.py)
and hands everything else to the typer app (bot/cli/commands.py)."""

from __future__ import annotations

import sys


def main() -> None:
    """The `sunset` console script."""
    from bot.cli import quick

    code = quick.answer(sys.argv[1:])
    if code is not None:
        raise SystemExit(code)
    from bot.cli.commands import main as full

    full()
