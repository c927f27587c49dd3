"""Tracker fixtures: a loopback server with our own fixtures, a catalog-loaded database, and a Tracker on both."""

from __future__ import annotations

import json
import random
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session

from tests.helpers import write_catalog
from tests.trackers.server import LoopbackServer, Route
from trackers.catalog import catalog_files
from trackers.catalog.sync import sync_catalog
from trackers.cycle import Tracker, TrackerConfig
from trackers.http import HttpPolicy, make_client
from trackers.sources import SourceSpec
from trackers.sunset import Policy

FIXTURES = Path(__file__).parent / "fixtures"
NOW = datetime(2026, 11, 10, 12, 0, tzinfo=UTC)
HUB_QUERY = "/api/models"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def hub_routes(server: LoopbackServer, page1: bytes | None = None) -> None:
    """A fake Hub: two listing pages joined by a Link header, cards, and a renamed repo answering a relative 307."""

    def listing(handler) -> Route:
        if "cursor=page2" in handler.path:
            return Route(fixture("hub/testlab_page2.json"), headers={"Content-Type": "application/json"})
        link = f'<{server.url(HUB_QUERY)}?author=testlab&sort=createdAt&cursor=page2>; rel="next"'
        body = page1 if page1 is not None else fixture("hub/testlab_page1.json")
        return Route(body, headers={"Content-Type": "application/json", "Link": link}, etag=None)

    server.routes[HUB_QUERY] = Route(handler=listing)
    server.routes["/testlab/nimbus-mini-1.5/raw/main/README.md"] = Route(fixture("cards/nimbus-mini-1.5.md"))
    server.routes["/testlab/oldnet/raw/main/README.md"] = Route(
        b"Temporary Redirect. Redirecting to /testlab/OldNet-v1/raw/main/README.md",
        status=307,
        headers={"Location": "/testlab/OldNet-v1/raw/main/README.md", "Content-Type": "text/plain"},
    )
    server.routes["/testlab/OldNet-v1/raw/main/README.md"] = Route(fixture("cards/oldnet.md"))


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    with LoopbackServer() as running:
        yield running


@pytest.fixture
def lab_server(server: LoopbackServer) -> LoopbackServer:
    """Test Lab's sources: a news feed, a GitHub releases feed, its Hub organisation and an Epoch CSV."""
    server.routes["/news.rss"] = Route(
        fixture("feeds/testlab_news.rss"), headers={"Content-Type": "application/rss+xml"}, etag='"news-v1"'
    )
    server.routes["/releases.atom"] = Route(
        fixture("feeds/testlab_releases.atom"), headers={"Content-Type": "application/atom+xml"}, etag='"gh-v1"'
    )
    server.routes["/epoch.csv"] = Route(fixture("epoch_notable.csv"), headers={"Content-Type": "text/csv"})
    hub_routes(server)
    return server


def lab_specs(server: LoopbackServer) -> list[SourceSpec]:
    return [
        SourceSpec("testlab-news", "rss", "testlab", options={"url": server.url("/news.rss")}),
        SourceSpec(
            "testlab-github",
            "github",
            "testlab",
            options={"url": server.url("/releases.atom"), "model": "Nimbus Mini 1.5"},
        ),
        SourceSpec("testlab-hub", "huggingface", "testlab", options={"author": "testlab", "endpoint": server.url("")}),
        SourceSpec("epoch", "epoch", options={"url": server.url("/epoch.csv")}),
    ]


@pytest.fixture
def catalog_engine(engine, tmp_path):
    """The migrated test database with the small test catalog loaded."""
    with Session(engine) as session:
        sync_catalog(session, catalog_files(write_catalog(tmp_path / "catalog")))
        session.commit()
    return engine


def tracker_config(**overrides) -> TrackerConfig:
    http = HttpPolicy(
        user_agent="SunsetClauseTest/1 (+https://example.invalid/contact)",
        connect_timeout=2.0,
        read_timeout=overrides.pop("read_timeout", 2.0),
        max_body_bytes=overrides.pop("max_body_bytes", 1024 * 1024),
        max_redirects=overrides.pop("max_redirects", 5),
        allow_private_addresses=overrides.pop("allow_private_addresses", True),
    )
    return TrackerConfig(http=http, **overrides)


@pytest.fixture
async def make_tracker(catalog_engine) -> AsyncIterator[Any]:
    """Build Trackers on the catalog database; their HTTP clients are closed at the end."""
    clients = []

    def build(specs, **overrides) -> Tracker:
        config = tracker_config(**overrides)
        client = make_client(config.http)
        clients.append(client)
        return Tracker(
            engine=catalog_engine, client=client, specs=specs, config=config, policy=Policy(), rng=random.Random(4)
        )

    yield build
    for client in clients:
        await client.aclose()


def by_name(report) -> dict[str, Any]:
    return {source.name: source for source in report.sources}


def dumps(data) -> bytes:
    return json.dumps(data).encode()
