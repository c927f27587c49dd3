"""The fault matrix: every way a source can break is recorded on its row; the others run; nothing is corrupted."""

from __future__ import annotations

import gzip
import json
import random
import socket
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import Session, col, func, select

from db.models import Model, Observation, OpennessChange, Source
from tests.trackers.conftest import NOW, by_name, fixture, hub_routes
from tests.trackers.server import LoopbackServer, Route
from trackers.sources import SourceSpec

NEWS = fixture("feeds/testlab_news.rss")
RSS_HEAD = b'<?xml version="1.0"?><rss version="2.0"><channel><title>Victim</title><link>https://v.example/</link>'


def rss(*items: str) -> bytes:
    return RSS_HEAD + "".join(items).encode() + b"</channel></rss>"


def item(title: str, guid: str, date: str | None = "Mon, 02 Nov 2026 10:00:00 +0000") -> str:
    when = f"<pubDate>{date}</pubDate>" if date else ""
    return f"<item><title>{title}</title><link>https://v.example/{guid}</link><guid>{guid}</guid>{when}</item>"


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def rss_case(route: Route, **config):
    def setup(server: LoopbackServer) -> tuple[SourceSpec, dict[str, Any]]:
        server.routes["/victim"] = route
        return SourceSpec("victim", "rss", "testlab", options={"url": server.url("/victim")}), config

    return setup


def url_case(url_of, **config):
    def setup(server: LoopbackServer) -> tuple[SourceSpec, dict[str, Any]]:
        return SourceSpec("victim", "rss", "testlab", options={"url": url_of(server)}), config

    return setup


def hub_case(card: bytes):
    def setup(server: LoopbackServer) -> tuple[SourceSpec, dict[str, Any]]:
        hub_routes(server)
        server.routes["/testlab/nimbus-mini-1.5/raw/main/README.md"] = Route(card)
        spec = SourceSpec("victim", "huggingface", "testlab", options={"author": "testlab", "endpoint": server.url("")})
        return spec, {}

    return setup


def loop(handler) -> Route:
    return Route(status=302, headers={"Location": "/loop-b" if handler.path == "/loop-a" else "/loop-a"})


def redirect_chain(handler) -> Route:
    step = int(handler.path.rsplit("/", 1)[-1])
    return Route(status=301, headers={"Location": f"/hop/{step + 1}"})


BOMB = gzip.compress(b"\0" * (4 * 1024 * 1024))  # 4 MiB of zeros in a few kilobytes
# "Billion laughs": ten nested entities of ten references each would expand to 10^9 "lol"s.
LAUGHS = "".join(f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">' for n in range(1, 10))
ENTITY_BOMB = (
    f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY lol0 "lol">{LAUGHS}]><rss version="2.0"><channel>'
    "<title>Victim</title><item><title>Introducing Zephyr 3 &lol9;</title><guid>z3</guid>"
    "<pubDate>Mon, 02 Nov 2026 10:00:00 +0000</pubDate></item></channel></rss>"
).encode()

