"""Which events a model's record implies on a date (pure), and storing them once (idempotent)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Final, Literal

from sqlmodel import Session

from db.models import Event
from trackers.assess import Assessment, assess, standing
from trackers.openness import level_as_of
from trackers.records import ModelRecord
from trackers.store import assessments
from trackers.store import events as store
from trackers.sunset import Policy

DraftKind = Literal[
    "sunset_passed", "sunset_approaching", "openness_changed", "opened_after_sunset", "new_model", "source_paused"
]
SUNSET_PASSED: Final = "sunset_passed"
SUNSET_APPROACHING: Final = "sunset_approaching"
OPENNESS_CHANGED: Final = "openness_changed"
OPENED_AFTER_SUNSET: Final = "opened_after_sunset"
NEW_MODEL: Final = "new_model"
SOURCE_PAUSED: Final = "source_paused"


@dataclass(frozen=True)
class EventDraft:
    """An event before it is stored: what happened, to what, when, and what to say about it."""

    subject: str
    kind: DraftKind
    key: str
    occurred_on: date
    payload: dict[str, Any] = field(default_factory=dict)


def due_events(
    record: ModelRecord, policy: Policy, on: date, *, assessment: Assessment | None = None
) -> list[EventDraft]:
    """Every event this model's record implies up to `on`: openness changes and sunset milestones (`assessment`:
    the record's on `on`, when the caller has it already)."""
    drafts: list[EventDraft] = []
    subject = f"model:{record.slug}"
    base: dict[str, Any] = {"model": record.slug, "name": record.name, "lab": record.lab}
    for change in sorted(record.changes, key=lambda change: change.on):
        if change.on > on:
            continue
        before, after = level_as_of(record, change.on - timedelta(days=1)), level_as_of(record, change.on)
        if before == after:
            continue
        payload = base | {"from": before.value, "to": after.value, "change": change.kind, "url": change.source}
        drafts.append(EventDraft(subject, OPENNESS_CHANGED, f"{change.on}:{before}->{after}", change.on, payload))
        verdict_then = assess(record, policy, change.on).verdict
        sunset = verdict_then.sunset_date
        required = policy.profile.required_level.rank
        if sunset and sunset < change.on and after.rank >= required > before.rank:
            key = f"w{policy.window_years}-{policy.profile}"
            drafts.append(EventDraft(subject, OPENED_AFTER_SUNSET, key, change.on, payload | {"sunset": str(sunset)}))
    verdict = (assessment or assess(record, policy, on)).verdict
    if verdict.sunset_date is None or verdict.meets_requirement:
        return drafts
    sunset = verdict.sunset_date
    payload = base | {"sunset": sunset.isoformat(), "window": policy.window_years, "profile": policy.profile.value}
    if record.verified:  # an accusation says when it was last checked against its sources
        payload["verified_on"] = record.verified.on.isoformat()
    window_key = f"w{policy.window_years}-{policy.profile}"
    if sunset < on:
        drafts.append(EventDraft(subject, SUNSET_PASSED, window_key, sunset + timedelta(days=1), payload))
    # Only the most imminent warning: after downtime, one message rather than every missed lead day.
    current = [lead for lead in policy.lead_days if sunset - timedelta(days=lead) <= on <= sunset]
    if current:
        lead = min(current)
        warn_on = sunset - timedelta(days=lead)
        payload |= {"lead_days": lead}
        drafts.append(EventDraft(subject, SUNSET_APPROACHING, f"{window_key}-d{lead}", warn_on, payload))
    return drafts


def store_events(session: Session, drafts: Iterable[EventDraft], *, announce_since: date | None) -> list[Event]:
    """Insert the drafts not stored yet; those that happened before `announce_since` (or all, if None) stay silent.

    Returns the newly stored events that should be announced.
    """
    announced = store_drafts(
        session, drafts, lambda draft: announce_since is not None and draft.occurred_on >= announce_since
    )
    session.commit()
    return announced


def store_drafts(session: Session, drafts: Iterable[EventDraft], announce: Callable[[EventDraft], bool]) -> list[Event]:
    """Insert the drafts not stored yet (no commit); returns the new ones `announce` says to tell people about."""
    return store.store_drafts(session, drafts, announce=announce)  # type: ignore[arg-type]


def tracker_drafts(before: ModelRecord | None, after: ModelRecord, policy: Policy, on: date) -> list[EventDraft]:
    """What a tracker's change to one model implies: a new model, or the events its new openness adds.

    The drafts carry the same keys the daily evaluation would give them, so neither ever repeats the other.
    """
    known = {(draft.kind, draft.key) for draft in due_events(before, policy, on)} if before else set()
    drafts = [draft for draft in due_events(after, policy, on) if (draft.kind, draft.key) not in known]
    if before is None:
        payload = {"model": after.slug, "name": after.name, "lab": after.lab}
        drafts.insert(0, EventDraft(f"model:{after.slug}", NEW_MODEL, "", on, payload))
    return drafts


