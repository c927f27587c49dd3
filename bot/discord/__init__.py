"""Discord: the bot client, its slash commands (one extension per feature group), embeds and the notifier.

Only this package imports `discord`; everything it shows comes from `bot.queries`, `bot.community`
and `bot.digest`, which know nothing about Discord.
"""
