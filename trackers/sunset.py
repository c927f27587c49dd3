"""The sunset policy: a model's status on a date for a window and requirement profile. Pure."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from trackers.records import Level, PartialDate

WINDOW_MIN, WINDOW_MAX = 10, 15
DEFAULT_LEAD_DAYS = (365, 90, 30, 7)


class Profile(StrEnum):
    """What "opened" means: open weights (L2) or open source (L3)."""

    WEIGHTS = "weights"
    STRICT = "strict"

    @property
    def required_level(self) -> Level:
        """The lowest level that counts as opened under this profile."""
        return Level.L2 if self is Profile.WEIGHTS else Level.L3


class Status(StrEnum):
    """Where a model stands against its sunset."""

    OPEN = "open"
    IN_WINDOW = "in_window"
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Policy:
    """The window, the requirement profile and the warning lead days."""

    window_years: int = 10
    profile: Profile = Profile.WEIGHTS
    lead_days: tuple[int, ...] = DEFAULT_LEAD_DAYS

    def __post_init__(self) -> None:
        if not WINDOW_MIN <= self.window_years <= WINDOW_MAX:
            raise ValueError(f"window_years must be {WINDOW_MIN}–{WINDOW_MAX}, got {self.window_years}")
        if not self.lead_days or any(day <= 0 for day in self.lead_days):
            raise ValueError("lead_days must be positive whole days")

    @property
    def lead_time(self) -> int:
        """Days before a sunset when a model counts as due soon."""
        return max(self.lead_days)


@dataclass(frozen=True)
class Verdict:
    """A model's status on a date and the numbers behind it."""

    status: Status
    sunset_date: date | None
    meets_requirement: bool
    overdue_days: int | None = None
    days_to_sunset: int | None = None
    restricted_weights: bool = False

    @property
    def summary(self) -> str:
        """The status in words, as users read it."""
        if self.status is Status.OPEN:
            return "open"
        if self.status is Status.UNKNOWN:
            return "release date unknown"
        if self.status is Status.OVERDUE:
            text = f"overdue by {describe_days(self.overdue_days or 0)}"
            return f"{text} — weights out, licence still restrictive" if self.restricted_weights else text
        if not self.days_to_sunset:
            return "sunset today"
        return f"sunset in {describe_days(self.days_to_sunset)}"


def sunset_date(first_release: PartialDate, window_years: int) -> date:
    """First release + window, counted from the last day the release date could mean (never early)."""
    return sunset_after(first_release.latest, window_years)


def sunset_after(latest: date, window_years: int) -> date:
    """The sunset of a model whose release date means at the latest `latest`."""
    year = latest.year + window_years
    if latest.month == 2 and latest.day == 29:
        return date(year, 3, 1)  # a leap-day release is not a year older until 1 March
    return latest.replace(year=year)


def release_cutoff(target: date, window_years: int) -> date:
    """The earliest latest-release day whose sunset falls on or after `target`.

    The sunset grows with the release day, so "sunset before `target`" is "latest release before this day":
    how queries turn any window's status into a range over the stored release day.
    """
    guess = date(target.year - window_years, target.month, min(target.day, 28))
    while sunset_after(guess - timedelta(days=1), window_years) >= target:
        guess -= timedelta(days=1)
    while sunset_after(guess, window_years) < target:
        guess += timedelta(days=1)
    return guess


@functools.lru_cache(maxsize=65_536)  # a million models share a few thousand release dates
def evaluate(level: Level, first_release: PartialDate | None, policy: Policy, on: date) -> Verdict:
    """A model's status on a date, given its level on that date."""
    meets = level.rank >= policy.profile.required_level.rank
    if first_release is None:
        return Verdict(Status.OPEN if meets else Status.UNKNOWN, None, meets)
    sunset = sunset_date(first_release, policy.window_years)
    days_left = (sunset - on).days
    if meets:
        return Verdict(Status.OPEN, sunset, meets)
    restricted = level is Level.L1
    if days_left < 0:
        return Verdict(Status.OVERDUE, sunset, meets, overdue_days=-days_left, restricted_weights=restricted)
    status = Status.DUE_SOON if days_left <= policy.lead_time else Status.IN_WINDOW
    return Verdict(status, sunset, meets, days_to_sunset=days_left, restricted_weights=restricted)


def describe_days(days: int) -> str:
    """A duration in the largest sensible unit: '3 years', '5 months', '12 days'."""
    if days >= 365:
        years = days // 365
        return f"{years} year{'s' * (years != 1)}"
    if days >= 60:
        months = days // 30
        return f"{months} months"
    return f"{days} day{'s' * (days != 1)}"