CASES = {
    # case: (setup, status, error text, whether the victim keeps any observation)
    "timeout": (rss_case(Route(hang=True), read_timeout=0.3), "error", "timed out", False),
    "connection refused": (
        url_case(lambda s: f"http://127.0.0.1:{closed_port()}/feed"),
        "error",
        "connection failed",
        False,
    ),
    "404": (rss_case(Route(b"nope", status=404)), "error", "HTTP 404", False),
    "410 gone": (rss_case(Route(b"gone", status=410)), "disabled", "HTTP 410", False),
    "429 without Retry-After": (rss_case(Route(b"slow down", 429)), "error", "HTTP 429", False),
    "500": (rss_case(Route(b"oops", status=500)), "error", "HTTP 500", False),
    "redirect loop": (url_case(lambda s: s.url("/loop-a")), "error", "redirect loop", False),
    "too many redirects": (url_case(lambda s: s.url("/hop/0")), "error", "more than 5 redirects", False),
    "oversized body": (
        rss_case(Route(b" " * 300_000 + NEWS), max_body_bytes=256 * 1024),
        "error",
        "larger than",
        False,
    ),
    "gzip bomb": (rss_case(Route(BOMB, headers={"Content-Encoding": "gzip"})), "error", "(decoded)", False),
    "XML entity bomb": (rss_case(Route(ENTITY_BOMB)), "ok", "amplification", True),  # expat refuses to expand
    "HTML served as a feed": (
        rss_case(
            Route(
                b"<html><head><title>Document Moved</title></head><body>Moved</body></html>",
                headers={"Content-Type": "text/html"},
            )
        ),
        "error",
        "not a feed",
        False,
    ),
    "truncated XML": (rss_case(Route(rss(item("Introducing Zephyr 3", "z3"))[:-25])), "ok", "not well-formed", True),
    "empty body": (rss_case(Route(b"")), "error", "empty document", False),
    "empty feed": (rss_case(Route(rss())), "ok", None, False),
    "duplicate GUIDs": (
        rss_case(Route(rss(item("Introducing Zephyr 3", "same"), item("Introducing Zephyr 4", "same")))),
        "ok",
        "repeat an earlier id",
        True,
    ),
    "entries without dates": (rss_case(Route(rss(item("Introducing Zephyr 3", "z", None)))), "ok", "no date", True),
    "entries with placeholder dates": (
        rss_case(Route(rss(item("Introducing Zephyr 3", "z", "Thu, 01 Jan 1970 00:00:00 +0000")))),
        "ok",
        "dated before 1995: a placeholder",
        True,
    ),
    "entries with future dates": (
        rss_case(Route(rss(item("Introducing Zephyr 3", "z", "Fri, 01 Jan 2100 00:00:00 +0000")))),
        "ok",
        "in the future",
        True,
    ),
    "card without front matter": (
        hub_case(b"# Nimbus Mini\n\nNo metadata here.\n"),
        "ok",
        "no YAML front matter",
        True,
    ),
    "card with broken front matter": (
        hub_case(b"---\nlicense: [apache-2.0\ndatasets: {\n---\n# Broken\n"),
        "ok",
        "not valid YAML",
        True,
    ),
    "card front matter not a mapping": (hub_case(b"---\n- just\n- a list\n---\n"), "ok", "not a mapping", True),
    "private address refused": (
        rss_case(Route(NEWS), allow_private_addresses=False),
        "error",
        "non-public address",
        False,
    ),
}


@pytest.mark.parametrize("case", list(CASES))
async def test_a_broken_source_is_recorded_and_the_others_still_run(case, server, make_tracker, catalog_engine):
    setup, status, error_text, keeps_observations = CASES[case]
    server.routes["/news.rss"] = Route(NEWS, headers={"Content-Type": "application/rss+xml"})
    server.routes["/loop-a"] = server.routes["/loop-b"] = Route(handler=loop)
    for step in range(10):
        server.routes[f"/hop/{step}"] = Route(handler=redirect_chain)
    victim, config = setup(server)
    healthy = SourceSpec("healthy", "rss", "testlab", options={"url": server.url("/news.rss")})
    before = snapshot(catalog_engine)
    tracker = make_tracker([victim, healthy], **config)
    if config.get("allow_private_addresses") is False:
        # The healthy source is on loopback too: let only the victim meet the refusal.
        tracker = make_tracker([victim], **config)
        await make_tracker([healthy]).run_cycle(NOW)
    report = by_name(await tracker.run_cycle(NOW))

    with Session(catalog_engine) as session:
        row = session.exec(select(Source).where(Source.name == "victim")).one()
        healthy_row = session.exec(select(Source).where(Source.name == "healthy")).one()
        victim_observations = session.exec(
            select(func.count()).select_from(Observation).where(Observation.origin == "victim")
        ).one()
        nimbus = session.exec(select(Model.state).where(Model.slug == "nimbus-2")).first()
    assert row.status == status == report["victim"].status
    if error_text is None:
        assert row.last_error is None
    else:
        assert error_text in (row.last_error or ""), row.last_error
    if status == "ok":
        assert row.consecutive_failures == 0 and row.last_ok_at == NOW
    else:
        assert row.consecutive_failures == 1 and row.last_ok_at is None
    assert (victim_observations > 0) == keeps_observations
    assert healthy_row.status == "ok" and nimbus == "unconfirmed"  # the other source ran and was stored
    assert snapshot(catalog_engine) == before  # the catalog's facts are untouched


def snapshot(engine) -> list[tuple[Any, ...]]:
    """The catalog's own facts, which no tracker may change."""
    with Session(engine) as session:
        models = session.exec(
            select(Model.slug, Model.name, Model.first_release, Model.state)
            .where(Model.origin == "catalog")
            .order_by(col(Model.slug))
        ).all()
        changes = session.exec(
            select(OpennessChange.model_id, OpennessChange.kind, OpennessChange.access, OpennessChange.licence_raw)
            .where(OpennessChange.origin == "catalog")
            .order_by(col(OpennessChange.id))
        ).all()
    return [*models, *changes]


