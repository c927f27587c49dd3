"""Slash-command extensions: every module here is discovered and loaded at start-up (none is listed)."""
