"""Events and evaluation marks: storing drafts once, the day of the last evaluation, the change scan's mark."""

from __future__ import annotations

import array
import bisect
import heapq
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import insert
from sqlalchemy import select as sql_select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel, col, func, select

from db.models import Event, Meta, Model, utcnow
from trackers.store.models import visible

EVENT_TABLE = SQLModel.metadata.tables["event"]
LAST_EVALUATION = "last_evaluation"
CHANGE_SCAN = "last_change_scan"
LOOKUP_CHUNK = 5_000  # values per IN (…): well under SQLite's 32,766 bound parameters
SCAN_OVERLAP = timedelta(minutes=5)  # a transaction committed late is still seen; evaluating twice is harmless


class Draft(Protocol):
    """What storing needs of an event draft (trackers.events.EventDraft)."""

    @property
    def subject(self) -> str:
        """The model slug (or other subject) the event is about."""
        ...

    @property
    def kind(self) -> str:
        """What happened (an event kind)."""
        ...

    @property
    def key(self) -> str:
        """What makes the event unique for its subject and kind."""
        ...

    @property
    def occurred_on(self) -> date:
        """The day it happened."""
        ...

    @property
    def payload(self) -> dict[str, Any]:
        """The facts an alert shows."""
        ...


def store_drafts(session: Session, drafts: Iterable[Draft], *, announce: Callable[[Draft], bool]) -> list[Event]:
    """Insert the drafts not stored yet (no commit); returns the new ones `announce` says to tell people about.

    Existing events are found with one query per call; silent ones are inserted in bulk, announced ones as
    rows (their ids go to the fan-out). A draft another process stored first is skipped: exactly once either way.
    """
    drafts = list({(d.subject, d.kind, d.key): d for d in drafts}.values())
    if not drafts:
        return []
    subjects = {draft.subject for draft in drafts}
    stored = set()
    for chunk in _chunks(sorted(subjects), LOOKUP_CHUNK):
        rows = session.exec(select(Event.subject, Event.kind, Event.key).where(col(Event.subject).in_(chunk))).all()
        stored |= {tuple(row) for row in rows}
    fresh = [draft for draft in drafts if (draft.subject, draft.kind, draft.key) not in stored]
    if not fresh:
        return []
    slugs = {d.subject.removeprefix("model:") for d in fresh if d.subject.startswith("model:")}
    model_ids: dict[str, int] = {}
    for chunk in _chunks(sorted(slugs), LOOKUP_CHUNK):
        model_ids |= {
            slug: id_
            for slug, id_ in session.exec(select(Model.slug, Model.id).where(col(Model.slug).in_(chunk))).all()
            if id_ is not None
        }

    now = utcnow()

    def row(draft: Draft, loud: bool) -> dict[str, Any]:
        slug = draft.subject.removeprefix("model:") if draft.subject.startswith("model:") else None
        return {
            "subject": draft.subject,
            "model_id": model_ids.get(slug) if slug else None,
            "kind": draft.kind,
            "key": draft.key,
            "occurred_on": draft.occurred_on,
            "payload": json.dumps(draft.payload, sort_keys=True),
            "announce": loud,
            "created_at": now,
        }

    loud = [draft for draft in fresh if announce(draft)]
    silent = [row(draft, False) for draft in fresh if not announce(draft)]
    if silent:
        try:
            with session.begin_nested():
                session.connection().execute(insert(EVENT_TABLE), silent)  # Core: no ORM work per row
        except IntegrityError:  # someone stored some of them meanwhile: one at a time, skipping those
            for values in silent:
                _insert_once(session, Event(**values))
    return [event for draft in loud if (event := _insert_once(session, Event(**row(draft, True)))) is not None]


def _insert_once(session: Session, event: Event) -> Event | None:
    try:
        with session.begin_nested():
            session.add(event)
    except IntegrityError:
        return None
    return event


def _chunks(items: Sequence[str], size: int) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def last_evaluation(session: Session) -> date | None:
    """The day of the last daily evaluation, or None before the first."""
    row = session.get(Meta, LAST_EVALUATION)
    return date.fromisoformat(row.value) if row else None


def mark_evaluated(session: Session, *, on: date) -> None:
    """Remember that the evaluation for `on` ran (the caller commits)."""
    row = session.get(Meta, LAST_EVALUATION) or Meta(key=LAST_EVALUATION, value=on.isoformat())
    row.value = on.isoformat()
    session.add(row)


@dataclass(frozen=True)
class ScanMark:
    """Where the previous change scan stopped: its time and the highest model id then."""

    at: datetime
    model_id: int


def advance_change_scan(session: Session, *, now: datetime) -> ScanMark | None:
    """Move the change scan's mark to `now` and the highest model id; returns the previous mark (None at first)."""
    row = session.get(Meta, CHANGE_SCAN) or Meta(key=CHANGE_SCAN, value="")
    previous = json.loads(row.value) if row.value else None
    newest = session.exec(select(func.max(Model.id))).one() or 0
    row.value = json.dumps({"at": now.isoformat(), "model_id": newest})
    session.add(row)
    return ScanMark(datetime.fromisoformat(previous["at"]), previous["model_id"]) if previous else None


def change_scan_mark(session: Session) -> ScanMark | None:
    """Where the last change scan stopped (None before the first)."""
    row = session.get(Meta, CHANGE_SCAN)
    mark = json.loads(row.value) if row and row.value else None
    return ScanMark(datetime.fromisoformat(mark["at"]), mark["model_id"]) if mark else None


def changed_ids(session: Session, *, since: datetime) -> array.array[int]:
    """Ids of the visible models changed after `since`, then of every visible model built on one of them,
    generation by generation (a fine-tune's training code and data are capped at its base's: its level may
    move with its base's); in id order, eight bytes each however many changed (a bulk import)."""
    statement = sql_select(col(Model.id)).where(col(Model.updated_at) > since, visible())
    found = session.connection().execute(statement).scalars()
    changed = array.array("q", sorted(model_id for model_id in found if model_id is not None))
    built_on: set[int] = set()
    frontier: Sequence[int] = changed
    while frontier:
        children: set[int] = set()
        for start in range(0, len(frontier), LOOKUP_CHUNK):
            chunk = list(frontier[start : start + LOOKUP_CHUNK])
            of_chunk = sql_select(col(Model.id)).where(col(Model.base_id).in_(chunk), visible())
            children |= {model_id for model_id in session.connection().execute(of_chunk).scalars() if model_id}
        frontier = sorted(child for child in children - built_on if not _holds(changed, child))
        built_on.update(frontier)
    return array.array("q", heapq.merge(changed, sorted(built_on))) if built_on else changed


def _holds(ids: Sequence[int], value: int) -> bool:
    """Whether sorted `ids` hold `value`."""
    at = bisect.bisect_left(ids, value)
    return at < len(ids) and ids[at] == value
