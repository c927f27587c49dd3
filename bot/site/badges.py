"""Badges for READMEs and model cards: "sunset | overdue 10 months", "sunset | open weights" (pure)."""

from __future__ import annotations

from dataclasses import dataclass

from trackers.assess import Assessment
from trackers.sunset import Status

COLOURS = {  # dark enough for white text at 4.5:1 (WCAG AA)
    Status.OVERDUE: "#b3261e",
    Status.DUE_SOON: "#8a4b00",
    Status.IN_WINDOW: "#2f5f7f",
    Status.OPEN: "#1e6b52",
    Status.UNKNOWN: "#5c5c5c",
}
LABEL = "sunset"
CHAR_WIDTH = 6.6  # average advance of 11px Verdana-like text; the badge stays readable if a font is wider
PADDING = 10


@dataclass(frozen=True)
class Badge:
    """What a badge says and how wide each half is."""

    label: str
    message: str
    colour: str

    @property
    def label_width(self) -> int:
        """Width of the left half in pixels."""
        return round(len(self.label) * CHAR_WIDTH) + PADDING

    @property
    def message_width(self) -> int:
        """Width of the right half in pixels."""
        return round(len(self.message) * CHAR_WIDTH) + PADDING


def badge_for(assessment: Assessment) -> Badge:
    """The badge of a model as judged in `assessment`."""
    verdict, level = assessment.verdict, assessment.level
    status = verdict.status
    if status is Status.OPEN:
        message = level.label if level.rank >= 2 else "open"
    elif status is Status.OVERDUE:
        message = verdict.summary.replace("overdue by", "overdue").split(" — ")[0]
    elif status is Status.UNKNOWN:
        message = "release date unknown"
    elif verdict.sunset_date is not None:
        message = f"{verdict.summary.replace('sunset in', 'due in')} ({verdict.sunset_date.year})"
    else:
        message = status.value
    return Badge(LABEL, message, COLOURS[status])
