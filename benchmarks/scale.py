"""The read path at scale: status, the overdue list, stats, a `sunset list` page, a full evaluation and
`sunset run`'s memory, by size.

Run: uv run python -m benchmarks.scale [--sizes 1000,10000,100000,1000000] [--baseline-max 10000] [--no-run]

Each size is a fresh SQLite file with synthetic models across 200 labs (a third open weights under Apache-2.0,
a third restricted weights, a third API-only; releases spread over 2008–2025; one in twenty notable). It is
evaluated once (the start-up evaluation: every historical event stored silently, every assessment written),
then each query is timed from fresh sessions (the list page's peak Python allocations also traced). The
baseline, measured in the same run at the sizes up to --baseline-max, is the old path: every model loaded
and assessed in memory per request. At the largest size the real `sunset run` starts in console mode (only
the catalog source) against the database; its peak resident memory (VmHWM) is read once it says "Running.".
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import random
import shutil
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert
from sqlmodel import Session

from benchmarks.common import WORDS, fresh_engine
from bot.present.assessment import card_of as present_card
from bot.services import queries
from db.models import Alias, Lab, Model, OpennessChange, utcnow
from trackers.assess import Assessment, assess, released_by
from trackers.events import evaluate_all
from trackers.names import normalise_name
from trackers.store.models import Catalogue, load_catalogue
from trackers.sunset import Policy, Profile

ON = date(2026, 12, 5)
DEFAULT = Policy()
SERVER = Policy(window_years=15, profile=Profile.STRICT)  # a per-server policy: computed from stored facts
TARGETS = {"status p50": 0.020, "overdue page": 0.300, "stats": 1.0, "evaluation": 120.0}
BATCH = 50_000
LIST_PAGE = 20  # `sunset list --limit 20`


def build(engine: Engine, count: int, *, labs: int = 200, seed: int = 1, at: datetime | None = None) -> list[str]:
    """Insert `count` models with their names, aliases and release state in bulk (changed `at`, default now);
    returns the names."""
    rng = random.Random(seed)
    now = at or utcnow()
    names = []
    with engine.begin() as connection:
        connection.exec_driver_sql("PRAGMA synchronous = OFF")
        connection.execute(insert(Lab), [{"slug": f"lab-{n}", "name": f"Lab {n}", "hf_orgs": ""} for n in range(labs)])
        for start in range(0, count, BATCH):
            models, aliases, changes = [], [], []
            for n in range(start, min(count, start + BATCH)):
                name = f"{rng.choice(WORDS).title()} {rng.choice(WORDS).title()} {rng.randint(1, 999)}B v{n}"
                names.append(name)
                year = 2008 + n % 18
                release = rng.choice(
                    (f"{year}", f"{year}-{1 + n % 12:02d}", f"{year}-{1 + n % 12:02d}-{1 + n % 28:02d}")
                )
                notable = "Highly cited" if n % 20 == 0 else None
                models.append({"id": n + 1, "slug": f"m-{n}", "name": name, "lab_id": n % labs + 1,
                               "state": "confirmed", "origin": "catalog", "first_release": release,
                               "notability": notable, "citations": n % 997 if notable else None,
                               "created_at": now, "updated_at": now, "notable_order": 0})  # fmt: skip
                kind = n % 3
                access, licence = (("download", "Apache-2.0"), ("download", "Llama 2 Community License"),
                                   ("api", None))[kind]  # fmt: skip
                changes.append({"model_id": n + 1, "kind": "release", "access": access, "licence_raw": licence,
                                "licence_spdx": licence if kind == 0 else None, "origin": "catalog"})  # fmt: skip
                for alias, alias_kind in ((name, "name"), (f"m-{n}", "slug"), (f"{name.split()[0]}-{n}", "alias")):
                    aliases.append({"model_id": n + 1, "name": alias, "key": normalise_name(alias),
                                    "kind": alias_kind, "origin": "catalog"})  # fmt: skip
            connection.execute(insert(Model), models)
            connection.execute(insert(OpennessChange), changes)
            connection.execute(insert(Alias), aliases)
    return names


def timed(call: Callable[[], Any], repeat: int) -> list[float]:
    """Seconds per call."""
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        samples.append(time.perf_counter() - started)
    return samples


def in_session(engine: Engine, work: Callable[[Session], Any]) -> Callable[[], Any]:
    """A call that opens a fresh session, as each request does."""

    def call() -> Any:
        with Session(engine) as session:
            return work(session)

    return call


def old_status(session: Session, name: str) -> Any:
    """The old `model_card`: resolve, then load every model to assess one."""
    slug = queries.resolve_model(session, name)
    catalogue = load_catalogue(session)
    return assess(catalogue.records[slug], DEFAULT, ON)


def everything(session: Session) -> tuple[Catalogue, list[Assessment]]:
    """The old path's first step for lists and counts: every model loaded and assessed."""
    catalogue = load_catalogue(session)
    return catalogue, [assess(r, DEFAULT, ON) for r in catalogue.records.values() if released_by(r, ON)]


