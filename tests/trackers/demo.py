"""Test Lab's fixtures served on loopback, for the README's tracker walkthrough (and the test that checks it).

    uv run python -m tests.trackers.demo

serves a feed, a GitHub releases feed, a Hub author (two pages and two model cards), an Epoch AI CSV and an
HTML page where a feed used to be, writes Test Lab's small catalog and a config file (its own SQLite
database, only these sources) into a fresh folder, and prints the `SUNSET_CONFIG=…` line to use in
another terminal. Ctrl-C stops it.
"""

from __future__ import annotations

import tempfile
import threading
from pathlib import Path

from tests.helpers import ONLY_THESE_SOURCES, write_catalog
from tests.trackers.conftest import fixture, hub_routes
from tests.trackers.server import LoopbackServer, Route


def serve_and_configure(server: LoopbackServer, directory: Path) -> Path:
    """Put the demo's routes on `server`, write its catalog and config into `directory`; the config's path."""
    server.routes["/news.rss"] = Route(fixture("feeds/testlab_news.rss"), etag='"n1"')
    server.routes["/releases.atom"] = Route(fixture("feeds/testlab_releases.atom"), etag='"r1"')
    server.routes["/moved.rss"] = Route(b"<html><body>Document moved</body></html>")
    server.routes["/epoch.csv"] = Route(fixture("epoch_notable.csv"), headers={"Content-Type": "text/csv"})
    hub_routes(server)
    catalog = write_catalog(directory / "catalog")
    config = directory / "config.toml"
    config.write_text(
        f'[database]\nurl = "sqlite:///{directory / "demo.sqlite3"}"\n\n'
        f"{ONLY_THESE_SOURCES.rstrip()}\n"
        "allow_private_addresses = true   # the sources below are on 127.0.0.1\n"
        'user_agent = "SunsetClauseDemo/1 (+https://github.com/sunset-clause/sunset-clause)"\n\n'
        f'[[sources]]\nname = "catalog"\nkind = "catalog"\npath = "{catalog}"\n\n'
        f'[[sources]]\nname = "testlab-news"\nkind = "rss"\nlab = "testlab"\nurl = "{server.url("/news.rss")}"\n\n'
        f'[[sources]]\nname = "testlab-github"\nkind = "github"\nlab = "testlab"\n'
        f'url = "{server.url("/releases.atom")}"\n\n'
        f'[[sources]]\nname = "testlab-hub"\nkind = "huggingface"\nlab = "testlab"\nauthor = "testlab"\n'
        f'endpoint = "{server.url("")}"\n\n'
        f'[[sources]]\nname = "epoch"\nkind = "epoch"\nurl = "{server.url("/epoch.csv")}"\n\n'
        f'[[sources]]\nname = "moved-feed"\nkind = "rss"\nurl = "{server.url("/moved.rss")}"\n'
    )
    return config


def main() -> None:
    """Serve until Ctrl-C."""
    directory = Path(tempfile.mkdtemp(prefix="sunset-demo-"))
    with LoopbackServer() as server:
        config = serve_and_configure(server, directory)
        print(f"Test Lab's sources are served on {server.url('/')} (Ctrl-C stops). In another terminal:")
        print(f"  export SUNSET_CONFIG={config}")
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            print("stopped")


if __name__ == "__main__":
    main()
