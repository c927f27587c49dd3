"""Deliveries (the outbox's rows) and the events they carry: queueing, the due batch, and each attempt's record.

The rules (who matches, how long to back off, when to give up) live in `bot.outbox.delivery`; these
functions only read and write, and never commit.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel, col, func, or_, select

from db.models import Delivery, Event, Lab, Model, Subscription


@dataclass(frozen=True)
class Outgoing:
    """One event on its way to one target."""

    delivery_id: int
    target: str
    nonce: str
    kind: str
    occurred_on: str
    payload: dict[str, Any]


def delivery_nonce(delivery_id: int, target: str) -> str:
    """A deterministic nonce (Discord allows 25 characters) derived from the delivery."""
    return hashlib.sha256(f"{delivery_id}:{target}".encode()).hexdigest()[:25]


def pending(session: Session, *, now: datetime, targets_prefix: str | None = None, limit: int = 100) -> list[Outgoing]:
    """Deliveries not yet sent (including those interrupted mid-send) whose next try is due and whose
    subscription is not paused, oldest first."""
    statement = (
        select(Delivery, Event)
        .join(Event, col(Event.id) == col(Delivery.event_id))
        .outerjoin(Subscription, col(Subscription.id) == col(Delivery.subscription_id))
        .where(
            col(Delivery.status).in_(("pending", "sending")),
            or_(col(Delivery.next_attempt_at).is_(None), col(Delivery.next_attempt_at) <= now),
            or_(col(Subscription.id).is_(None), col(Subscription.paused).is_(False)),
        )
        .order_by(col(Delivery.id))
        .limit(limit)
    )
    if targets_prefix is not None:
        statement = statement.where(col(Delivery.target).startswith(targets_prefix))
    return [
        Outgoing(
            delivery_id=delivery.id or 0,
            target=delivery.target,
            nonce=delivery_nonce(delivery.id or 0, delivery.target),
            kind=event.kind,
            occurred_on=event.occurred_on.isoformat(),
            payload=json.loads(event.payload),
        )
        for delivery, event in session.exec(statement).all()
    ]


@dataclass(frozen=True)
class Attempt:
    """A delivery about to be tried: whether an earlier attempt was interrupted mid-send, and its attempt count."""

    interrupted: bool
    attempts: int


def begin_attempt(session: Session, *, delivery_id: int, now: datetime) -> Attempt | None:
    """Mark a delivery `sending` (attempts + 1) and return it; an interrupted one (already `sending`) is returned
    unchanged, for the caller to look for its earlier post first. None when it is gone, sent or paused."""
    delivery = session.get(Delivery, delivery_id)
    if delivery is None or delivery.status not in ("pending", "sending"):
        return None
    subscription = session.get(Subscription, delivery.subscription_id) if delivery.subscription_id else None
    if subscription is not None and subscription.paused:  # paused since the batch was read: wait for a resume
        return None
    if delivery.status == "sending":
        return Attempt(interrupted=True, attempts=delivery.attempts)
    return Attempt(interrupted=False, attempts=start_attempt(session, delivery_id=delivery_id, now=now))


def start_attempt(session: Session, *, delivery_id: int, now: datetime) -> int:
    """Record the start of a send (`sending`, attempts + 1); returns the attempt's number."""
    delivery = session.get_one(Delivery, delivery_id)
    delivery.status, delivery.attempts, delivery.last_attempt_at = "sending", delivery.attempts + 1, now
    session.add(delivery)
    return delivery.attempts


def mark_sent(session: Session, *, delivery_id: int, message_id: str) -> None:
    """The delivery reached its target as `message_id`."""
    delivery = session.get_one(Delivery, delivery_id)
    delivery.status, delivery.message_id, delivery.error, delivery.next_attempt_at = "sent", message_id, None, None
    session.add(delivery)


def retry_later(session: Session, *, delivery_id: int, reason: str, at: datetime) -> None:
    """The send failed for now: back to `pending`, not tried again before `at`."""
    delivery = session.get_one(Delivery, delivery_id)
    delivery.status, delivery.error, delivery.next_attempt_at = "pending", reason, at
    session.add(delivery)


