"""Feeds are untrusted: their texts come out clean, their links absolute, and reading one has a budget."""

from __future__ import annotations

import itertools
import time
from datetime import date

import pytest

from tests.trackers.conftest import fixture
from trackers.feeds import ParseBudget, parse_feed
from trackers.sources import Context, Document, ParseError, SourceSpec, rss

TODAY = date(2026, 11, 10)
FEED_URL = "https://relative.example/feeds/all.xml"


def read(name: str, **document):
    return parse_feed(Document(document.pop("url", FEED_URL), fixture(f"feeds/{name}"), **document), TODAY)


def lt_heavy(count: int) -> bytes:
    """A well-formed feed whose one entry says "<" `count` times (escaped, so feedparser reads it whole)."""
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Hostile</title>'
        "<item><title>Introducing Zephyr 3</title><guid>z3</guid><pubDate>Mon, 02 Nov 2026 10:00:00 +0000</pubDate>"
        f"<description>{'&lt;' * count}</description></item></channel></rss>"
    ).encode()


def test_html_titles_are_decoded_once_and_lose_their_scripts():
    titles = [entry.title for entry in read("hostile_titles.atom").entries]
    assert titles == [
        "Introducing Grok-1 — open weights",
        "Introducing Zephyr 3",  # no location.href='http:/'+'/example.com/', no CSS
        "Introducing Nimbus 9, with &amp; in it",  # XHTML: "&amp;amp;" in the XML is the text "&amp;"
        "Why a <b> tag and &amp; stay as written",  # type="text": shown as written
    ]
    assert read("hostile_titles.atom").entries[0].text == "Weights & code under Apache 2.0"


def test_an_html_title_names_the_model_without_its_markup():
    parsed = rss.read(Document(FEED_URL, fixture("feeds/hostile_titles.atom")), Context(SourceSpec("s", "rss"), TODAY))
    assert {s.name for s in parsed.sightings if s.fact == "announced"} == {"Grok-1", "Zephyr 3", "Nimbus 9"}


def test_links_resolve_against_the_document_and_what_is_no_web_url_falls_back_to_the_feed():
    links = {entry.title: entry.link for entry in read("relative_links.rss").entries}
    assert links == {
        "Introducing Orca 1": "https://relative.example/p/1",  # relative to the document
        "Introducing Orca 2": FEED_URL,  # a bare guid "12345" is no link
        "Introducing Orca 3": FEED_URL,  # nor is a tag: URI
        "Introducing Orca 4": "https://relative.example/posts/orca-4",  # a guid that is a URL is one
        "Introducing Orca 5": "https://cdn.relative.example/blog/orca-5.html",  # xml:base
        "Introducing Orca 6": FEED_URL,  # javascript: is dropped
        "": FEED_URL,
    }


def test_content_location_is_the_base_of_relative_links():
    entries = read("relative_links.rss", content_location="https://mirror.example/feeds/all.xml").entries
    assert entries[0].link == "https://mirror.example/p/1"


def test_entries_without_id_link_or_title_keep_their_own_stable_identity():
    first, second = (read("relative_links.rss").entries[-2:], read("relative_links.rss").entries[-2:])
    assert [entry.text for entry in first] == [
        "An entry with nothing but words.",
        "Another entry with nothing but words.",
    ]
    assert first[0].id != first[1].id and [entry.id for entry in first] == [entry.id for entry in second]
    assert read("relative_links.rss").problems == ()  # not counted as repeats of one another


def test_a_feed_full_of_lt_is_read_in_linear_time():
    """400,000 "<" in one entry froze the old cleaner for about a minute, holding the interpreter lock."""
    started = time.perf_counter()
    feed = parse_feed(Document(FEED_URL, lt_heavy(400_000)), TODAY)
    assert time.perf_counter() - started < 5.0
    assert feed.entries[0].title == "Introducing Zephyr 3" and feed.entries[0].text == "<" * 400_000


def test_a_feed_beyond_the_size_budget_is_an_error_not_parsed():
    with pytest.raises(ParseError, match="larger than the 4096-byte parse budget"):
        parse_feed(Document(FEED_URL, lt_heavy(5000)), TODAY, budget=ParseBudget(max_bytes=4096))


def test_a_feed_with_a_long_prolog_is_refused_before_feedparser_spends_quadratic_time_on_it():
    """80,000 newlines before the root element took feedparser 34 s (its DOCTYPE pattern, line by line)."""
    body = b'<?xml version="1.0"?>' + b"\n" * 80_000 + lt_heavy(10).split(b"?>", 1)[1]
    started = time.perf_counter()
    with pytest.raises(ParseError, match="80021 bytes before the first element"):
        parse_feed(Document(FEED_URL, body), TODAY)
    assert time.perf_counter() - started < 1.0


def test_a_feed_beyond_the_time_budget_is_an_error():
    ticks = itertools.count(step=2.0)  # every look at the clock: two more seconds
    with pytest.raises(ParseError, match=r"parse budget of 3s spent after 1 of 8 entries"):
        parse_feed(
            Document(FEED_URL, fixture("feeds/relative_links.rss")),
            TODAY,
            budget=ParseBudget(seconds=3.0),
            clock=lambda: next(ticks),
        )
