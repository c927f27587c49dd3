"""Responsiveness: `/model status AlphaGo` through the real discord.py client and the loopback stand-in for
Discord, N calls while the tracker role polls M sources — half answer after 5 s (loopback), half have
names whose lookup hangs for 10 s and fails (benchmarks/slow_dns, a resolver that does not answer) —
against the same calls with no cycle — both in one run, each phase on a fresh SQLite file with the bundled
catalog (or all on the database `--database-url` names).

Each phase starts `sunset run`'s bot role in this process (the stand-in shares its event loop, as a
Discord client's server would not — which only makes the figures pessimistic) and the tracker role in its
child process, sends the calls one after another, and prints the time to Discord's first response (the
3-second deadline applies to it) and to the answer itself (the followup after the deferral): p50, p99, max.
Targets with the cycle: answer p99 < 250 ms, max < 1 s. `--in-process` adds a third phase with the
trackers on the bot's own event loop and threads (the arrangement before the roles), for comparison.

Run: uv run python -m benchmarks.responsiveness                    (200 calls, 200 sources)
     uv run python -m benchmarks.responsiveness --calls 50 --in-process
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import io
import logging
import os
import statistics
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from bot.runtime.app import open_app
from bot.runtime.config import load_settings
from bot.runtime.runner import TrackerProcess, run, tracker_command
from tests.bot.discord.standin import StandIn, embed_text
from tests.bot.unresponsive import serve_unresponsive, sources_toml, unresponsive_hits
from tests.trackers.server import LoopbackServer

MODEL = "AlphaGo"
DEADLINE = 3.0
WARMUP_CALLS = 20
SETTLE_SECONDS = 5.0  # after the warm-up: the tracker process's start-up and first catalog poll are done
SLOW_DNS = Path(__file__).parent / "slow_dns"


@dataclass(frozen=True)
class Phase:
    """The latencies of one phase, in seconds."""

    name: str
    first: list[float]  # to Discord's first response (the deferral)
    answer: list[float]  # to the answer (the followup with the embed)
    expired: int
    hits_before: int
    hits_after: int


def percentile(values: list[float], fraction: float) -> float:
    """The value below which `fraction` of the values fall (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


def write_config(folder: Path, database_url: str, sources: str) -> Path:
    """The bundled catalog plus `sources`, loopback allowed, only these sources."""
    path = folder / "config.toml"
    path.write_text(
        f'[database]\nurl = "{database_url}"\n\n[trackers]\nreplace_default_sources = true\n'
        'allow_private_addresses = true\nuser_agent = "SunsetClauseBench/1 (+https://example.invalid/bench)"\n\n'
        f'[[sources]]\nname = "catalog"\nkind = "catalog"\n\n{sources}'
    )
    return path


async def phase(name: str, config: Path, calls: int, server: LoopbackServer, *, child: bool, busy: bool) -> Phase:
    """Start the bot (and the tracker role), send the calls, stop; the latencies."""
    fake = StandIn(deadline=DEADLINE)
    await fake.start()
    settings = load_settings(config, env={"DISCORD_TOKEN": "test-token", "DISCORD_API_BASE": fake.base})
    stop = asyncio.Event()
    first: list[float] = []
    answer: list[float] = []
    hits_at_start = unresponsive_hits(server)
    with open_app(settings) as app:
        tracker = TrackerProcess(tracker_command(config), output=subprocess.DEVNULL) if child else None
        task = asyncio.create_task(run(app, Console(file=io.StringIO()), stop, tracker=tracker))
        try:
            await asyncio.wait_for(fake.identified.wait(), 60)
            await fake.wait_until(lambda: bool(fake.commands), within=60)
            if busy:  # until the cycle is polling the unresponsive sources
                deadline = time.monotonic() + 120
                while unresponsive_hits(server) - hits_at_start < settings.trackers.concurrency:
                    assert time.monotonic() < deadline, "the tracker role never polled the sources"
                    await asyncio.sleep(0.05)
            for _ in range(WARMUP_CALLS):  # the name index, connections, caches
                await fake.command("model status", name=MODEL)
            if not busy:
                await asyncio.sleep(SETTLE_SECONDS)
            hits_before = unresponsive_hits(server) - hits_at_start
            for _ in range(calls):
                payload = fake.interaction(2, fake.command_data(["model", "status"], {"name": MODEL}))
                started = time.monotonic()
                body = await fake.send_interaction(payload, within=30)
                if body.get("expired"):
                    continue
                token = payload["token"]
                await fake.wait_until(lambda token=token: bool(fake.followups.get(token)), within=30)
                answer.append(time.monotonic() - started)
                first.append(fake.responded_at[int(payload["id"])] - started)
                assert MODEL in embed_text({"data": fake.followups[token][0].payload})
            hits_after = unresponsive_hits(server) - hits_at_start
        finally:
            stop.set()
            await asyncio.wait_for(task, 120)
    await fake.stop()
    return Phase(name, first, answer, len(fake.expired), hits_before, hits_after)


def report(phases: list[Phase], sources: int) -> None:
    """One line per phase, then the verdict on the targets."""
    base = phases[0]
    print(f"{'phase':<36} {'calls':>5} {'expired':>7}  first p50/p99/max (ms)    answer p50/p99/max (ms)   p99 ÷ base")
    for result in phases:
        first = [1000 * value for value in result.first] or [float("nan")]
        answer = [1000 * value for value in result.answer] or [float("nan")]
        ratio = percentile(answer, 0.99) / percentile([1000 * v for v in base.answer], 0.99)
        print(
            f"{result.name:<36} {len(result.answer):>5} {result.expired:>7}  "
            f"{statistics.median(first):6.1f} {percentile(first, 0.99):6.1f} {max(first):7.1f}     "
            f"{statistics.median(answer):6.1f} {percentile(answer, 0.99):6.1f} {max(answer):7.1f}     {ratio:5.2f}×"
        )
        if result.hits_before:
            print(
                f"  the cycle was in flight: {result.hits_before} → {result.hits_after} of {sources} "
                "unresponsive sources requested during the calls"
            )
    busy = phases[1]
    p99, worst = percentile(busy.answer, 0.99), max(busy.answer)
    verdict = "met" if busy.expired == 0 and p99 < 0.25 and worst < 1.0 else "NOT met"
    print(f"target (with the cycle, trackers in their own process): p99 < 250 ms, max < 1 s — {verdict}")


async def main(calls: int, sources: int, database_url: str | None, in_process: bool) -> None:
    logging.basicConfig(level=logging.ERROR)
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SLOW_DNS), os.environ.get("PYTHONPATH")]))
    importlib.import_module("benchmarks.slow_dns.sitecustomize")  # this process too (the in-process phase)
    with tempfile.TemporaryDirectory() as folder, LoopbackServer() as server:
        slow = serve_unresponsive(server, sources)[::2]  # the ones that answer after 5 s
        unresolvable = [f"http://feed-{n}.unresolvable.invalid/news.rss" for n in range(sources - len(slow))]
        urls = [url for pair in zip(slow, unresolvable, strict=False) for url in pair]  # polled in this order
        urls += slow[len(unresolvable) :] + unresolvable[len(slow) :]
        plan = [
            ("no cycle", "", True, False),
            (f"cycle over {sources} unresponsive sources", sources_toml(urls), True, True),
        ]
        if in_process:
            plan.append(("the same, trackers in the bot process", sources_toml(urls), False, True))
        results = []
        for number, (name, entries, child, busy) in enumerate(plan):
            place = Path(folder) / f"phase-{number}"
            place.mkdir()
            url = database_url or f"sqlite:///{place / 'sunset.sqlite3'}"
            config = write_config(place, url, entries)
            results.append(await phase(name, config, calls, server, child=child, busy=busy))
    report(results, sources)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--sources", type=int, default=200)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    parser.add_argument("--in-process", action="store_true", help="also measure with the trackers in the bot process")
    arguments = parser.parse_args()
    asyncio.run(main(arguments.calls, arguments.sources, arguments.database_url, arguments.in_process))
