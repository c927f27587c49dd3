"""The bot's store: every query and write on subscriptions, deliveries, server settings and pledges.

Same rules as `trackers.store`: keyword arguments, no commits (the caller owns the transaction).
"""
