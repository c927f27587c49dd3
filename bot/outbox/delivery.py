"""The outbox: events fan out to matching subscriptions as deliveries; a worker sends each exactly once.

A delivery is recorded (`sending`, attempts + 1) before the send and marked `sent` with the message id
after it. A crash in between leaves it `sending`; before sending again, the notifier is asked whether
the message is already there (Discord: the channel's recent history, by the reference every message
carries), and the retry carries the same nonce, which the receiving side uses to drop a duplicate
while it remembers it (Discord's `enforce_nonce`, for minutes).

A failed send waits before the next try (back-off doubling from 10 seconds to an hour); a target that
refuses for good (a 4xx other than 429), or a delivery that failed `MAX_ATTEMPTS` times, is `failed`
and its subscription paused with the reason, which the server's admins are told.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlmodel import Session, col, or_, select

from db.models import Delivery, Event, Lab, Model, Subscription, utcnow

log = logging.getLogger(__name__)

CONSOLE_TARGET = "console"
MAX_ATTEMPTS = 8
FIRST_RETRY = timedelta(seconds=10)
LONGEST_RETRY = timedelta(hours=1)


@dataclass(frozen=True)
class Outgoing:
    """One event on its way to one target."""

    delivery_id: int
    target: str
    nonce: str
    kind: str
    occurred_on: str
    payload: dict[str, Any]


class Notifier(Protocol):
    """Something that can send an event to a target and return the message id."""

    async def send(self, outgoing: Outgoing) -> str: ...

    async def already_sent(self, outgoing: Outgoing) -> str | None:
        """The id of the message an interrupted attempt posted, if the target shows it; None otherwise."""
        ...


class PermanentDeliveryError(Exception):
    """The target is gone or forbids posting: pause its subscription instead of retrying."""


def delivery_nonce(delivery_id: int, target: str) -> str:
    """A deterministic nonce (Discord allows 25 characters) derived from the delivery."""
    return hashlib.sha256(f"{delivery_id}:{target}".encode()).hexdigest()[:25]


def ensure_console_subscription(session: Session) -> Subscription:
    """The console's subscription to everything, created on first use (so no history is replayed)."""
    found = session.exec(select(Subscription).where(Subscription.target == CONSOLE_TARGET)).first()
    if found is not None:
        return found
    subscription = Subscription(target=CONSOLE_TARGET, scope="all", kinds="")
    session.add(subscription)
    session.commit()
    session.refresh(subscription)
    return subscription


def matches(subscription: Subscription, event: Event, *, model_slug: str | None, lab_slug: str | None) -> bool:
    """Whether a subscription wants an event (scope, kinds, and only events newer than the subscription)."""
    if subscription.paused or event.created_at < subscription.created_at:
        return False
    kinds = {kind for kind in subscription.kinds.split(",") if kind}
    if kinds and event.kind not in kinds:
        return False
    if subscription.scope == "model":
        return model_slug is not None and model_slug == subscription.scope_value
    if subscription.scope == "lab":
        return lab_slug is not None and lab_slug == subscription.scope_value
    return True


def fan_out(session: Session, events: Iterable[Event]) -> int:
    """Create one delivery per (announced event, matching subscription target); returns how many were new."""
    subscriptions = session.exec(select(Subscription).where(Subscription.paused == False)).all()  # noqa: E712
    # Indexed by scope so each event looks only at the subscriptions that could want it (10,000s of them).
    by_scope: dict[tuple[str, str | None], list[Subscription]] = defaultdict(list)
    for subscription in subscriptions:
        by_scope[(subscription.scope, None if subscription.scope == "all" else subscription.scope_value)].append(
            subscription
        )
    created = 0
    for event in events:
        if not event.announce or event.id is None:
            continue
        model_slug = lab_slug = None
        if event.model_id is not None:
            row = session.exec(
                select(Model.slug, Lab.slug)
                .join(Lab, col(Lab.id) == col(Model.lab_id))
                .where(Model.id == event.model_id)
            ).first()
            model_slug, lab_slug = row if row else (None, None)
        existing = set(session.exec(select(Delivery.target).where(Delivery.event_id == event.id)).all())
        candidates = by_scope[("all", None)] + by_scope[("model", model_slug)] + by_scope[("lab", lab_slug)]
        for subscription in sorted(candidates, key=lambda candidate: candidate.id or 0):
            if subscription.target in existing or not matches(
                subscription, event, model_slug=model_slug, lab_slug=lab_slug
            ):
                continue
            existing.add(subscription.target)
            session.add(Delivery(event_id=event.id, subscription_id=subscription.id, target=subscription.target))
            created += 1
    session.commit()
    return created


def retry_delay(attempts: int) -> timedelta:
    """How long a delivery waits after its `attempts`-th failed try: 10 s doubling, at most an hour."""
    return min(FIRST_RETRY * (1 << min(attempts - 1, 20)), LONGEST_RETRY)


