"""`python -m bot` is the `sunset` command."""

from bot.cli.commands import main

main()
