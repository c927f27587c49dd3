"""Building the Sunset Board at scale: a full build of N synthetic models, and a rebuild after one model changes.

Run: uv run python -m benchmarks.site                       # 1,000 and 100,000 models
     uv run python -m benchmarks.site --models 1000          # quicker
Prints, per size: the full build (read, render, write), a second full build over the same folder (nothing to
write), a rebuild by the long-running builder of `sunset run` after one model changed, files, the largest page,
and the ratio of the two sizes' full builds (targets: 1,000 models under 10 s; a one-model rebuild under 1 s).
"""

from __future__ import annotations

import argparse
import resource
import shutil
import time
from datetime import date

from sqlalchemy import insert
from sqlmodel import Session, select

from benchmarks.common import fresh_engine, synthetic_models
from bot.site.board import load_board
from bot.site.build import SiteBuilder
from bot.site.render import render_board
from bot.site.write import write_site
from db.models import Model, OpennessChange
from trackers.sunset import Policy

ON = date(2026, 11, 28)


def add_openness(engine, count: int) -> None:
    """Give every model a release state and every fifth an opening, so levels and timelines vary."""
    rows = []
    for n in range(count):
        rows.append({"model_id": n + 1, "kind": "release", "on": None, "access": "api" if n % 3 else "download",
                     "licence_raw": None if n % 3 else "MIT", "licence_spdx": None if n % 3 else "MIT",
                     "source_url": f"https://lab.example/{n}"})  # fmt: skip
        if n % 5 == 1:
            rows.append({"model_id": n + 1, "kind": "weights_released", "on": date(2020 + n % 6, 1 + n % 12, 1),
                         "access": "download", "licence_raw": "Apache License 2.0", "licence_spdx": "Apache-2.0",
                         "source_url": f"https://lab.example/{n}/weights"})  # fmt: skip
    with engine.begin() as connection:
        connection.execute(insert(OpennessChange), rows)


def measure(count: int) -> float:
    engine, folder = fresh_engine()
    synthetic_models(engine, count, labs=max(10, min(200, count // 50)))
    add_openness(engine, count)
    site, policy = folder / "site", Policy()
    with Session(engine) as session:
        started = time.perf_counter()
        board = load_board(session, policy, ON)
        read = time.perf_counter()
        files = render_board(board)
        rendered = time.perf_counter()
        report = write_site(files, site)
        written = time.perf_counter()
    full = written - started
    sizes = {path: len(content) for path, content in files.items() if path.endswith(".html")}
    largest = max(sizes, key=sizes.__getitem__)
    print(f"{count:>9,} models: full build {full:7.2f} s  (read {read - started:.2f}, render {rendered - read:.2f},"
          f" write {written - rendered:.2f}); {len(files):,} files ({report.written:,} written),"
          f" largest page {sizes[largest] / 1000:.0f} KB ({largest})")  # fmt: skip
    del files, board
    with Session(engine) as session:
        started = time.perf_counter()
        again = write_site(render_board(load_board(session, policy, ON)), site)
        print(f"{'':>9}   same again  {time.perf_counter() - started:7.2f} s  ({again.written} written)")
    builder = SiteBuilder(site)
    with Session(engine) as session:
        builder.build(session, policy=policy, on=ON)
        model = session.exec(select(Model).where(Model.slug == "m-7")).one()
        model.verified_on = date(2026, 11, 1)
        session.add(model)
        session.commit()
    with Session(engine) as session:
        rebuilt = builder.build(session, policy=policy, on=ON)
    print(f"{'':>9}   rebuild after one model changed (sunset run's builder): {rebuilt.seconds:.2f} s"
          f" ({rebuilt.write.written} files written)")  # fmt: skip
    engine.dispose()
    shutil.rmtree(folder, ignore_errors=True)
    return full


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="1000,100000", help="comma-separated sizes (default 1000,100000)")
    sizes = [int(size) for size in parser.parse_args().models.split(",")]
    fulls = [measure(size) for size in sizes]
    if len(sizes) > 1:
        ratio = fulls[-1] / fulls[0]
        print(f"{sizes[-1]:,} / {sizes[0]:,} models: full build {ratio:.0f}x the time for {sizes[-1] // sizes[0]}x"
              f" the models ({ratio / (sizes[-1] / sizes[0]):.2f} per model)")  # fmt: skip
    print(f"targets: 1,000 models under 10 s: {'met' if sizes[0] != 1000 or fulls[0] < 10 else 'NOT met'}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory (max RSS of this process): {peak:.0f} MiB")


if __name__ == "__main__":
    main()
