"""Polling at scale: N feeds on a loopback server with added latency, a fraction changed between cycles.

Measures, in one run, the naive baseline (sequential `feedparser.parse(url)`, no caching) and our second
cycle (conditional GETs, bounded concurrency, parsing off the event loop, batched writes), and prints both
times, the ratio, our time against the lower bound (N × latency ÷ concurrency + parse CPU of the changed
feeds) and peak memory. Targets: ≥ 20× faster than naive; within 2× of the lower bound.

Run: uv run python -m benchmarks.poll                     (1,000 feeds, 50 ms, 10% changed, concurrency 64)
     uv run python -m benchmarks.poll --feeds 200 --latency 20   (a quicker look)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import random
import resource
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import feedparser
from sqlalchemy import insert

from benchmarks.common import fresh_engine
from db.models import Lab, utcnow
from trackers.cycle import Tracker, TrackerConfig
from trackers.http import HttpPolicy, make_client
from trackers.sources import Context, Document, SourceSpec, rss
from trackers.sunset import Policy

ITEMS = 10


def feed_body(index: int, version: int) -> bytes:
    """A small RSS feed: one model announcement per version, the rest ordinary posts."""
    items = [
        f"<item><title>Introducing Bench {index}.{v}</title><link>https://lab{index}.example/m/{v}</link>"
        f"<guid>lab{index}-m{v}</guid><pubDate>Mon, 02 Nov 2026 10:00:00 +0000</pubDate>"
        f"<description>Bench {index}.{v} is available in our API.</description></item>"
        for v in range(version + 1)
    ]
    items += [
        f"<item><title>Notes from the lab, part {n}</title><link>https://lab{index}.example/p/{n}</link>"
        f"<guid>lab{index}-p{n}</guid><pubDate>Sun, 01 Nov 2026 10:00:00 +0000</pubDate>"
        f"<description>{'Some words about research. ' * 20}</description></item>"
        for n in range(max(ITEMS - len(items), 0))
    ]
    head = f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Lab {index}</title>'
    return (head + f"<link>https://lab{index}.example/</link>" + "".join(items) + "</channel></rss>").encode()


def serve(port_out: Any, latency: float, feeds: int) -> None:
    """The loopback server (its own process, so its CPU does not compete with the client's): feeds with ETags,
    added latency, a count of requests per feed; `/round/SEED/N` gives N feeds a new version and resets the counts."""
    versions, counts, lock = [0] * feeds, [0] * feeds, threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            if self.path.startswith("/round/"):  # new due time: counts back to 0, `changed` feeds get a new version
                seed, changed = (int(part) for part in self.path.split("/")[2:4])
                with lock:
                    counts[:] = [0] * feeds
                    for index in random.Random(seed).sample(range(feeds), changed):
                        versions[index] += 1
                self._send(200, b"ok", None)
                return
            if self.path == "/counts":
                with lock:
                    body = json.dumps(counts).encode()
                self._send(200, body, None)
                return
            index = int(self.path.rsplit("/", 1)[1].split(".")[0])
            with lock:
                counts[index] += 1
            time.sleep(latency)
            etag = f'"{index}-{versions[index]}"'
            if self.headers.get("If-None-Match") == etag:
                self._send(304, b"", etag)
            else:
                self._send(200, feed_body(index, versions[index]), etag)

        def _send(self, status: int, body: bytes, etag: str | None) -> None:
            self.send_response(status)
            if etag:
                self.send_header("ETag", etag)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    class Server(ThreadingHTTPServer):
        daemon_threads = True

        def handle_error(self, request: Any, client_address: Any) -> None:
            pass  # a SIGKILLed worker's connections reset: expected here

        request_queue_size = 1024

    server = Server(("127.0.0.1", 0), Handler)
    port_out.put(server.server_address[1])
    threading.Thread(target=server.serve_forever, daemon=True).start()
    threading.Event().wait()


def naive(base: str, feeds: int) -> float:
    """The baseline: fetch and parse every feed in turn, no caching."""
    started = time.perf_counter()
    for index in range(feeds):
        feedparser.parse(f"{base}/feed/{index}.xml")
    return time.perf_counter() - started


def parse_cpu(changed: list[int], feeds: int) -> float:
    """CPU time to read the changed feeds with our reader (part of the lower bound)."""
    spec = SourceSpec("x", "rss", "bench")
    started = time.process_time()
    for index in changed:
        rss.read(Document("u", feed_body(index, 1)), Context(spec, utcnow().date()))
    return time.process_time() - started


async def ours(base: str, feeds: int, concurrency: int, changed: int) -> tuple[float, float]:
    """Cycle 1 (fills caches), bump `changed` feeds, then the timed cycle 2. Returns both times."""
    engine, _ = fresh_engine()
    with engine.begin() as connection:
        connection.execute(insert(Lab), [{"slug": "bench", "name": "Bench Lab", "hf_orgs": ""}])
    specs = [SourceSpec(f"feed-{i}", "rss", "bench", options={"url": f"{base}/feed/{i}.xml"}) for i in range(feeds)]
    http = HttpPolicy(user_agent="SunsetClauseBench/1", allow_private_addresses=True)
    config = TrackerConfig(http=http, concurrency=concurrency)
    async with make_client(http, max_connections=concurrency) as client:
        tracker = Tracker(engine=engine, client=client, specs=specs, config=config, policy=Policy())
        now = utcnow()
        started = time.perf_counter()
        first = await tracker.run_cycle(now)
        first_time = time.perf_counter() - started
        assert all(source.status == "ok" for source in first.sources), "cycle 1 had failures"
        await client.get(f"{base}/round/7/{changed}")
        started = time.perf_counter()
        second = await tracker.run_cycle(now + timedelta(hours=7))
        second_time = time.perf_counter() - started
    statuses = [source.status for source in second.sources]
    assert statuses.count("ok") == changed and statuses.count("not_modified") == feeds - changed, statuses
    engine.dispose()
    return first_time, second_time


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--latency", type=float, default=50.0, help="added latency per request, ms")
    parser.add_argument("--changed", type=float, default=0.10, help="fraction of feeds changed between cycles")
    parser.add_argument("--concurrency", type=int, default=64)
    args = parser.parse_args()
    latency, changed = args.latency / 1000, round(args.feeds * args.changed)
    ports: Any = multiprocessing.Queue()
    server = multiprocessing.Process(target=serve, args=(ports, latency, args.feeds), daemon=True)
    server.start()
    base = f"http://127.0.0.1:{ports.get(timeout=30)}"
    try:
        print(f"{args.feeds} feeds, {args.latency:g} ms latency, {changed} changed, concurrency {args.concurrency}")
        naive_time = naive(base, args.feeds)
        print(f"naive (sequential feedparser.parse(url), no caching): {naive_time:8.2f} s")
        first_time, our_time = asyncio.run(ours(base, args.feeds, args.concurrency, changed))
        print(f"ours, cycle 1 (cold: every feed read and stored):     {first_time:8.2f} s")
        print(f"ours, cycle 2 ({changed} changed, the rest 304):         {our_time:8.2f} s")
        bound = args.feeds * latency / args.concurrency + parse_cpu(list(range(changed)), args.feeds)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"speed-up over naive: {naive_time / our_time:6.1f}x   (target >= 20x)")
        print(f"lower bound: {bound:.2f} s; ours / bound = {our_time / bound:.2f}   (target <= 2)")
        print(f"peak memory (max RSS of this process): {peak:.0f} MiB")
    finally:
        server.terminate()
        server.join()


if __name__ == "__main__":
    main()
