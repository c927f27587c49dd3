"""iCalendar files of sunset dates (icalendar): one all-day event per model that is not yet open."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta

from icalendar import Calendar, Event

from bot.site.paths import model_page
from trackers.assess import Assessment


def sunset_calendar(assessments: Iterable[Assessment], *, name: str, root: str, lab_names: dict[str, str]) -> bytes:
    """A calendar with each not-open model's sunset date as an all-day event (UID stable per model and policy)."""
    calendar = Calendar()
    calendar.add("prodid", "-//Sunset Clause//Sunset Board//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", name)
    for assessment in sorted(assessments, key=lambda a: (a.verdict.sunset_date or date.max, a.record.slug)):
        verdict, record, policy = assessment.verdict, assessment.record, assessment.policy
        if verdict.sunset_date is None or verdict.meets_requirement:
            continue
        lab = lab_names.get(record.lab, record.lab)
        event = Event()
        event.add("uid", f"sunset-{record.slug}-w{policy.window_years}-{policy.profile.value}@sunset-clause")
        # DTSTAMP is required (RFC 5545 §3.6.1); the build date keeps a day's builds identical.
        event.add("dtstamp", datetime.combine(assessment.on, datetime.min.time(), tzinfo=UTC))
        event.add("dtstart", verdict.sunset_date)
        event.add("dtend", verdict.sunset_date + timedelta(days=1))
        event.add("summary", f"Sunset: {record.name} ({lab})")
        event.add(
            "description",
            f"{record.name} reaches its {policy.window_years}-year sunset ({policy.profile.value} profile) "
            f"on this day. On {assessment.on}: {verdict.summary}.",
        )
        event.add("url", f"{root}{model_page(record.slug)}")
        event.add("transp", "TRANSPARENT")
        calendar.add_component(event)
    return bytes(calendar.to_ical())
