"""Pure pieces of the board: the release-year chart's geometry and the badge's words."""

from datetime import date

from bot.site.badges import badge_for
from bot.site.render import release_chart
from tests.helpers import APACHE, change, record
from trackers.assess import assess
from trackers.records import Access
from trackers.sunset import Policy


def test_the_chart_has_every_year_on_its_axis_so_the_window_line_falls_where_it_should():
    chart = release_chart({2010: {"L0": 1}, 2013: {"L2": 2}}, window_years=10, on=date(2021, 1, 1))
    assert [bar.x for bar in chart.bars] == [30, 30 + 3 * 18]  # 2011 and 2012 are empty but keep their place
    assert chart.window_x == 30 + 18  # the sunset cut-off on 2021-01-01 is the start of 2011
    assert [year for _, year in chart.years] == [2010, 2013]


def test_badges_say_overdue_due_or_open():
    policy, on = Policy(), date(2026, 11, 28)
    assert badge_for(assess(record("2016-01-27"), policy, on)).message == "overdue 10 months"
    opened = record("2016-01-27", changes=(change("2020-01-01", access=Access.DOWNLOAD, licence=APACHE),))
    assert badge_for(assess(opened, policy, on)).message == "open weights"
    assert badge_for(assess(record("2020-06-11"), policy, on)).message == "due in 3 years (2030)"
    assert badge_for(assess(record(None), policy, on)).message == "release date unknown"
