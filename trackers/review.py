"""Moderation of what the trackers found: confirm, merge or reject unconfirmed models; every model's evidence."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlmodel import Session, col, delete, select

from db.models import Alias, Event, Lab, Model, Observation, OpennessChange
from trackers.assess import accused
from trackers.events import NEW_MODEL, EventDraft, store_drafts
from trackers.names import normalise_name, suggest
from trackers.records import ModelRecord
from trackers.sources import MODERATOR

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


@dataclass(frozen=True)
class Evidence:
    """One observation as shown by `sunset status NAME --evidence`."""

    fact: str
    value: str
    origin: str
    rank: int
    url: str
    seen_at: datetime
    note: str | None


def pending(session: Session) -> list[Pending]:
    """Unconfirmed models, oldest first, each with the lab's models whose names come close."""
    rows = session.exec(
        select(Model, Lab).join(Lab, col(Lab.id) == col(Model.lab_id)).where(Model.state == "unconfirmed")
    ).all()
    known: dict[int, list[tuple[str, str]]] = defaultdict(list)  # lab id → (slug, name or alias)
    for lab_id, slug, alias in session.exec(
        select(Model.lab_id, Model.slug, Alias.name)
        .join(Alias, col(Alias.model_id) == col(Model.id))
        .where(Model.state == "confirmed", col(Model.lab_id).in_({lab.id for _, lab in rows}))
    ).all():
        known[lab_id].append((slug, alias))
    result = []
    for model, lab in sorted(rows, key=lambda row: (row[0].created_at, row[0].slug)):
        facts = session.exec(
            select(Observation.fact, Observation.value, Observation.url)
            .where(Observation.model_id == model.id)
            .order_by(col(Observation.id))
        ).all()
        similar = tuple(suggest(model.name, _same_version(model.name, known[model.lab_id]), 3, SIMILAR_CUTOFF))
        result.append(Pending(model.slug, model.name, lab.slug, model.origin, model.created_at, tuple(facts), similar))
    return result


def _same_version(name: str, known: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The names carrying the same numbers as `name` ("Claude Opus 4.8" is not "Claude Opus 4"); all if it has none."""
    numbers = sorted(re.findall(r"\d+", name))
    return [(slug, alias) for slug, alias in known if not numbers or sorted(re.findall(r"\d+", alias)) == numbers]


def confirm(session: Session, name: str, now: datetime) -> list[Event]:
    """Make an unconfirmed model visible; its `new_model` event is announced. Returns the events to announce
    (not committed: the caller fans them out and commits both together)."""
    model = _unconfirmed(session, name)
    model.state, model.updated_at = "confirmed", now
    session.add(model)
    _note(session, model, "state", "confirmed", now)
    lab = session.get(Lab, model.lab_id)
    payload = {"model": model.slug, "name": model.name, "lab": lab.slug if lab else None}
    draft = EventDraft(f"model:{model.slug}", NEW_MODEL, "", now.date(), payload)
    return store_drafts(session, [draft], lambda _: True)  # the caller commits them with their deliveries


def merge(session: Session, name: str, into: str, now: datetime) -> Model:
    """Fold an unconfirmed model into an existing one: its names become aliases, its observations move over."""
    source = _unconfirmed(session, name)
    target = session.exec(
        select(Model)
        .join(Alias, col(Alias.model_id) == col(Model.id))
        .where(Alias.key == normalise_name(into), Model.state == "confirmed")
    ).first()
    if target is None or target.id is None:
        raise ReviewError(f"no confirmed model called {into!r} to merge into")
    keys = set(session.exec(select(Alias.key).where(Alias.model_id == target.id)).all())
    for alias in session.exec(select(Alias).where(Alias.model_id == source.id, Alias.kind != "slug")).all():
        if alias.key not in keys:
            keys.add(alias.key)
            session.add(Alias(model_id=target.id, name=alias.name, key=alias.key, kind=alias.kind, origin=ORIGIN))
    existing = set(
        session.exec(
            select(Observation.origin, Observation.fact, Observation.value, Observation.url).where(
                Observation.model_id == target.id
            )
        ).all()
    )
    for observation in session.exec(select(Observation).where(Observation.model_id == source.id)).all():
        if (observation.origin, observation.fact, observation.value, observation.url) not in existing:
            fields = observation.model_dump(exclude={"id", "model_id"})
            session.add(Observation(model_id=target.id, **fields))
    _note(session, target, "merged", source.name, now)
    for table in (Alias, Observation, OpennessChange):
        session.exec(delete(table).where(col(table.model_id) == source.id))
    session.delete(source)
    session.commit()
    return target


def reject(session: Session, name: str, now: datetime) -> Model:
    """Mark an unconfirmed model rejected: kept (with its names) so the trackers never create it again."""
    model = _unconfirmed(session, name)
    model.state, model.updated_at = "rejected", now
    session.add(model)
    _note(session, model, "state", "rejected", now)
    session.commit()
    return model


def evidence(session: Session, slug: str) -> list[Evidence]:
    """Every observation of a model — agreeing or not — highest precedence first, then newest."""
    rows = session.exec(
        select(Observation)
        .join(Model, col(Model.id) == col(Observation.model_id))
        .where(Model.slug == slug)
        .order_by(col(Observation.fact), col(Observation.rank).desc(), col(Observation.seen_at).desc())
    ).all()
    return [Evidence(o.fact, o.value, o.origin, o.rank, o.url, o.seen_at, o.note) for o in rows]


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
    key = normalise_name(name)
    model = session.exec(
        select(Model)
        .join(Alias, col(Alias.model_id) == col(Model.id), isouter=True)
        .where((Model.slug == name) | (Alias.key == key), Model.state == "unconfirmed")
    ).first()
    if model is None:
        raise ReviewError(f"no unconfirmed model called {name!r} (see `sunset review`)")
    return model


def _note(session: Session, model: Model, fact: str, value: str, now: datetime) -> None:
    assert model.id is not None
    session.add(
        Observation(
            model_id=model.id,
            origin=ORIGIN,
            rank=MODERATOR,
            fact=fact,
            value=value,
            url="moderator:review",
            seen_at=now,
        )
    )
