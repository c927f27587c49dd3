"""The outbox: events become deliveries, each sent exactly once by a notifier."""