async def test_retry_after_and_backoff_push_the_next_poll_out(server, make_tracker, catalog_engine):
    server.routes["/victim"] = Route(b"slow down", 429, {"Retry-After": "7200"})
    tracker = make_tracker([SourceSpec("victim", "rss", "testlab", options={"url": server.url("/victim")})])
    await tracker.run_cycle(NOW)
    with Session(catalog_engine) as session:
        row = session.exec(select(Source).where(Source.name == "victim")).one()
    assert row.next_due_at is not None and row.next_due_at >= NOW + timedelta(seconds=7200)


@pytest.mark.parametrize(
    ("status", "retry_after"), [(429, "7200"), (503, "Tue, 10 Nov 2026 14:00:00 GMT")], ids=["429", "503"]
)
async def test_a_rate_limit_that_says_when_to_come_back_is_honoured_and_never_pauses(
    server, make_tracker, catalog_engine, status, retry_after
):
    server.routes["/victim"] = Route(b"slow down", status, {"Retry-After": retry_after})
    tracker = make_tracker(
        [SourceSpec("victim", "rss", "testlab", options={"url": server.url("/victim")})], max_failures=2
    )
    for day in range(3):
        await tracker.run_cycle(NOW + timedelta(days=day), names=["victim"])
    with Session(catalog_engine) as session:
        row = session.exec(select(Source).where(Source.name == "victim")).one()
    assert (row.status, row.consecutive_failures) == ("error", 0)
    assert str(status) in (row.last_error or "")
    assert row.next_due_at is not None and row.next_due_at >= NOW + timedelta(days=2)


async def test_a_source_failing_max_failures_times_is_paused_with_one_operator_event(
    server, make_tracker, catalog_engine
):
    from db.models import Event

    server.routes["/victim"] = Route(b"oops", status=500)
    tracker = make_tracker(
        [SourceSpec("victim", "rss", "testlab", options={"url": server.url("/victim")})], max_failures=3
    )
    announced = []
    for attempt in range(5):
        report = await tracker.run_cycle(NOW + timedelta(days=attempt), names=["victim"])
        announced += report.announced
    with Session(catalog_engine) as session:
        row = session.exec(select(Source).where(Source.name == "victim")).one()
        paused = session.exec(select(Event).where(Event.kind == "source_paused")).all()
    assert row.status == "paused" and row.next_due_at is None
    assert tracker.due(NOW + timedelta(days=30)) == []  # a paused source waits for a person
    assert [(event.subject, event.announce) for event in paused] == [("source:victim", True)]
    assert len(announced) == 1

    server.routes["/victim"] = Route(NEWS)  # fixed: the operator polls it by name (`sunset track --source victim`)
    report = await tracker.run_cycle(NOW + timedelta(days=6), names=["victim"])
    with Session(catalog_engine) as session:
        row = session.exec(select(Source).where(Source.name == "victim")).one()
    assert by_name(report)["victim"].status == "ok" and (row.status, row.consecutive_failures) == ("ok", 0)
    assert tracker.due(NOW + timedelta(days=7)) == ["victim"]  # back on its schedule


async def test_a_warning_outlives_a_304_but_an_error_does_not(server, make_tracker, catalog_engine):
    undated = Route(rss(item("Introducing Zephyr 3", "z", None)), etag='"v1"')
    server.routes["/victim"] = undated
    tracker = make_tracker([SourceSpec("victim", "rss", "testlab", options={"url": server.url("/victim")})])

    def row() -> Source:
        with Session(catalog_engine) as session:
            return session.exec(select(Source).where(Source.name == "victim")).one()

    await tracker.run_cycle(NOW)
    assert row().status == "ok" and "no date" in (row().last_error or "")
    await tracker.run_cycle(NOW + timedelta(hours=7))
    assert row().status == "not_modified" and "no date" in (row().last_error or "")  # the same document

    server.routes["/victim"] = Route(b"oops", status=500)
    await tracker.run_cycle(NOW + timedelta(hours=14))
    assert row().status == "error" and row().last_error == "HTTP 500 Internal Server Error"
    server.routes["/victim"] = undated
    await tracker.run_cycle(NOW + timedelta(hours=21))
    assert row().status == "not_modified" and row().last_error is None and row().consecutive_failures == 0