def old_overdue_page(session: Session) -> list[tuple[str, str]]:
    """The old first page of the overdue list."""
    catalogue, assessments = everything(session)
    return [(a.record.name, catalogue.lab_name(a.record)) for a in queries.overdue_of(assessments)[:10]]


def old_stats(session: Session) -> queries.Stats:
    """The old `stats`."""
    return queries.stats_of(everything(session)[1], DEFAULT, ON)


def old_list_page(session: Session) -> list[Any]:
    """The old `sunset list --limit 20`: every model loaded and assessed, sorted, the first 20 as cards."""
    catalogue, assessments = everything(session)
    chosen = sorted(assessments, key=lambda a: (queries.LIST_SORTS["notable"](a), a.record.slug))[:LIST_PAGE]
    return [
        present_card(a, lab_name=catalogue.lab_name(a.record), sources=catalogue.sources.get(a.record.slug, ()))
        for a in chosen
    ]


def list_page(session: Session) -> list[Any]:
    """`sunset list --limit 20`: read and assessed a batch at a time, the page kept."""
    return queries.model_list(session, DEFAULT, ON, limit=LIST_PAGE)


def traced_peak(call: Callable[[], Any]) -> float:
    """The peak of Python's allocations during one call, in MiB (tracemalloc: slower, but the peak is exact)."""
    tracemalloc.start()
    try:
        call()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def card_of(name: str) -> Callable[[Session], Any]:
    """`sunset status NAME` / `/model status`: the model card."""
    return lambda session: queries.model_card(session, name, DEFAULT, ON)


def old_card_of(name: str) -> Callable[[Session], Any]:
    """The same through the old path."""
    return lambda session: old_status(session, name)


def measure(count: int, *, baseline: bool) -> tuple[dict[str, float], dict[str, float], Path]:
    """Ours (and the old path's, when `baseline`) at one size; returns the figures and the database's folder."""
    engine, folder = fresh_engine()
    started = time.perf_counter()
    names = build(engine, count, at=utcnow() - timedelta(hours=1))  # imported earlier: no run sees a bulk change
    built = time.perf_counter() - started
    started = time.perf_counter()
    with Session(engine) as session:
        evaluate_all(session, DEFAULT, ON)
        session.commit()
    evaluation = time.perf_counter() - started
    rng = random.Random(3)
    picks = [rng.choice(names) for _ in range(50)]
    ours: dict[str, float] = {"build": built, "evaluation": evaluation}
    ours["status p50"] = statistics.median(
        sample for name in picks for sample in timed(in_session(engine, card_of(name)), 1)
    )
    ours["overdue page"] = statistics.median(
        timed(in_session(engine, lambda s: queries.overdue(s, DEFAULT, ON, limit=10)), 5)
    )
    ours["overdue page, server"] = statistics.median(
        timed(in_session(engine, lambda s: queries.overdue(s, SERVER, ON, limit=10)), 5)
    )
    ours["stats"] = statistics.median(timed(in_session(engine, lambda s: queries.stats(s, DEFAULT, ON)), 3))
    ours["stats, server"] = statistics.median(timed(in_session(engine, lambda s: queries.stats(s, SERVER, ON)), 3))
    ours["list page"] = statistics.median(timed(in_session(engine, list_page), 1))
    ours["list page MiB"] = traced_peak(in_session(engine, list_page))
    started = time.perf_counter()
    with Session(engine) as session:
        index = queries.load_name_index(session)
    ours["name index"] = time.perf_counter() - started
    ours["name index MiB"] = sum(sys.getsizeof(part) for part in vars(index).values()) / 2**20
    del index
    old: dict[str, float] = {}
    if baseline:
        old["status p50"] = statistics.median(
            sample for name in picks[:5] for sample in timed(in_session(engine, old_card_of(name)), 1)
        )
        old["overdue page"] = statistics.median(timed(in_session(engine, old_overdue_page), 1))
        old["stats"] = statistics.median(timed(in_session(engine, old_stats), 1))
        old["list page"] = statistics.median(timed(in_session(engine, old_list_page), 1))
        old["list page MiB"] = traced_peak(in_session(engine, old_list_page))
    engine.dispose()
    return ours, old, folder


