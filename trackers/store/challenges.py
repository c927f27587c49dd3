"""What challenges read and write: the queue of disputed facts, the catalog's claims beside them, decisions."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, func, select

from db.models import Challenge, Delivery, Event, Lab, Model, Observation
from trackers.store.models import visible


def visible_model(session: Session, *, slug: str) -> Model | None:
    """The visible model with this slug."""
    return session.exec(select(Model).where(Model.slug == slug, visible())).first()


def sent_since(session: Session, *, reporter: str, since: datetime) -> int:
    """How many challenges a reporter sent after `since`."""
    return session.exec(
        select(func.count())
        .select_from(Challenge)
        .where(Challenge.reporter == reporter, col(Challenge.created_at) > since)
    ).one()


def add(session: Session, *, challenge: Challenge) -> Challenge:
    """Queue a challenge (flushed, for its number)."""
    session.add(challenge)
    session.flush()
    return challenge


def open_challenges(session: Session) -> list[tuple[Challenge, Model]]:
    """Open challenges with their models, oldest first."""
    rows = session.exec(
        select(Challenge, Model).join(Model, col(Model.id) == col(Challenge.model_id)).where(Challenge.status == "open")
    ).all()
    return sorted(rows, key=lambda row: row[0].id or 0)


def credible_claims(
    session: Session, *, model_ids: Collection[int], facts: Collection[str]
) -> dict[tuple[int, str], list[tuple[str, str]]]:
    """(model id, fact) → the (value, url) of its credible observations (rank above zero), for these facts."""
    found: dict[tuple[int, str], list[tuple[str, str]]] = defaultdict(list)
    for model_id, fact, value, url in session.exec(
        select(Observation.model_id, Observation.fact, Observation.value, Observation.url)
        .where(
            col(Observation.model_id).in_(list(model_ids)), col(Observation.fact).in_(list(facts)), Observation.rank > 0
        )
        .order_by(col(Observation.id))
    ).all():
        found[(model_id, fact)].append((value, url))
    return found


def challenge_with_model(session: Session, *, challenge_id: int) -> tuple[Challenge | None, Model | None]:
    """A challenge by number, and the model it disputes."""
    challenge = session.get(Challenge, challenge_id)
    return challenge, session.get(Model, challenge.model_id) if challenge is not None else None


def lab_slug(session: Session, *, lab_id: int) -> str | None:
    """A lab's slug."""
    lab = session.get(Lab, lab_id)
    return lab.slug if lab else None


def record_decision(
    session: Session,
    *,
    challenge: Challenge,
    model_id: int,
    kind: str,
    status: str,
    reason: str,
    moderator: str,
    payload: dict[str, Any],
    now: datetime,
) -> None:
    """Close a challenge and store its outcome as an event, delivered to the reporter when they can be told."""
    challenge.status, challenge.reason, challenge.decided_by, challenge.decided_at = status, reason, moderator, now
    session.add(challenge)
    event = Event(
        subject=f"challenge:{challenge.id}",
        model_id=model_id,
        kind=kind,
        key=status,
        occurred_on=now.date(),
        payload=json.dumps(payload, sort_keys=True),
        announce=True,
        created_at=now,
    )
    session.add(event)
    session.flush()
    if challenge.notify:  # only the reporter hears of it: the event matches no subscription's kinds by default
        session.add(Delivery(event_id=event.id or 0, target=challenge.notify))
