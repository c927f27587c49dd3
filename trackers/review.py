"""Moderation of what the trackers found: confirm, merge or reject unconfirmed models; every model's evidence."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlmodel import Session

from db.models import Event, Model
from trackers.assess import accused
from trackers.events import NEW_MODEL, EventDraft, store_drafts
from trackers.names import normalise_name, suggest
from trackers.records import ModelRecord
from trackers.sources import MODERATOR
from trackers.store import review as store
from trackers.store.review import Evidence

__all__ = [
    "Evidence",
    "Pending",
    "ReviewError",
    "confirm",
    "evidence",
    "evidence_by_model",
    "merge",
    "pending",
    "reject",
    "stale_verifications",
]

ORIGIN = "moderator"
STALE_AFTER_DAYS = 180  # a verification older than this is checked again
SIMILAR_CUTOFF = 75  # name likeness (0-100) for a confirmed model to be offered as a merge target


class ReviewError(Exception):
    """A review action that cannot be done (unknown or already reviewed model); the message says why."""


@dataclass(frozen=True)
class Pending:
    """An unconfirmed model waiting for a moderator, with what was seen of it."""

    slug: str
    name: str
    lab: str
    origin: str
    first_seen: datetime
    evidence: tuple[tuple[str, str, str], ...]  # (fact, value, url)
    similar: tuple[str, ...] = ()  # slugs of the lab's models with a close name: candidates for `merge`


def pending(session: Session) -> list[Pending]:
    """Unconfirmed models, oldest first, each with the lab's models whose names come close."""
    rows = store.unconfirmed(session)
    known = store.confirmed_names(session, lab_ids={lab.id for _, lab in rows if lab.id is not None})
    claims = store.claims_of(session, model_ids=[model.id for model, _ in rows if model.id is not None])
    result = []
    for model, lab in rows:
        similar = tuple(suggest(model.name, _same_version(model.name, known[model.lab_id]), 3, SIMILAR_CUTOFF))
        evidence = tuple(claims.get(model.id or 0, ()))
        result.append(Pending(model.slug, model.name, lab.slug, model.origin, model.created_at, evidence, similar))
    return result


def _same_version(name: str, known: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The names carrying the same numbers as `name` ("Claude Opus 4.8" is not "Claude Opus 4"); all if it has none."""
    numbers = sorted(re.findall(r"\d+", name))
    return [(slug, alias) for slug, alias in known if not numbers or sorted(re.findall(r"\d+", alias)) == numbers]


def confirm(session: Session, name: str, now: datetime) -> list[Event]:
    """Make an unconfirmed model visible; its `new_model` event is announced. Returns the events to announce
    (not committed: the caller fans them out and commits both together)."""
    model = _unconfirmed(session, name)
    store.set_state(session, model=model, state="confirmed", now=now)
    _note(session, model, "state", "confirmed", now)
    payload = {"model": model.slug, "name": model.name, "lab": store.lab_slug(session, lab_id=model.lab_id)}
    draft = EventDraft(f"model:{model.slug}", NEW_MODEL, "", now.date(), payload)
    return store_drafts(session, [draft], lambda _: True)  # the caller commits them with their deliveries


def merge(session: Session, name: str, into: str, now: datetime) -> Model:
    """Fold an unconfirmed model into an existing one: its names become aliases, its observations move over.
    The caller commits."""
    source = _unconfirmed(session, name)
    target = store.find_visible(session, key=normalise_name(into))
    if target is None or target.id is None:
        raise ReviewError(f"no confirmed model called {into!r} to merge into")
    store.fold(session, source=source, target=target, origin=ORIGIN)
    _note(session, target, "merged", source.name, now)
    return target


def reject(session: Session, name: str, now: datetime) -> Model:
    """Mark an unconfirmed model rejected: kept (with its names) so the trackers never create it again.
    The caller commits."""
    model = _unconfirmed(session, name)
    store.set_state(session, model=model, state="rejected", now=now)
    _note(session, model, "state", "rejected", now)
    return model


def evidence(session: Session, slug: str) -> list[Evidence]:
    """Every observation of a visible model — agreeing or not — highest precedence first, then newest."""
    return store.evidence_by_model(session, slugs={slug}).get(slug, [])


def evidence_by_model(session: Session, slugs: set[str] | None = None) -> dict[str, list[Evidence]]:
    """Every observation of each visible model (all, or those in `slugs`) in one query, ordered as `evidence`."""
    return store.evidence_by_model(session, slugs=slugs)


def stale_verifications(
    records: Iterable[ModelRecord], on: date, *, days: int = STALE_AFTER_DAYS
) -> list[tuple[ModelRecord, int | None]]:
    """Models accused today (overdue or due soon under some allowed policy) whose verification is missing or
    older than `days`, with its age in days (None: never verified); the oldest first."""
    stale = [
        (record, (on - record.verified.on).days if record.verified else None)
        for record in records
        if accused(record, on) and (record.verified is None or record.verified.on < on - timedelta(days=days))
    ]
    return sorted(stale, key=lambda item: (item[1] is not None, -(item[1] or 0), item[0].name.casefold()))


def _unconfirmed(session: Session, name: str) -> Model:
    model = store.find_unconfirmed(session, name=name, key=normalise_name(name))
    if model is None:
        raise ReviewError(f"no unconfirmed model called {name!r} (see `sunset review`)")
    return model


def _note(session: Session, model: Model, fact: str, value: str, now: datetime) -> None:
    assert model.id is not None
    store.add_note(session, model_id=model.id, fact=fact, value=value, origin=ORIGIN, rank=MODERATOR, now=now)
