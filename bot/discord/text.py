"""Untrusted text made safe for Discord: markdown escaped, mentions defused, lengths cut to Discord's limits."""

from __future__ import annotations

import re

from discord.utils import escape_mentions

from trackers.sources import storable

# https://discord.com/developers/docs/resources/message#embed-object-embed-limits
TITLE_MAX = 256
DESCRIPTION_MAX = 4096
FIELD_NAME_MAX = 256
FIELD_VALUE_MAX = 1024
FIELDS_MAX = 25
FOOTER_MAX = 2048
EMBED_TOTAL_MAX = 6000
CONTENT_MAX = 2000
CHOICE_NAME_MAX = 100
CHOICES_MAX = 25
BUTTON_LABEL_MAX = 80

_ROLE_OR_USER = re.compile(r"<(@[!&]?|#)(\d+)>")
# Every character that formats anywhere, and the ones that format at a line's start (quotes, headings, lists).
_INLINE = re.compile(r"([\\*_~|`\[\]])")
_LINE_START = re.compile(r"^(\s*)([>#-])", re.MULTILINE)


def escape_markdown(text: str) -> str:
    """Backslash-escape Discord markdown everywhere (discord.py's own escaper skips text inside link syntax)."""
    return _LINE_START.sub(r"\1\\\2", _INLINE.sub(r"\\\1", text))


def truncate(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, ending in an ellipsis when cut (never a dangling backslash)."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if cut.endswith("\\") and not cut.endswith("\\\\"):
        cut = cut[:-1]
    return cut + "…"


def clean(text: object, limit: int = FIELD_VALUE_MAX) -> str:
    """Text from a feed, a card or a user: controls dropped, markdown escaped, mentions defused, cut to `limit`."""
    escaped = escape_mentions(escape_markdown(storable(str(text))))
    # escape_mentions leaves channel links and escaped role syntax readable but inert; make them plain text.
    escaped = _ROLE_OR_USER.sub(lambda match: f"<{match.group(1)}\u200b{match.group(2)}>", escaped)
    return truncate(escaped, limit)


_SAFE_URL = re.compile(r"^https?://[^\s<>\\`]+$")


def link(url: str | None, limit: int = 500) -> str:
    """A URL shown unembedded (`<url>`) when it is a plain http(s) URL; otherwise the text, escaped."""
    if url and len(url) <= limit and _SAFE_URL.match(url):
        return f"<{url}>"
    return clean(url or "", limit)
