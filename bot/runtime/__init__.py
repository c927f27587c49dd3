"""The long-running service: settings, the composition root, the roles and their scheduler."""
