"""Sunset Clause's application: the command line, the long-running service and its surfaces."""
