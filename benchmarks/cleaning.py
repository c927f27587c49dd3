"""Cleaning hostile feed text: our linear scanner (`trackers.htmltext`) vs the tag pattern it replaced.

Run: uv run python -m benchmarks.cleaning [max_bytes]
Each shape of text is cleaned at 100 KB, 1 MB and 10 MB (or up to max_bytes) by ours; the old
`<[^>]+>` substitution is measured in the same run from 25 KB, doubling while its next run would stay
under ~10 s. Growth is the time per byte at the largest size over the time per byte at the smallest:
1 is linear; quadratic time gives the ratio of the sizes (16 from 25 KB to 400 KB).
"""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Callable

from trackers.htmltext import html_to_text

OLD_TAGS = re.compile(r"<[^>]+>")
OLD_SPACE = re.compile(r"\s+")
OLD_BUDGET = 10.0  # seconds: the old pattern never runs longer than about this

SHAPES = {
    "only '<'": "<",
    "prose 'a < b '": "a < b ",
    "unclosed tags '<a'": "<a",
    "unclosed quotes '<a title=\"'": '<a title="',
    "dense tags '<p>x'": "<p>x",  # our slowest per byte: one loop turn per tag
    "ordinary HTML": '<p>Introducing <a href="https://x.example/n">Nimbus 9</a> &amp; friends.</p>\n',
}


def old_clean(text: str) -> str:
    """What trackers/feeds.py did before: every tag to a space, then white space collapsed."""
    return OLD_SPACE.sub(" ", OLD_TAGS.sub(" ", text)).strip()


def timed(clean: Callable[[str], str], text: str) -> float:
    started = time.perf_counter()
    clean(text)
    return time.perf_counter() - started


def sample(unit: str, size: int) -> str:
    return (unit * (size // len(unit) + 1))[:size]


def growth(points: list[tuple[int, float]]) -> float:
    (small, small_time), (large, large_time) = points[0], points[-1]
    return (large_time / large) / (small_time / small) if small_time > 0 else float("nan")


def main() -> None:
    largest = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000_000
    sizes = [size for size in (100_000, 1_000_000, 10_000_000) if size <= largest]
    for label, unit in SHAPES.items():
        ours = [(size, timed(html_to_text, sample(unit, size))) for size in sizes]
        old: list[tuple[int, float]] = []
        size = 25_000
        while size <= largest:
            old.append((size, timed(old_clean, sample(unit, size))))
            if old[-1][1] * 4 > OLD_BUDGET:  # the next doubling could take 4× as long
                break
            size *= 2
        print(f"{label}")
        print("  ours: " + ",  ".join(f"{n / 1e6:g} MB {t:.3f}s" for n, t in ours) + f"   growth {growth(ours):.2f}")
        print("  old:  " + ",  ".join(f"{n / 1e3:g} KB {t:.3f}s" for n, t in old) + f"   growth {growth(old):.1f}")
        old_at = dict(old).get(sizes[0])
        if old_at is not None:
            print(f"  at {sizes[0] / 1e3:g} KB: old / ours = {old_at / ours[0][1]:,.1f}x")


if __name__ == "__main__":
    main()
