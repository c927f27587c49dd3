"""The board's events: what each model's record implies up to a date, each with a stable id (pure).

The same rules as the bot's alerts (`trackers.events.due_events`: openness changes, sunsets passed and
approaching), plus the model's release ("new model") and relicensings that leave the level unchanged. An id is
the event's identity in the bot's events table (subject, kind, key), so it never changes between builds.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from bot.present.messages import event_text
from trackers import events
from trackers.assess import Assessment
from trackers.openness import level_as_of

RELICENSED = "relicensed"
ID_PREFIX = "tag:sunset-clause.github.io,2026:event/"
KIND_WORDS = {
    events.SUNSET_PASSED: "sunset passed",
    events.SUNSET_APPROACHING: "sunset approaching",
    events.OPENED_AFTER_SUNSET: "opened after its sunset",
    events.OPENNESS_CHANGED: "openness changed",
    events.NEW_MODEL: "new model",
    RELICENSED: "relicensed",
}


@dataclass(frozen=True)
class BoardEvent:
    """One dated event about one model."""

    id: str
    kind: str
    on: date
    slug: str
    name: str
    lab: str
    text: str
    url: str | None


def model_events(assessment: Assessment, lab_name: str) -> list[BoardEvent]:
    """Every event a model's record implies up to the assessment's date, oldest first."""
    record, on = assessment.record, assessment.on
    found: list[BoardEvent] = []
    subject = f"model:{record.slug}"

    def add(kind: str, key: str, when: date, text: str, url: str | None) -> None:
        event_id = f"{ID_PREFIX}{subject}/{kind}/{key}"
        found.append(BoardEvent(event_id, kind, when, record.slug, record.name, record.lab, text, url))

    if record.first_release is not None and record.first_release.latest <= on:
        text = event_text(events.NEW_MODEL, {"name": record.name, "lab": lab_name})
        add(events.NEW_MODEL, "release", record.first_release.latest, text.replace("tracked", "released"), None)
    level_changes = set()
    for draft in events.due_events(record, assessment.policy, on):
        add(draft.kind, draft.key, draft.occurred_on, event_text(draft.kind, draft.payload), draft.payload.get("url"))
        if draft.kind == events.OPENNESS_CHANGED:
            level_changes.add(draft.occurred_on)
    for change in record.changes:
        if change.kind == RELICENSED and change.on <= on and change.on not in level_changes:
            licence = change.licence.raw if change.licence else "no licence stated"
            level = level_as_of(record, change.on).value
            text = f"{record.name} relicensed: {licence} ({level})."
            add(RELICENSED, change.on.isoformat(), change.on, text, change.source)
    return sorted(found, key=lambda event: (event.on, event.kind))


def newest_first(items: Iterable[BoardEvent], limit: int | None = None) -> list[BoardEvent]:
    """Events newest first (ties by id, so the order is stable), at most `limit`."""
    ordered = sorted(items, key=lambda event: (event.on, event.id), reverse=True)
    return ordered if limit is None else ordered[:limit]
