from datetime import date

import pytest

from trackers.records import PartialDate, Precision


@pytest.mark.parametrize(
    ("text", "precision", "earliest", "latest"),
    [
        ("2012", Precision.YEAR, date(2012, 1, 1), date(2012, 12, 31)),
        ("2012-09", Precision.MONTH, date(2012, 9, 1), date(2012, 9, 30)),
        ("2024-02", Precision.MONTH, date(2024, 2, 1), date(2024, 2, 29)),
        ("2016-03-09", Precision.DAY, date(2016, 3, 9), date(2016, 3, 9)),
    ],
)
def test_partial_dates_span_their_period(text, precision, earliest, latest):
    parsed = PartialDate.parse(text)
    assert parsed.precision is precision
    assert (parsed.earliest, parsed.latest) == (earliest, latest)
    assert str(parsed) == text


@pytest.mark.parametrize("text", ["", "12", "2012-13", "2012-02-30", "March 2012", "2012-9", "2012-09-01T00:00"])
def test_impossible_or_malformed_dates_are_rejected(text):
    with pytest.raises(ValueError, match=r"."):
        PartialDate.parse(text)
