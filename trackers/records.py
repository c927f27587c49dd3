"""Small immutable records that cross layers: dates with precision, licences, openness states."""

from __future__ import annotations

import calendar
import functools
import re
from dataclasses import dataclass, field, replace
from datetime import date
from enum import StrEnum


class Precision(StrEnum):
    """How much of a date is known."""

    YEAR = "year"
    MONTH = "month"
    DAY = "day"


_PARTIAL_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")


@functools.lru_cache(maxsize=65_536)  # a million models share a few thousand release dates
def _parse_partial_date(text: str) -> PartialDate:
    match = _PARTIAL_DATE.match(text.strip())
    if not match:
        raise ValueError(f"not a date (want YYYY, YYYY-MM or YYYY-MM-DD): {text!r}")
    year, month, day = (int(part) if part else None for part in match.groups())
    assert year is not None
    return PartialDate(year, month, day)


@dataclass(frozen=True, order=True)
class PartialDate:
    """A date known to the year, month or day (`2012`, `2012-09`, `2012-09-30`)."""

    year: int
    month: int | None = None
    day: int | None = None

    def __post_init__(self) -> None:
        if self.day is not None and self.month is None:
            raise ValueError("a day needs a month")
        date(self.year, self.month or 1, self.day or 1)  # raises ValueError when impossible

    @classmethod
    def parse(cls, text: str | date) -> PartialDate:
        """Parse `YYYY`, `YYYY-MM` or `YYYY-MM-DD` (or a `date`)."""
        if isinstance(text, date):
            return cls(text.year, text.month, text.day)
        return _parse_partial_date(text)

    @property
    def precision(self) -> Precision:
        """The most precise part known."""
        if self.day is not None:
            return Precision.DAY
        return Precision.MONTH if self.month is not None else Precision.YEAR

    @functools.cached_property  # parsed dates are shared (`_parse_partial_date`): computed once each
    def earliest(self) -> date:
        """The first day this date could mean."""
        return date(self.year, self.month or 1, self.day or 1)

    @functools.cached_property
    def latest(self) -> date:
        """The last day this date could mean: rules count from here so nothing is claimed early."""
        if self.day is not None:
            return date(self.year, self.month or 1, self.day)
        if self.month is not None:
            return date(self.year, self.month, calendar.monthrange(self.year, self.month)[1])
        return date(self.year, 12, 31)

    def __str__(self) -> str:
        if self.day is not None:
            return f"{self.year:04d}-{self.month:02d}-{self.day:02d}"
        if self.month is not None:
            return f"{self.year:04d}-{self.month:02d}"
        return f"{self.year:04d}"


class Access(StrEnum):
    """How the weights (or the model) can be reached."""

    UNRELEASED = "unreleased"
    HOSTED = "hosted"
    API = "api"
    RETIRED = "retired"
    ON_REQUEST = "on_request"
    GATED = "gated"
    DOWNLOAD = "download"

    @property
    def weights_available(self) -> bool:
        """Official weights can be obtained (leaks never count)."""
        return self in {Access.ON_REQUEST, Access.GATED, Access.DOWNLOAD}


class TrainingCode(StrEnum):
    """How much of the training code is published."""

    OPEN = "open"
    PARTIAL = "partial"
    CLOSED = "closed"


class TrainingData(StrEnum):
    """How much is known of the training data, best first."""

    OPEN = "open"
    OBTAINABLE = "obtainable"
    DESCRIBED = "described"
    VAGUE = "vague"
    UNDISCLOSED = "undisclosed"


TRAINING_CODE_RANK = {TrainingCode.CLOSED: 0, TrainingCode.PARTIAL: 1, TrainingCode.OPEN: 2}
TRAINING_DATA_RANK = {
    TrainingData.UNDISCLOSED: 0,
    TrainingData.VAGUE: 1,
    TrainingData.DESCRIBED: 2,
    TrainingData.OBTAINABLE: 3,
    TrainingData.OPEN: 4,
}


class Tier(StrEnum):
    """Licence tiers: A open (OSI / open data), B custom open with restrictions, C non-commercial, D none/unknown."""

    A = "A"
    B = "B"
    C = "C"
    D = "D"


class Level(StrEnum):
    """Openness levels L0 (closed) to L4 (open science)."""

    L0 = "L0"
    L1 = "L1"
    L2 = "L2"
    L3 = "L3"
    L4 = "L4"

    @property
    def rank(self) -> int:
        """0 for L0 … 4 for L4."""
        return int(self.value[1])

    @property
    def label(self) -> str:
        """Human name of the level."""
        return LEVEL_LABELS[self]


LEVEL_LABELS = {
    Level.L0: "closed",
    Level.L1: "weights, restricted",
    Level.L2: "open weights",
    Level.L3: "open source",
    Level.L4: "open science",
}


@dataclass(frozen=True)
class Licence:
    """A weights licence as written (`raw`) plus its SPDX id where one exists."""

    raw: str
    spdx: str | None = None


@dataclass(frozen=True)
class OpennessState:
    """What is open about a model at one moment. `None` means unknown."""

    access: Access
    licence: Licence | None = None
    training_code: TrainingCode | None = None
    training_data: TrainingData | None = None
    checkpoints: bool | None = None
    paper: str | None = None


@dataclass(frozen=True)
class Change:
    """A dated change to a model's openness; fields left `None` keep their value."""

    on: date
    kind: str
    access: Access | None = None
    licence: Licence | None = None
    training_code: TrainingCode | None = None
    training_data: TrainingData | None = None
    checkpoints: bool | None = None
    paper: str | None = None
    source: str | None = None

    def apply(self, state: OpennessState) -> OpennessState:
        """The state after this change."""
        updates = {
            name: getattr(self, name)
            for name in ("access", "licence", "training_code", "training_data", "checkpoints", "paper")
            if getattr(self, name) is not None
        }
        return replace(state, **updates)


@dataclass(frozen=True)
class ModelRecord:
    """Everything the rubric and policy need about one model."""

    slug: str
    name: str
    lab: str
    first_release: PartialDate | None
    initial: OpennessState
    changes: tuple[Change, ...] = ()
    base: ModelRecord | None = None
    aliases: tuple[str, ...] = field(default=())
    verified: Verified | None = None
    notability: Notability | None = None


CRITERIA_WEIGHT = {"Historical significance": 3, "Highly cited": 2, "Significant use": 2}  # Epoch's others count 1


@dataclass(frozen=True)
class Notability:
    """Epoch's notability criteria for a model and the citations of its paper (for ordering lists)."""

    criteria: tuple[str, ...]
    citations: int | None

    @property
    def rank(self) -> tuple[int, int]:
        """Higher is more notable: weighted criteria first, then citations."""
        return (sum(CRITERIA_WEIGHT.get(c, 1) for c in self.criteria), self.citations or 0)


@dataclass(frozen=True)
class Verified:
    """When a model's whole history was last checked against its sources, and where."""

    on: date
    sources: tuple[str, ...]
