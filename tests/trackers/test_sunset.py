from datetime import date

import pytest

from trackers.records import Level, PartialDate
from trackers.sunset import Policy, Profile, Status, evaluate, sunset_date

ALPHAGO_RELEASE = PartialDate.parse("2016-03-09")
WEIGHTS = Policy()
STRICT = Policy(profile=Profile.STRICT)


@pytest.mark.parametrize(
    ("level", "release", "policy", "on", "status", "days"),
    [
        (Level.L0, "2012-09-30", WEIGHTS, date(2026, 11, 28), Status.OVERDUE, 1520),
        (Level.L0, "2016-03-09", WEIGHTS, date(2026, 3, 9), Status.DUE_SOON, 0),  # on the day: not yet overdue
        (Level.L0, "2016-03-09", WEIGHTS, date(2026, 3, 10), Status.OVERDUE, 1),
        (Level.L0, "2016-03-09", WEIGHTS, date(2025, 3, 9), Status.DUE_SOON, 365),
        (Level.L0, "2016-03-09", WEIGHTS, date(2025, 3, 8), Status.IN_WINDOW, 366),
        (Level.L0, "2016-03-09", Policy(window_years=15), date(2026, 11, 28), Status.IN_WINDOW, 1562),
        (Level.L1, "2012-01-01", WEIGHTS, date(2026, 1, 1), Status.OVERDUE, 1461),
        (Level.L2, "2012-01-01", WEIGHTS, date(2026, 1, 1), Status.OPEN, None),
        (Level.L2, "2012-01-01", STRICT, date(2026, 1, 1), Status.OVERDUE, 1461),
        (Level.L3, "2012-01-01", STRICT, date(2026, 1, 1), Status.OPEN, None),
        (Level.L2, "2025-01-01", WEIGHTS, date(2026, 1, 1), Status.OPEN, None),
        (Level.L0, None, WEIGHTS, date(2026, 1, 1), Status.UNKNOWN, None),
        (Level.L2, None, WEIGHTS, date(2026, 1, 1), Status.OPEN, None),
    ],
)
def test_status_on_a_date(level, release, policy, on, status, days):
    verdict = evaluate(level, PartialDate.parse(release) if release else None, policy, on)
    assert verdict.status is status
    if status is Status.OVERDUE:
        assert verdict.overdue_days == days
    elif status in {Status.DUE_SOON, Status.IN_WINDOW}:
        assert verdict.days_to_sunset == days


@pytest.mark.parametrize(
    ("release", "window", "expected"),
    [
        ("2016-03-09", 10, date(2026, 3, 9)),
        ("2016-03", 10, date(2026, 3, 31)),  # a month counts from its last day
        ("2016", 10, date(2026, 12, 31)),  # a year counts from its last day: never claimed early
        ("2016-02-29", 10, date(2026, 3, 1)),
        ("2016-02", 15, date(2031, 3, 1)),  # ends on a leap day; 2031 has none
    ],
)
def test_sunset_date_counts_from_the_end_of_the_known_period(release, window, expected):
    assert sunset_date(PartialDate.parse(release), window) == expected


def test_restricted_weights_past_sunset_are_overdue_and_described_as_such():
    verdict = evaluate(Level.L1, PartialDate.parse("2013"), WEIGHTS, date(2026, 11, 28))
    assert verdict.status is Status.OVERDUE
    assert "weights out, licence still restrictive" in verdict.summary


@pytest.mark.parametrize("window", [9, 16, 0, -10])
def test_windows_outside_ten_to_fifteen_years_are_refused(window):
    with pytest.raises(ValueError, match="10–15"):
        Policy(window_years=window)


@pytest.mark.parametrize("window", [10, 12, 15])
def test_windows_inside_the_bounds_are_accepted(window):
    assert Policy(window_years=window).window_years == window