def run_memory(folder: Path, *, discord: bool = False) -> tuple[float, float, float]:
    """Start the real `sunset run` (only the catalog source) on the database, in console mode or (`discord`) against
    the Discord stand-in: (seconds to "Running.", peak RSS MiB, RSS MiB then). In Discord mode "Running." comes
    after the login, which builds the autocomplete name index and syncs the commands."""
    return asyncio.run(_run_memory(folder, discord=discord))


async def _run_memory(folder: Path, *, discord: bool) -> tuple[float, float, float]:
    config = folder / "config.toml"
    config.write_text(
        f'[database]\nurl = "sqlite:///{folder / "bench.sqlite3"}"\n\n[trackers]\nreplace_default_sources = true\n\n'
        '[[sources]]\nname = "catalog"\nkind = "catalog"\n'
    )
    env = {k: v for k, v in os.environ.items() if k != "DISCORD_TOKEN"} | {"SUNSET_CONFIG": str(config)}
    standin = None
    if discord:
        from tests.bot.discord.standin import StandIn  # the stand-in the tests use (benchmarks.responsiveness too)

        standin = StandIn()
        env |= {"DISCORD_TOKEN": "test-token", "DISCORD_API_BASE": await standin.start()}
    started = time.perf_counter()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", env=env, stdout=asyncio.subprocess.PIPE
    )
    assert process.stdout is not None
    try:
        while line := await process.stdout.readline():
            if line.startswith(b"Running."):
                break
        ready = time.perf_counter() - started
        if standin is not None:
            await asyncio.wait_for(standin.synced.wait(), 60)
        peak, rss = _memory(process.pid)
        return ready, peak, rss
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), 60)
        if standin is not None:
            await standin.stop()


def _memory(pid: int) -> tuple[float, float]:
    """A process's peak and current resident memory, MiB (Linux's /proc)."""
    status = Path(f"/proc/{pid}/status").read_text()
    fields = {line.split(":")[0]: line.split()[1] for line in status.splitlines() if line.startswith("Vm")}
    return int(fields["VmHWM"]) / 1024, int(fields["VmRSS"]) / 1024


def _versus(key: str, old: float, ours: float) -> str:
    if key.endswith("MiB"):
        return f"{key.removesuffix(' MiB')} {old / ours:.0f}x less memory (old {old:.0f} MiB)"
    return f"{key} {old / ours:.0f}x faster (old {old * 1000:.0f} ms)"


def _shown(key: str, value: float) -> str:
    if key.endswith("MiB"):
        return f"{key.removesuffix(' MiB')} {value:.0f} MiB"
    return f"{key} {value * 1000:.1f} ms" if value < 1 else f"{key} {value:.2f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000,1000000", help="model counts, comma-separated")
    parser.add_argument("--baseline-max", type=int, default=10_000, help="largest size the old path is measured at")
    parser.add_argument("--no-run", action="store_true", help="skip `sunset run`'s memory at the largest size")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    results: list[tuple[int, dict[str, float], dict[str, float]]] = []
    folder = None
    for count in sizes:
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)  # a million models take a gigabyte
        ours, old, folder = measure(count, baseline=count <= args.baseline_max)
        results.append((count, ours, old))
        shown = "  ".join(_shown(key, value) for key, value in ours.items())
        print(f"{count:>9,} models: {shown}", flush=True)
        if old:
            ratios = "  ".join(_versus(key, old[key], ours[key]) for key in old)
            print(f"{'':>9}  vs the old load-everything path: {ratios}", flush=True)
    print("\ngrowth from size to size (ratio of each figure to the one at the size before):")
    for (small, before, _), (large, after, _) in itertools.pairwise(results):
        growth = "  ".join(f"{key} {after[key] / before[key]:.1f}x" for key in after if key != "build" and before[key])
        print(f"  {small:,} → {large:,}: {growth}")
    largest, ours, _ = results[-1]
    print(f"\ntargets at {largest:,} models:")
    for key, target in TARGETS.items():
        verdict = "met" if ours[key] < target else "NOT met"
        print(f"  {key:<14} {ours[key]:.3f} s (target < {target:g} s): {verdict}")
    if not args.no_run and folder is not None:
        for label, discord in (("sunset run", False), ("  with Discord", True)):
            ready, peak, rss = run_memory(folder, discord=discord)
            verdict = "met" if peak * 2**20 <= 300e6 else "NOT met"
            print(
                f"  {label:<14} ready in {ready:.1f} s, peak RSS {peak:.0f} MiB, then {rss:.0f} MiB"
                f" (target ≤ 300 MB): {verdict}",
                flush=True,
            )
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
