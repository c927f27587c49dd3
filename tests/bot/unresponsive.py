"""Sources that keep a tracker busy: half answer after 5 seconds, half never answer (served on loopback)."""

from __future__ import annotations

import time

from tests.trackers.conftest import fixture
from tests.trackers.server import LoopbackServer, Route

SLOW_SECONDS = 5.0


def serve_unresponsive(server: LoopbackServer, count: int) -> list[str]:
    """Add `count` feeds to the server (even ones answer after SLOW_SECONDS, odd ones never); their URLs."""
    body = fixture("feeds/testlab_news.rss")

    def slow(_request: object) -> Route:
        time.sleep(SLOW_SECONDS)
        return Route(body)

    urls = []
    for number in range(count):
        path = f"/unresponsive-{number}.rss"
        server.routes[path] = Route(handler=slow) if number % 2 == 0 else Route(hang=True)
        urls.append(server.url(path))
    return urls


def sources_toml(urls: list[str]) -> str:
    """`[[sources]]` entries for the URLs (rss, lab testlab)."""
    return "".join(
        f'[[sources]]\nname = "unresponsive-{number}"\nkind = "rss"\nlab = "testlab"\nurl = "{url}"\n\n'
        for number, url in enumerate(urls)
    )


def unresponsive_hits(server: LoopbackServer) -> int:
    """How many requests the unresponsive feeds have received."""
    return sum(1 for path, _ in server.requests if path.startswith("/unresponsive-"))
