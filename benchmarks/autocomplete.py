"""Autocomplete over 100,000 synthetic models: our in-memory name index (with its texts, as the CLI builds it, and
without them, as the bot keeps it: the names of the models answered read by id) vs a raw indexed SQL prefix query.

Run: uv run python -m benchmarks.autocomplete [models]
Both are measured in the same run on the same database; Discord's autocomplete deadline is 3 s, our target 100 ms.
"""

from __future__ import annotations

import random
import statistics
import sys
import time

from sqlalchemy import text
from sqlmodel import Session

from benchmarks.common import fresh_engine, synthetic_models
from bot.services.queries import load_name_index, search_names
from trackers.names import normalise_name

QUERIES = 400


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def size(index: object) -> str:
    """The index's buffers and arrays, MiB."""
    return f"{sum(sys.getsizeof(part) for part in vars(index).values()) / 2**20:.1f} MiB"


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    engine, _ = fresh_engine()
    started = time.perf_counter()
    names = synthetic_models(engine, count)
    print(f"{count:,} models inserted in {time.perf_counter() - started:.1f}s")
    rng = random.Random(7)
    queries = []
    for _ in range(QUERIES):
        name = rng.choice(names)
        kind = rng.random()
        if kind < 0.5:  # typing the start of a name
            queries.append(name[: rng.randint(1, 8)])
        elif kind < 0.8:  # a word from the middle
            queries.append(name.split()[rng.randint(1, 3)])
        else:  # a typo: two letters swapped
            i = rng.randint(0, len(name) - 3)
            queries.append(name[:i] + name[i + 1] + name[i] + name[i + 2 :])
    with Session(engine) as session:
        started = time.perf_counter()
        index = load_name_index(session)
        print(f"name index built in {time.perf_counter() - started:.2f}s ({len(index):,} models, {size(index)})")
        lean = load_name_index(session, texts=False)
        print(f"without its texts (the bot's): {size(lean)}")
    ours, bots, raw = [], [], []
    with engine.connect() as connection, Session(engine) as session:
        statement = text(
            "SELECT model.slug, alias.name FROM alias JOIN model ON model.id = alias.model_id "
            "WHERE alias.key >= :low AND alias.key < :high ORDER BY alias.key LIMIT 25"
        )
        for query in queries:
            started = time.perf_counter()
            choices = index.search(query, 25)
            ours.append((time.perf_counter() - started) * 1000)
            assert len(choices) <= 25
            started = time.perf_counter()
            assert search_names(session, lean, query, 25) == choices  # the same answers
            bots.append((time.perf_counter() - started) * 1000)
            key = normalise_name(query)
            started = time.perf_counter()
            connection.execute(statement, {"low": key, "high": key + "\uffff"}).all()
            raw.append((time.perf_counter() - started) * 1000)
    print(f"{QUERIES} queries (half prefixes, a third inner words, a fifth typos), 25 choices at most")
    for label, samples in (
        ("name index (prefix, substring, fuzzy)", ours),
        ("… without texts, names read by id", bots),
        ("raw SQL prefix (indexed alias.key)", raw),
    ):
        print(f"  {label:40} p50 {percentile(samples, 50):7.2f} ms  p99 {percentile(samples, 99):7.2f} ms")
    print(f"  ratio ours/raw: p50 {statistics.median(ours) / statistics.median(raw):.1f}x, "
          f"p99 {percentile(ours, 99) / percentile(raw, 99):.1f}x; target p99 < 100 ms: "
          f"{'met' if percentile(ours, 99) < 100 else 'MISSED'}")  # fmt: skip
    engine.dispose()


if __name__ == "__main__":
    main()
