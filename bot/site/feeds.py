"""Atom feeds of events (feedgen): one entry per event, its id the event's stable id."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time

from feedgen.feed import FeedGenerator

from bot.site.events import KIND_WORDS, BoardEvent
from bot.site.paths import model_page

FEED_LIMIT = 200  # entries per feed, newest first: what a reader fetches, not the whole archive (events.json)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def atom_feed(
    events: Sequence[BoardEvent], *, feed_id: str, title: str, self_href: str, home_href: str, root: str
) -> bytes:
    """An Atom document of `events` (newest first); hrefs are absolute when the board has a base URL."""
    feed = FeedGenerator()
    feed.id(feed_id)
    feed.title(title)
    feed.author({"name": "Sunset Clause"})
    feed.link(href=self_href, rel="self", type="application/atom+xml")
    feed.link(href=home_href, rel="alternate", type="text/html")
    feed.language("en")
    # Deterministic: the newest event's date, so an unchanged feed is byte-for-byte unchanged.
    feed.updated(_midnight(events[0].on) if events else datetime(2026, 1, 1, tzinfo=UTC))
    for event in reversed(events):  # feedgen prepends each entry, so add oldest first to list newest first
        entry = feed.add_entry()
        entry.id(event.id)
        entry.title(f"{event.name}: {KIND_WORDS.get(event.kind, event.kind)}")
        entry.link(href=f"{root}{model_page(event.slug)}", rel="alternate", type="text/html")
        if event.url:
            entry.link(href=event.url, rel="related")
        entry.summary(event.text)
        entry.category(term=event.kind, label=KIND_WORDS.get(event.kind, event.kind))
        entry.published(_midnight(event.on))
        entry.updated(_midnight(event.on))
    return bytes(feed.atom_str(pretty=True))
