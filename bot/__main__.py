"""`python -m bot` is the `sunset` command."""

from bot.cli import main

main()
