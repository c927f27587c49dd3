"""`sunset track --once` beside two hostile servers: it ends soon, stays small, and the healthy feed is read.

A real process (its peak memory is what is measured) against a real loopback server: a feed whose one
entry says "<" 400,000 times (the old tag pattern spent about a minute on it, holding the interpreter
lock, so the healthy source beside it timed out), and 2.5 KB that inflate through two gzip layers to
1 GiB (the old reader inflated each network chunk whole: 2.1 GB of memory).
"""

import gzip
import json
import os
import subprocess
import sys
import time

from tests.trackers.conftest import fixture
from tests.trackers.server import LoopbackServer, Route, gzip_of_zeros

# Runs the `sunset` command, then prints its own peak RSS (KiB on Linux) as the last line of stderr.
MEASURED = (
    "import atexit, resource, sys\n"
    "atexit.register(lambda: print('maxrss', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr))\n"
    "from bot.cli.commands import main\n"
    "sys.argv = ['sunset', *sys.argv[1:]]\n"
    "main()\n"
)


def lt_heavy(count: int) -> bytes:
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Hostile</title><link>https://h.example/</link>'
        "<item><title>Introducing Zephyr 3</title><guid>z3</guid><pubDate>Mon, 02 Nov 2026 10:00:00 +0000</pubDate>"
        f"<description>{'&lt;' * count}</description></item></channel></rss>"
    ).encode()


def test_track_once_beside_hostile_feeds_ends_fast_with_bounded_memory(tmp_path, database_url):
    bomb = gzip.compress(gzip_of_zeros(1024 * 1024 * 1024))
    assert len(bomb) < 3 * 1024
    with LoopbackServer() as server:
        server.routes["/lt.rss"] = Route(lt_heavy(400_000), headers={"Content-Type": "application/rss+xml"})
        server.routes["/bomb.rss"] = Route(
            bomb, headers={"Content-Type": "application/rss+xml", "Content-Encoding": "gzip, gzip"}
        )
        server.routes["/news.rss"] = Route(fixture("feeds/testlab_news.rss"))
        config = tmp_path / "config.toml"
        sources = "".join(
            f'\n[[sources]]\nname = "{name}"\nkind = "rss"\nlab = "testlab"\nurl = "{server.url(path)}"\n'
            for name, path in (("lt-heavy", "/lt.rss"), ("double-gzip", "/bomb.rss"), ("healthy", "/news.rss"))
        )
        config.write_text(
            f'[database]\nurl = "{database_url}"\n\n[trackers]\nallow_private_addresses = true\n'
            f"replace_default_sources = true\n{sources}"
        )
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-c", MEASURED, "--config", str(config), "track", "--once", "--allow-failures"],
            capture_output=True, text=True, timeout=120, env={**os.environ, "COLUMNS": "200"},
        )  # fmt: skip
        elapsed = time.monotonic() - started
        listed = subprocess.run(
            [sys.executable, "-m", "bot", "--config", str(config), "sources", "--json"],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    peak_mib = int(done.stderr.split("maxrss")[-1]) / 1024
    rows = {source["name"]: source for source in json.loads(listed.stdout)}
    print(
        f"track --once: {elapsed:.1f} s, peak RSS {peak_mib:.0f} MiB; {[(n, r['status'], r['last_error']) for n, r in rows.items()]}"
    )
    assert done.returncode == 0, done.stderr
    assert elapsed < 30 and peak_mib < 400
    assert rows["healthy"]["status"] == "ok" and rows["lt-heavy"]["status"] == "ok"
    assert rows["double-gzip"]["status"] == "error" and "(decoded)" in rows["double-gzip"]["last_error"]