async def test_oversized_header_values_and_links_are_stored_safely_not_fatal(server, make_tracker, catalog_engine):
    """Column limits are real on PostgreSQL: a hostile ETag or link must not abort the cycle's transaction."""
    link = "https://v.example/" + "a" * 900
    entry = f"<item><title>Introducing Zephyr 3</title><link>{link}</link><guid>z3</guid>"
    entry += "<pubDate>Mon, 02 Nov 2026 10:00:00 +0000</pubDate></item>"
    entry += f"<item><title>Introducing Zephyr 4</title><link>{link * 2}</link><guid>z4</guid>"
    entry += "<pubDate>Tue, 03 Nov 2026 10:00:00 +0000</pubDate></item>"
    server.routes["/victim"] = Route(
        RSS_HEAD + entry.encode() + b"</channel></rss>",
        headers={"ETag": '"' + "e" * 600 + '"', "Last-Modified": "Mon, 02 Nov 2026 10:00:00 GMT" + "x" * 200},
    )
    server.routes["/news.rss"] = Route(NEWS)
    victim = SourceSpec("victim", "rss", "testlab", options={"url": server.url("/victim")})
    healthy = SourceSpec("healthy", "rss", "testlab", options={"url": server.url("/news.rss")})
    report = by_name(await make_tracker([victim, healthy]).run_cycle(NOW))
    assert report["victim"].status == "ok" and report["healthy"].status == "ok"
    with Session(catalog_engine) as session:
        zephyr = session.exec(select(Model).where(Model.slug == "zephyr-3")).one()
        row = session.exec(select(Source).where(Source.name == "victim")).one()
    assert zephyr.state == "unconfirmed" and zephyr.first_release == "2026-11-02"
    assert zephyr.first_release_url == link  # the whole link: it is the source
    with Session(catalog_engine) as session:  # beyond the observation's 1,000 characters, as stored there
        four = session.exec(select(Model).where(Model.slug == "zephyr-4")).one()
    assert four.first_release == "2026-11-03" and four.first_release_url == (link * 2)[:1000]
    assert row.etag is None and row.last_modified is None  # unusable validators are not kept


async def test_a_claim_too_long_for_a_database_index_is_stored_once(server, make_tracker, catalog_engine):
    """A hostile release tag and link, multi-byte: far beyond PostgreSQL's 2,704-byte index row."""
    rng = random.Random(3)
    tag = "".join(chr(rng.randrange(0x4E00, 0x9FFF)) for _ in range(3000))  # CJK: 3 bytes each, incompressible
    link = "https://v.example/" + "".join(chr(rng.randrange(0x4E00, 0x9FFF)) for _ in range(950))
    atom = (
        f'<feed xmlns="http://www.w3.org/2005/Atom"><title>Releases</title><id>r</id><updated>2026-11-02T10:00:00Z'
        f"</updated><entry><id>tag:github.com,2008:Repository/1/{tag}</id><title>v1</title>"
        f'<link href="{link}"/><updated>2026-11-02T10:00:00Z</updated></entry></feed>'
    )
    server.routes["/victim"] = Route(atom.encode())
    spec = SourceSpec("victim", "github", "testlab", options={"url": server.url("/victim"), "model": "OldNet"})
    tracker = make_tracker([spec])
    for hours in (0, 7):  # the second cycle reads the same claim again
        report = by_name(await tracker.run_cycle(NOW + timedelta(hours=hours)))
        assert report["victim"].status == "ok", report["victim"].error
    with Session(catalog_engine) as session:
        values = session.exec(select(Observation.value).where(Observation.origin == "victim")).all()
    assert len(values) == 1 and values[0].startswith(tag[:100])


async def test_nul_characters_in_what_a_source_says_are_stored_without_them(server, make_tracker, catalog_engine):
    """PostgreSQL text cannot hold NUL: a hostile listing or card with one must not abort the cycle."""
    page = json.loads(fixture("hub/testlab_page1.json"))
    page.insert(0, {"id": "testlab/nul-model", "createdAt": "2026-11-10T08:00:00.000Z", "gated": False,
                    "tags": ["license:mit\u0000x"], "cardData": {"license": "apache-2.0\u0000", "datasets": ["a\u0000b"]}})  # fmt: skip
    hub_routes(server, page1=json.dumps(page).encode())
    server.routes["/testlab/nul-model/raw/main/README.md"] = Route(b"---\nlicense: mit\x00\n---\n# Nul\n")
    spec = SourceSpec("victim", "huggingface", "testlab", options={"author": "testlab", "endpoint": server.url("")})
    report = by_name(await make_tracker([spec]).run_cycle(NOW))
    assert report["victim"].status == "ok", report["victim"].error
    with Session(catalog_engine) as session:
        values = session.exec(
            select(Observation.value).join(Model).where(Model.slug == "nul-model", Observation.origin == "victim")
        ).all()
    assert "apache-2.0" in values and "ab" in values and not any("\x00" in value for value in values)