def give_up(session: Session, *, delivery_id: int, reason: str) -> None:
    """The delivery fails for good and its subscription is paused with the reason."""
    delivery = session.get_one(Delivery, delivery_id)
    delivery.status, delivery.error, delivery.next_attempt_at = "failed", reason[:500], None
    if delivery.subscription_id is not None:
        subscription = session.get(Subscription, delivery.subscription_id)
        if subscription is not None:
            subscription.paused, subscription.pause_reason = True, reason[:300]
            session.add(subscription)
    session.add(delivery)


# ── queueing ─────────────────────────────────────────────────────────────────────────────────────


def event_slugs(session: Session, *, model_id: int | None) -> tuple[str | None, str | None]:
    """The model's and its lab's slugs (for matching subscriptions), or (None, None)."""
    if model_id is None:
        return None, None
    row = session.exec(
        select(Model.slug, Lab.slug).join(Lab, col(Lab.id) == col(Model.lab_id)).where(Model.id == model_id)
    ).first()
    return (row[0], row[1]) if row else (None, None)


def delivery_targets(session: Session, *, event_id: int) -> set[str]:
    """The targets an event is already queued for."""
    return set(session.exec(select(Delivery.target).where(Delivery.event_id == event_id)).all())


def add_delivery(session: Session, *, event_id: int, target: str, subscription_id: int | None = None) -> None:
    """Queue one event for one target."""
    session.add(Delivery(event_id=event_id, subscription_id=subscription_id, target=target))


def events_by_id(session: Session, *, ids: Sequence[int]) -> list[Event]:
    """The events with these ids."""
    return list(session.exec(select(Event).where(col(Event.id).in_(ids))).all())


def undelivered_events(session: Session, *, since: datetime) -> list[Event]:
    """Announced events created after `since` that have no delivery at all."""
    has_delivery = select(Delivery.id).where(Delivery.event_id == Event.id).exists()
    return list(
        session.exec(
            select(Event).where(col(Event.announce).is_(True), col(Event.created_at) > since, ~has_delivery)
        ).all()
    )


def event_exists(session: Session, *, subject: str, kind: str, key: str) -> bool:
    """Whether an event with this identity is stored."""
    found = session.exec(select(Event.id).where(Event.subject == subject, Event.kind == kind, Event.key == key)).first()
    return found is not None


def queue_event(
    session: Session,
    *,
    event: Event,
    targets: Iterable[tuple[int | None, str]] = (),
    also: Iterable[SQLModel] = (),
) -> bool:
    """Store an event with one delivery per (subscription id, target) and the rows in `also`, all or nothing
    (a savepoint); False when the event exists already (another process, or before a crash)."""
    try:
        with session.begin_nested():
            session.add(event)
            session.flush()
            for subscription_id, target in targets:
                session.add(Delivery(event_id=event.id or 0, subscription_id=subscription_id, target=target))
            for row in also:
                session.add(row)
    except IntegrityError:
        return False
    return True


def sent_counts(session: Session, *, targets_prefix: str) -> dict[int | None, int]:
    """Sent deliveries per subscription, for targets with this prefix."""
    return dict(
        session.exec(
            select(Delivery.subscription_id, func.count())
            .where(Delivery.status == "sent", col(Delivery.target).startswith(targets_prefix))
            .group_by(col(Delivery.subscription_id))
        ).all()
    )


def delivery_tallies(session: Session) -> dict[tuple[int | None, str], int]:
    """Waiting and failed deliveries per (subscription id, status)."""
    rows = session.exec(
        select(Delivery.subscription_id, Delivery.status, func.count())
        .where(col(Delivery.status).in_(("pending", "sending", "failed")))
        .group_by(col(Delivery.subscription_id), col(Delivery.status))
    ).all()
    return {(subscription_id, status): count for subscription_id, status, count in rows}


def last_error(session: Session, *, subscription_id: int | None) -> str | None:
    """The error of the subscription's most recently tried delivery that has one."""
    return session.exec(
        select(Delivery.error)
        .where(Delivery.subscription_id == subscription_id, col(Delivery.error).is_not(None))
        .order_by(col(Delivery.last_attempt_at).desc())
        .limit(1)
    ).first()
