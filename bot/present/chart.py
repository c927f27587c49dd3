"""The release-year chart: models per year of first release, stacked by level, with the window line drawn.

Rendered with matplotlib's Agg canvas straight to PNG bytes (no display, no pyplot state).
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from datetime import date

LEVEL_COLOURS = {
    "L0": "#9e9e9e",
    "L1": "#f4a261",
    "L2": "#2a9d8f",
    "L3": "#264653",
    "L4": "#6a4c93",
}
LEVEL_LABELS = {
    "L0": "L0 closed",
    "L1": "L1 restricted",
    "L2": "L2 open weights",
    "L3": "L3 open source",
    "L4": "L4 open science",
}


def window_cutoff(on: date, window_years: int) -> float:
    """The fractional year before which a release is past its sunset on `on` (e.g. 2016.9)."""
    return on.year - window_years + (on.timetuple().tm_yday - 1) / 365


def release_chart_png(by_year_level: Mapping[int, Mapping[str, int]], *, window_years: int, on: date) -> bytes:
    """A PNG bar chart of models by release year, coloured by level, with the sunset window line."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    years = sorted(by_year_level)
    figure = Figure(figsize=(8, 4), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    bottoms = [0] * len(years)
    for level, colour in LEVEL_COLOURS.items():
        heights = [by_year_level[year].get(level, 0) for year in years]
        if any(heights):
            axes.bar(years, heights, bottom=bottoms, color=colour, label=LEVEL_LABELS[level], width=0.8)
            bottoms = [b + h for b, h in zip(bottoms, heights, strict=True)]
    cutoff = window_cutoff(on, window_years) - 0.5  # bars are centred on their year
    axes.axvline(cutoff, color="#d62828", linestyle="--", linewidth=1.5, label=f"{window_years}-year window")
    axes.set_xlabel("year of first release")
    axes.set_ylabel("models")
    axes.set_title(f"Models by release year and level — sunset line on {on.isoformat()}")
    axes.legend(loc="upper left", fontsize="small", frameon=False)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