RECOVERY_WINDOW = timedelta(days=30)


def recover_undelivered(session: Session, now: datetime | None = None) -> int:
    """Fan out announced events of the last 30 days that have no delivery at all — what a crash between
    storing events and queueing their deliveries (in databases written before both shared one transaction)
    left behind. Idempotent: deliveries are unique per event and target, and a subscription made after an
    event never matches it. Returns how many deliveries were created."""
    since = (now or utcnow()) - RECOVERY_WINDOW
    has_delivery = select(Delivery.id).where(Delivery.event_id == Event.id).exists()
    orphans = session.exec(
        select(Event).where(col(Event.announce).is_(True), col(Event.created_at) > since, ~has_delivery)
    ).all()
    return fan_out(session, orphans) if orphans else 0


def pending(
    session: Session, *, targets_prefix: str | None = None, limit: int = 100, now: datetime | None = None
) -> list[Outgoing]:
    """Deliveries not yet sent (including those interrupted mid-send) whose next try is due and whose
    subscription is not paused (they wait for it to resume), oldest first."""
    now = now or utcnow()
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


async def deliver(session: Session, outgoing: Outgoing, notifier: Notifier) -> bool:
    """Send one delivery: record the attempt, send, record the message id. Returns True when sent."""
    delivery = session.get(Delivery, outgoing.delivery_id)
    if delivery is None or delivery.status == "sent":
        return False
    subscription = session.get(Subscription, delivery.subscription_id) if delivery.subscription_id else None
    if subscription is not None and subscription.paused:  # paused since this batch was read: wait for a resume
        return False
    interrupted = delivery.status == "sending"  # a crash between the send and its record
    if interrupted and (found := await _already_sent(notifier, outgoing)) is not None:
        delivery.status, delivery.message_id, delivery.error, delivery.next_attempt_at = "sent", found, None, None
        session.add(delivery)
        session.commit()
        log.info(
            "delivery=%s target=%s was already posted (message %s): not sent again", delivery.id, delivery.target, found
        )
        return True
    delivery.status, delivery.attempts, delivery.last_attempt_at = "sending", delivery.attempts + 1, utcnow()
    session.add(delivery)
    session.commit()
    try:
        message_id = await notifier.send(outgoing)
    except PermanentDeliveryError as error:
        _give_up(session, delivery, str(error))
        return False
    except Exception as error:
        reason = f"{type(error).__name__}: {error}"[:500]
        if delivery.attempts >= MAX_ATTEMPTS:
            _give_up(session, delivery, f"gave up after {delivery.attempts} attempts: {reason}")
            return False
        wait = retry_delay(delivery.attempts)
        delivery.status, delivery.error, delivery.next_attempt_at = "pending", reason, utcnow() + wait
        session.add(delivery)
        session.commit()
        log.warning(
            "delivery=%s target=%s will be retried in %ss: %s",
            delivery.id,
            delivery.target,
            int(wait.total_seconds()),
            reason,
        )
        return False
    delivery.status, delivery.message_id, delivery.error, delivery.next_attempt_at = "sent", message_id, None, None
    session.add(delivery)
    session.commit()
    return True


async def _already_sent(notifier: Notifier, outgoing: Outgoing) -> str | None:
    try:
        return await notifier.already_sent(outgoing)
    except Exception as error:  # the look-up is a courtesy: on failure the nonce is the remaining guard
        log.warning(
            "delivery=%s target=%s: could not check for an earlier post: %s",
            outgoing.delivery_id,
            outgoing.target,
            error,
        )
        return None


def _give_up(session: Session, delivery: Delivery, reason: str) -> None:
    """The delivery fails for good and its subscription is paused with the reason (the admins are told)."""
    delivery.status, delivery.error, delivery.next_attempt_at = "failed", reason[:500], None
    if delivery.subscription_id is not None:
        subscription = session.get(Subscription, delivery.subscription_id)
        if subscription is not None:
            subscription.paused, subscription.pause_reason = True, reason[:300]
            session.add(subscription)
    session.add(delivery)
    session.commit()
    log.warning("delivery=%s target=%s failed permanently: %s", delivery.id, delivery.target, reason)


async def deliver_pending(session: Session, notifier: Notifier, *, targets_prefix: str | None = None) -> int:
    """Send every pending delivery for the given targets; returns how many were sent."""
    sent = 0
    for outgoing in pending(session, targets_prefix=targets_prefix):
        sent += await deliver(session, outgoing, notifier)
    return sent


async def deliver_lanes(
    open_session: Callable[[], Session], lanes: Iterable[list[Outgoing]], notifier: Notifier
) -> int:
    """Send each lane's deliveries in order, the lanes side by side (each with its own session); returns how many."""

    async def lane(items: list[Outgoing]) -> int:
        done = 0
        with open_session() as session:
            for outgoing in items:
                done += await deliver(session, outgoing, notifier)
        return done

    return sum(await asyncio.gather(*(lane(items) for items in lanes if items)))
