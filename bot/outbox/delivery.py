"""The outbox: events fan out to matching subscriptions as deliveries; a worker sends each exactly once.

Every database step goes through the gateway's threads: the due batch is read in a worker, each message
is sent on the event loop, and its outcome is recorded in a worker. A delivery is recorded (`sending`,
attempts + 1) before the send and marked `sent` with the message id
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
import logging
from collections import defaultdict
from collections.abc import Collection, Iterable
from datetime import datetime, timedelta
from typing import Protocol

from sqlmodel import Session

from bot.runtime.gateway import Gateway
from bot.store import deliveries, subscriptions
from bot.store.deliveries import Outgoing as Outgoing
from bot.store.deliveries import delivery_nonce as delivery_nonce
from db.models import Event, Subscription, utcnow
from trackers.store.labs import lab_and_parents, lab_parents

log = logging.getLogger(__name__)

CONSOLE_TARGET = "console"
MAX_ATTEMPTS = 8
FIRST_RETRY = timedelta(seconds=10)
LONGEST_RETRY = timedelta(hours=1)


class Notifier(Protocol):
    """Something that can send an event to a target and return the message id."""

    async def send(self, outgoing: Outgoing) -> str:
        """Send one message and return its id on the target; raise to retry, PermanentDeliveryError to give up."""
        ...

    async def already_sent(self, outgoing: Outgoing) -> str | None:
        """The id of the message an interrupted attempt posted, if the target shows it; None otherwise."""
        ...


class PermanentDeliveryError(Exception):
    """The target is gone or forbids posting: pause its subscription instead of retrying."""


def ensure_console_subscription(session: Session) -> Subscription:
    """The console's subscription to everything, created on first use (so no history is replayed)."""
    found = subscriptions.by_target(session, target=CONSOLE_TARGET)
    if found is not None:
        return found
    subscription = subscriptions.save(session, subscription=Subscription(target=CONSOLE_TARGET, scope="all", kinds=""))
    session.commit()
    return subscription


def matches(subscription: Subscription, event: Event, *, model_slug: str | None, lab_slugs: Collection[str]) -> bool:
    """Whether a subscription wants an event (scope, kinds, and only events newer than the subscription).

    `lab_slugs` are the model's lab and the labs above it: following Google takes in Google DeepMind's models.
    """
    if subscription.paused or event.created_at < subscription.created_at:
        return False
    kinds = {kind for kind in subscription.kinds.split(",") if kind}
    if kinds and event.kind not in kinds:
        return False
    if subscription.scope == "model":
        return model_slug is not None and model_slug == subscription.scope_value
    if subscription.scope == "lab":
        return subscription.scope_value in lab_slugs
    return True


def queue_deliveries(session: Session, events: Iterable[Event]) -> int:
    """Add one delivery per (announced event, matching subscription target), uncommitted; returns how many."""
    # Indexed by scope so each event looks only at the subscriptions that could want it (10,000s of them).
    by_scope: dict[tuple[str, str | None], list[Subscription]] = defaultdict(list)
    for subscription in subscriptions.active(session):
        by_scope[(subscription.scope, None if subscription.scope == "all" else subscription.scope_value)].append(
            subscription
        )
    parents = lab_parents(session)
    created = 0
    for event in events:
        if not event.announce or event.id is None:
            continue
        model_slug, lab_slug = deliveries.event_slugs(session, model_id=event.model_id)
        existing = deliveries.delivery_targets(session, event_id=event.id)
        labs = lab_and_parents(parents, lab_slug) if lab_slug is not None else ()
        candidates = by_scope[("all", None)] + by_scope[("model", model_slug)]
        candidates += [subscription for lab in labs for subscription in by_scope[("lab", lab)]]
        for subscription in sorted(candidates, key=lambda candidate: candidate.id or 0):
            if subscription.target in existing or not matches(
                subscription, event, model_slug=model_slug, lab_slugs=labs
            ):
                continue
            existing.add(subscription.target)
            deliveries.add_delivery(
                session, event_id=event.id, subscription_id=subscription.id, target=subscription.target
            )
            created += 1
    return created


