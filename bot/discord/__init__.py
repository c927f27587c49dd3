"""Discord: the bot client, its slash commands (one extension per feature group), embeds and the notifier.

Only this package imports `discord`; everything it shows comes from `bot.services.queries`, `bot.services.community`
and `bot.services.digest`, which know nothing about Discord.
"""
