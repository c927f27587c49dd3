"""Tracker workers on PostgreSQL: 1, 2 and 4 worker processes sharing N loopback feeds, then one SIGKILLed.

Each worker is its own process running `Tracker.run_cycle` in a loop (claims a batch of due sources with
`FOR UPDATE SKIP LOCKED`, polls them, stores them and releases the claims). For each worker count every
feed is made due once (5% of them changed, the rest answer 304) and the time until every source is
stored is measured; the loopback server counts the requests per feed, so a feed polled twice for one
due time, or never, is seen. Last, two workers share a round and one is SIGKILLed mid-cycle: its claims
must expire and the other worker must poll them (0 lost). Targets: 2 workers ≥ 1.7× the throughput of
one; 0 feeds polled twice per due time; 0 lost after the kill.

Needs a PostgreSQL server; a scratch database is created beside the one named and dropped at the end:
Run: uv run python -m benchmarks.workers --database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres
     uv run python -m benchmarks.workers --database-url … --feeds 500 --latency 50   (a quicker look)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.request import urlopen

from sqlalchemy import Engine, create_engine, insert, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from benchmarks.poll import serve
from db.engine import make_engine, normalise_url
from db.migrate import upgrade
from db.models import Lab, utcnow
from trackers.cycle import Tracker, TrackerConfig
from trackers.http import HttpPolicy, make_client
from trackers.sources import SourceSpec
from trackers.sunset import Policy

FORK = multiprocessing.get_context("fork")  # workers start without re-importing; they open their own engine


@dataclass(frozen=True)
class Setup:
    """What every worker needs."""

    database_url: str
    base: str
    feeds: int
    concurrency: int
    claim_seconds: float


def worker(setup: Setup, name: str, inbox: Any, active: Any, results: Any, ready: Any) -> None:
    """One long-running tracker worker process: for each round it is given, cycles until the round ends.

    Each cycle claims due sources a batch at a time until none is left; then, while the round lasts, the
    worker looks again every 0.1 s (as `sunset run` does every minute) for claims that expired.
    """

    async def rounds() -> None:
        specs = [
            SourceSpec(f"feed-{i}", "rss", "bench", options={"url": f"{setup.base}/feed/{i}.xml"})
            for i in range(setup.feeds)
        ]
        http = HttpPolicy(user_agent="SunsetClauseBench/1", allow_private_addresses=True)
        config = TrackerConfig(http=http, concurrency=setup.concurrency, claim_seconds=setup.claim_seconds)
        engine = make_engine(setup.database_url)
        async with make_client(http, max_connections=setup.concurrency) as client:
            tracker = Tracker(engine=engine, client=client, specs=specs, config=config, policy=Policy(), worker=name)
            ready.release()
            while (round_id := await asyncio.to_thread(inbox.get)) is not None:
                count, cpu = 0, time.process_time()
                while active.value == round_id:
                    report = await tracker.run_cycle(utcnow())
                    count += len(report.sources)
                    if not report.sources:
                        await asyncio.sleep(0.1)  # nothing due: the rest is claimed by others (or all is done)
                results.put((name, count, time.process_time() - cpu))
        engine.dispose()

    asyncio.run(rounds())


class Workers:
    """Tracker worker processes started once (warm, as in a running service) and given rounds to work."""

    def __init__(self, setup: Setup, count: int) -> None:
        self.names = [f"bench-{n}" for n in range(count)]
        self.inboxes = [FORK.Queue() for _ in self.names]
        self.active, self.results, ready = FORK.Value("i", 0), FORK.Queue(), FORK.Semaphore(0)
        self.processes = [
            FORK.Process(target=worker, args=(setup, name, inbox, self.active, self.results, ready), daemon=True)
            for name, inbox in zip(self.names, self.inboxes, strict=True)
        ]
        for process in self.processes:
            process.start()
        for _ in self.processes:
            if not ready.acquire(timeout=120):
                raise RuntimeError("a worker did not start")

    def close(self) -> None:
        """Tell the living workers to exit, and wait for them."""
        for process, inbox in zip(self.processes, self.inboxes, strict=True):
            if process.is_alive():
                inbox.put(None)
        for process in self.processes:
            process.join(timeout=60)


def server_get(base: str, path: str) -> bytes:
    """A GET to the loopback server's control paths."""
    with urlopen(f"{base}{path}", timeout=30) as answer:
        return bytes(answer.read())


def stored_since(engine: Engine, start: datetime) -> int:
    """How many sources have been polled and stored since `start`."""
    with engine.connect() as connection:
        query = text("SELECT count(*) FROM source WHERE last_attempt_at >= :start")
        return int(connection.execute(query, {"start": start}).scalar_one())


@dataclass(frozen=True)
class Round:
    """One due time's outcome."""

    workers: int
    seconds: float
    stored: int
    twice: list[int]
    never: list[int]
    per_worker: dict[str, tuple[int, float]]
    killed_claims: frozenset[int] = frozenset()

    @property
    def throughput(self) -> float:
        """Sources polled and stored per second."""
        return self.stored / self.seconds