def fan_out(session: Session, events: Iterable[Event]) -> int:
    """Queue the deliveries of these events and commit them (with whatever else the session holds)."""
    created = queue_deliveries(session, events)
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
    orphans = deliveries.undelivered_events(session, since=(now or utcnow()) - RECOVERY_WINDOW)
    return fan_out(session, orphans) if orphans else 0


def pending(
    session: Session, *, targets_prefix: str | None = None, limit: int = 100, now: datetime | None = None
) -> list[Outgoing]:
    """Deliveries not yet sent (including those interrupted mid-send) whose next try is due and whose
    subscription is not paused (they wait for it to resume), oldest first."""
    return deliveries.pending(session, now=now or utcnow(), targets_prefix=targets_prefix, limit=limit)


async def deliver(gateway: Gateway, outgoing: Outgoing, notifier: Notifier) -> bool:
    """Send one delivery: record the attempt (in a worker), send (on the loop), record the outcome (in a worker).

    Returns True when sent.
    """
    delivery_id = outgoing.delivery_id
    attempt = await gateway.write(deliveries.begin_attempt, delivery_id=delivery_id, now=utcnow())
    if attempt is None:
        return False
    attempts = attempt.attempts
    if attempt.interrupted:  # a crash between the send and its record
        found = await _already_sent(notifier, outgoing)
        if found is not None:
            await gateway.write(deliveries.mark_sent, delivery_id=delivery_id, message_id=found)
            log.info(
                "delivery=%s target=%s was already posted (message %s): not sent again",
                delivery_id,
                outgoing.target,
                found,
            )
            return True
        attempts = await gateway.write(deliveries.start_attempt, delivery_id=delivery_id, now=utcnow())
    try:
        message_id = await notifier.send(outgoing)
    except PermanentDeliveryError as error:
        await _give_up(gateway, outgoing, str(error))
        return False
    except Exception as error:
        reason = f"{type(error).__name__}: {error}"[:500]
        if attempts >= MAX_ATTEMPTS:
            await _give_up(gateway, outgoing, f"gave up after {attempts} attempts: {reason}")
            return False
        wait = retry_delay(attempts)
        await gateway.write(deliveries.retry_later, delivery_id=delivery_id, reason=reason, at=utcnow() + wait)
        log.warning(
            "delivery=%s target=%s will be retried in %ss: %s",
            delivery_id,
            outgoing.target,
            int(wait.total_seconds()),
            reason,
        )
        return False
    await gateway.write(deliveries.mark_sent, delivery_id=delivery_id, message_id=message_id)
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


async def _give_up(gateway: Gateway, outgoing: Outgoing, reason: str) -> None:
    """The delivery fails for good and its subscription is paused with the reason (the admins are told)."""
    await gateway.write(deliveries.give_up, delivery_id=outgoing.delivery_id, reason=reason)
    log.warning("delivery=%s target=%s failed permanently: %s", outgoing.delivery_id, outgoing.target, reason)


async def deliver_pending(gateway: Gateway, notifier: Notifier, *, targets_prefix: str | None = None) -> int:
    """Send every pending delivery for the given targets; returns how many were sent."""
    sent = 0
    for outgoing in await gateway.read(pending, targets_prefix=targets_prefix):
        sent += await deliver(gateway, outgoing, notifier)
    return sent


async def deliver_lanes(gateway: Gateway, lanes: Iterable[list[Outgoing]], notifier: Notifier) -> int:
    """Send each lane's deliveries in order, the lanes side by side; returns how many were sent."""

    async def lane(items: list[Outgoing]) -> int:
        done = 0
        for outgoing in items:
            done += await deliver(gateway, outgoing, notifier)
        return done

    return sum(await asyncio.gather(*(lane(items) for items in lanes if items)))