def source_paused_draft(source: str, failures: int, error: str | None, on: date, key: str) -> EventDraft:
    """The operator event for a source paused after too many consecutive failures."""
    payload = {"source": source, "name": source, "failures": failures, "error": (error or "")[:300]}
    return EventDraft(f"source:{source}", SOURCE_PAUSED, key, on, payload)


NEWS_FROM_TRACKERS = (NEW_MODEL, OPENNESS_CHANGED, OPENED_AFTER_SUNSET, SOURCE_PAUSED)


def last_evaluation(session: Session) -> date | None:
    """The day of the last daily evaluation, or None before the first."""
    return store.last_evaluation(session)


def mark_evaluated(session: Session, on: date) -> None:
    """Remember that the evaluation for `on` ran (the caller commits)."""
    store.mark_evaluated(session, on=on)


SCAN_OVERLAP = store.SCAN_OVERLAP
EVALUATION_BATCH = 2_000  # models read, judged and written at a time: the evaluation's memory stays bounded


def evaluate_changed(session: Session, policy: Policy, on: date, now: datetime) -> list[Event]:
    """The events of the models changed since the previous scan, whoever changed them (a catalog sync, a
    review, a challenge, another process): a model new to the record is news, and so is what its change
    implies today. Stores them and the models' assessments without committing; returns the ones to announce
    (the caller fans them out and commits both together). The first scan only sets the mark: the start-up
    evaluation covers the rest.

    The mark is the scan's time (changes are looked for a little before it, since a transaction may
    commit late; evaluating a model twice is harmless) and the highest model id then (a higher id is new)."""
    mark = store.advance_change_scan(session, now=now)
    if mark is None:
        return []
    changed = store.changed_ids(session, since=mark.at - SCAN_OVERLAP)
    since = last_evaluation(session)
    announced: list[Event] = []
    for start in range(0, len(changed), EVALUATION_BATCH):  # a bulk change (an import, a big sync) a batch at a time
        read = assessments.read_batch(session, ids=changed[start : start + EVALUATION_BATCH])
        drafts = []
        for model_id, record in read.records.items():
            if model_id > mark.model_id:
                payload = {"model": record.slug, "name": record.name, "lab": record.lab}
                drafts.append(EventDraft(f"model:{record.slug}", NEW_MODEL, "", on, payload))
            drafts += due_events(record, policy, on)
        values = ((model_id, assessments.standing_values(standing(record, policy, on)))
                  for model_id, record in read.records.items())  # fmt: skip
        assessments.write_standings(session, on=on, standings=values, stored=read.stored)  # only what changed
        announced += store_drafts(session, drafts, lambda draft: since is not None and draft.occurred_on >= since)
    return announced


def evaluate_all(
    session: Session,
    policy: Policy,
    on: date,
    *,
    batch: int = EVALUATION_BATCH,
    settle: Callable[[list[Event]], object] | None = None,
) -> list[Event]:
    """The daily evaluation: store every implied event once (announcing only what happened since the last run)
    and every model's assessment, reading the models a batch at a time.

    Nothing is committed here: the caller fans the announced events out and commits them with their deliveries
    — after each batch when it passes `settle` (called with the batch's announced events; a million models
    then never hold the write lock for minutes), else once at the end. The day is marked evaluated last, so
    an evaluation cut short is taken up again, announcing the rest, by the next one."""
    since = last_evaluation(session)
    assessments.page_cache(session, kib=assessments.EVALUATION_CACHE_KIB)
    announced = _evaluate_batches(session, policy, on, since, batch=batch, settle=settle)
    assessments.page_cache(session, kib=assessments.DEFAULT_CACHE_KIB)  # a failed run leaves it wide: memory only
    mark_evaluated(session, on)
    return announced


def _evaluate_batches(
    session: Session,
    policy: Policy,
    on: date,
    since: date | None,
    *,
    batch: int,
    settle: Callable[[list[Event]], object] | None,
) -> list[Event]:
    announced: list[Event] = []
    after = 0
    while ids := assessments.next_batch(session, after_id=after, limit=batch):
        after = ids[-1]
        read = assessments.read_batch(session, ids=ids)
        judged = {model_id: (record, assess(record, policy, on)) for model_id, record in read.records.items()}
        drafts = [draft for record, now in judged.values() for draft in due_events(record, policy, on, assessment=now)]
        news = store_drafts(session, drafts, lambda draft: since is not None and draft.occurred_on >= since)
        values = (
            (model_id, assessments.standing_values(standing(record, policy, on, assessment=now)))
            for model_id, (record, now) in judged.items()
        )
        assessments.write_standings(session, on=on, standings=values, stored=read.stored)  # only what changed
        announced += news
        if settle is not None:
            settle(news)
    return announced