def one_round(
    setup: Setup, engine: Engine, pool: Workers, workers: int, round_id: int, changed: int, kill_at: float | None = None
) -> Round:
    """Make every feed due, let `workers` workers poll until all are stored (SIGKILL the first at `kill_at`)."""
    with engine.begin() as connection:
        connection.execute(text("UPDATE source SET next_due_at = now() - interval '1 second'"))
    server_get(setup.base, f"/round/{round_id}/{changed}")
    start = utcnow()
    started = time.perf_counter()
    pool.active.value = round_id
    for inbox in pool.inboxes[:workers]:
        inbox.put(round_id)
    killed: frozenset[int] = frozenset()
    dead = False
    deadline = started + 600
    while (stored := stored_since(engine, start)) < setup.feeds and time.perf_counter() < deadline:
        if kill_at is not None and not dead:
            requested = sum(json.loads(server_get(setup.base, "/counts")))
            if requested >= kill_at * setup.feeds:
                os.kill(pool.processes[0].pid or 0, signal.SIGKILL)
                dead = True
                with engine.connect() as connection:
                    query = text("SELECT name FROM source WHERE claimed_by = :name")
                    held = connection.execute(query, {"name": pool.names[0]}).scalars()
                    killed = frozenset(int(name.split("-")[1]) for name in held)
        time.sleep(0.05)
    seconds = time.perf_counter() - started
    pool.active.value = 0
    per_worker = {}
    for _ in range(workers - dead):
        name, count, cpu = pool.results.get(timeout=120)
        per_worker[name] = (count, cpu)
    counts = json.loads(server_get(setup.base, "/counts"))
    twice = [index for index, count in enumerate(counts) if count > 1]
    never = [index for index, count in enumerate(counts) if count == 0]
    return Round(workers, seconds, stored, twice, never, per_worker, killed)


def shares(result: Round) -> str:
    """Each worker's sources and CPU time, e.g. '1000 in 2.1 s CPU, 1000 in 2.0 s CPU'."""
    return ", ".join(f"{count} in {cpu:.1f} s CPU" for count, cpu in sorted(result.per_worker.values()))


def report(rounds: list[Round]) -> None:
    """Print each worker count's time, throughput and ratio to one worker, and the sources polled twice."""
    base_rate = rounds[0].throughput
    for result in rounds:
        print(
            f"{result.workers} worker(s): {result.seconds:6.2f} s, {result.throughput:7.1f} sources/s, "
            f"{result.throughput / base_rate:4.2f}x {rounds[0].workers} worker(s); polled twice: "
            f"{len(result.twice)}, never: {len(result.never)}; per worker: {shares(result)}"
        )
    two = next((result for result in rounds if result.workers == 2), None)
    if two is not None and rounds[0].workers == 1:
        ratio = two.throughput / base_rate
        print(f"2 workers / 1 worker: {ratio:.2f}x   (target >= 1.7x: {'met' if ratio >= 1.7 else 'NOT met'})")
    twice = sum(len(result.twice) for result in rounds)
    print(f"sources polled twice for one due time: {twice}   (target 0)")


@contextmanager
def scratch_database(url: str) -> Iterator[str]:
    """A new database beside the one `url` names, dropped at the end; yields its URL."""
    admin = create_engine(normalise_url(url), isolation_level="AUTOCOMMIT", poolclass=NullPool)
    name = f"sunset_bench_workers_{os.getpid()}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(normalise_url(url)).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=os.environ.get("SUNSET_BENCH_DATABASE_URL"))
    parser.add_argument("--feeds", type=int, default=2000)
    parser.add_argument("--latency", type=float, default=100.0, help="added latency per request, ms")
    parser.add_argument("--changed", type=float, default=0.05, help="fraction of feeds changed per due time")
    parser.add_argument("--concurrency", type=int, default=16, help="fetches in flight per worker")
    parser.add_argument("--claim-seconds", type=float, default=5.0, help="how long an unrenewed claim lasts")
    parser.add_argument("--workers", default="1,2,4")
    args = parser.parse_args()
    if not args.database_url or make_url(normalise_url(args.database_url)).get_backend_name() != "postgresql":
        parser.error("--database-url (or SUNSET_BENCH_DATABASE_URL) must name a PostgreSQL database")
    ports: Any = FORK.Queue()
    server = FORK.Process(target=serve, args=(ports, args.latency / 1000, args.feeds), daemon=True)
    server.start()
    base = f"http://127.0.0.1:{ports.get(timeout=30)}"
    changed = round(args.feeds * args.changed)
    try:
        with scratch_database(args.database_url) as url:
            migrated = make_engine(url)
            upgrade(migrated)
            with migrated.begin() as connection:
                connection.execute(insert(Lab), [{"slug": "bench", "name": "Bench Lab", "hf_orgs": ""}])
            migrated.dispose()
            engine = create_engine(url, poolclass=NullPool)  # no pooled connection to hand down to forked workers
            setup = Setup(url, base, args.feeds, args.concurrency, args.claim_seconds)
            print(
                f"{args.feeds} feeds, {args.latency:g} ms latency, {changed} changed per due time, "
                f"concurrency {args.concurrency} per worker, claims last {args.claim_seconds:g} s unrenewed; "
                f"{os.cpu_count()} CPUs"
            )
            counts = [int(n) for n in args.workers.split(",")]
            pool = Workers(setup, max(counts))
            try:
                warm = one_round(setup, engine, pool, len(pool.names), 1, args.feeds)
                print(f"warm-up (every feed new, {len(pool.names)} workers): {warm.seconds:.2f} s")
                rounds = [one_round(setup, engine, pool, n, seed, changed) for seed, n in enumerate(counts, 2)]
                report(rounds)
                kill = one_round(setup, engine, pool, 2, 99, changed, kill_at=0.4)
            finally:
                pool.close()
            lost = args.feeds - kill.stored
            repeated = set(kill.twice)
            print(
                f"kill: 2 workers, one SIGKILLed after 40% of the requests, holding {len(kill.killed_claims)} claims; "
                f"all stored after {kill.seconds:.2f} s; lost: {lost}   (target 0); never requested: "
                f"{len(kill.never)}; polled again after the kill: {len(repeated)} (all among the dead worker's "
                f"claims: {repeated <= kill.killed_claims}); survivor: {shares(kill)}"
            )
            engine.dispose()
    finally:
        server.terminate()
        server.join()


if __name__ == "__main__":
    main()
