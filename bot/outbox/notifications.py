"""`[[notifications]]` targets as subscriptions: synced from the config at start-up, their health, their weekly posts.

Each target is a Subscription whose target is `apprise:<name>`, so events fan out to it like to any channel
(same outbox, same no-history rule, same retries). Start-up makes the table follow the config: a new entry is
created (it gets only events from then on), an edited one is updated, a removed one is paused (never deleted,
so its history stays). A target paused because it refused for good stays paused until its entry changes;
a fingerprint of the entry (a hash, never the URL) in the `meta` table tells.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session

from bot.outbox.apprise_notifier import APPRISE_TARGET, AppriseNotifier, Target
from bot.outbox.delivery import Outgoing, deliver_lanes, pending
from bot.runtime.app import App
from bot.runtime.config import WEEKLY_CAMPAIGN, WEEKLY_DIGEST, NotificationSettings
from bot.services.community import subscription_health
from bot.services.digest import build_digest, digest_slot
from bot.services.queries import top_pledges
from bot.store import deliveries, meta, subscriptions
from bot.store.digests import new_model_names
from db.models import Event, Subscription
from trackers.store.models import Catalogue, load_catalogue
from trackers.sunset import Policy

log = logging.getLogger(__name__)

REMOVED = "removed from the configuration"
WEEKLY_KINDS = (WEEKLY_DIGEST, WEEKLY_CAMPAIGN)


def _fingerprint(entry: NotificationSettings) -> str:
    """A digest of everything in the entry (the URL included, hashed): changes when the operator edits it."""
    fields = entry.model_dump(exclude={"url"}) | {"url": entry.url.get_secret_value()}
    return hashlib.sha256(json.dumps(fields, sort_keys=True, default=str).encode()).hexdigest()


def sync_targets(session: Session, configured: Sequence[NotificationSettings]) -> list[str]:
    """Make the `apprise:` subscriptions follow the config; returns a line per change for the log."""
    changes: list[str] = []
    rows = subscriptions.with_target_prefix(session, prefix=APPRISE_TARGET)
    for entry in configured:
        target = f"{APPRISE_TARGET}{entry.name}"
        scope, value, kinds = entry.scope, entry.value or None, ",".join(entry.events)
        meta_key = f"notification:{entry.name}"
        stored = meta.get(session, key=meta_key)
        fingerprint = _fingerprint(entry)
        row = rows.get(target)
        if row is None:
            subscriptions.save(
                session, subscription=Subscription(target=target, scope=scope, scope_value=value, kinds=kinds)
            )
            changes.append(f"{target} added")
        else:
            edited = stored != fingerprint
            if row.paused and (row.pause_reason == REMOVED or edited):
                row.paused, row.pause_reason = False, None
                changes.append(f"{target} resumed")
            row.scope, row.scope_value, row.kinds = scope, value, kinds
            subscriptions.save(session, subscription=row)
        meta.put(session, key=meta_key, value=fingerprint)
    names = {f"{APPRISE_TARGET}{entry.name}" for entry in configured}
    for target, row in rows.items():
        if target not in names and not row.paused:
            row.paused, row.pause_reason = True, REMOVED
            subscriptions.save(session, subscription=row)
            changes.append(f"{target} paused: {REMOVED}")
    session.commit()
    for change in changes:
        log.info("notification target %s", change)
    return changes


@dataclass(frozen=True)
class TargetHealth:
    """One line of `sunset notifications`: the target, where it points (redacted) and how its deliveries fare."""

    name: str
    shown: str
    style: str
    scope: str
    value: str | None
    events: tuple[str, ...]
    status: str
    reason: str | None
    waiting: int
    failed: int
    sent: int
    last_error: str | None

    def as_dict(self) -> dict[str, Any]:
        """The JSON object (`--json`)."""
        return {
            "name": self.name,
            "url": self.shown,
            "style": self.style,
            "scope": self.scope,
            "value": self.value,
            "events": list(self.events),
            "status": self.status,
            "reason": self.reason,
            "waiting": self.waiting,
            "failed": self.failed,
            "sent": self.sent,
            "last_error": self.last_error,
        }


def notification_health(session: Session, targets: Mapping[str, Target]) -> list[TargetHealth]:
    """Every notification target the store knows (configured or removed), paused ones first."""
    sent_counts = deliveries.sent_counts(session, targets_prefix=APPRISE_TARGET)
    rows = []
    for item in subscription_health(session):
        info = item.info
        if not info.target.startswith(APPRISE_TARGET):
            continue
        name = info.target.removeprefix(APPRISE_TARGET)
        target = targets.get(name)
        rows.append(
            TargetHealth(
                name=name,
                shown=target.shown if target else "—",
                style=target.style if target else "—",
                scope=info.scope,
                value=info.scope_value,
                events=info.kinds,
                status="paused" if info.paused else "active",
                reason=info.pause_reason,
                waiting=item.waiting,
                failed=item.failed,
                sent=sent_counts.get(info.id, 0),
                last_error=item.last_error,
            )
        )
    return rows


def queue_weekly_posts(
    session: Session, configured: Sequence[NotificationSettings], now: datetime, policy: Policy
) -> int:
    """Queue this week's digest or campaign post for each target that wants one and whose time has come.

    One event per target, kind and week (unique, so a restart never posts twice), with one delivery to the
    target. A target never gets a week that began before it was added; a campaign week with nothing newly
    overdue or opened is stored silent (nothing to say), so it is not rebuilt at every tick.
    """
    targets = subscriptions.with_target_prefix(session, prefix=APPRISE_TARGET)
    catalogue: Catalogue | None = None
    queued = 0
    for entry in configured:
        subscription = targets.get(f"{APPRISE_TARGET}{entry.name}")
        if subscription is None or subscription.paused:
            continue
        slot = digest_slot(now, entry.weekday, entry.hour)
        if slot < subscription.created_at:
            continue
        subject, key = f"notification:{entry.name}", slot.date().isoformat()
        for kind in (kind for kind in WEEKLY_KINDS if kind in entry.events):
            if deliveries.event_exists(session, subject=subject, kind=kind, key=key):
                continue
            catalogue = catalogue or load_catalogue(session)
            payload = weekly_payload(session, catalogue, policy, since=slot - timedelta(days=7), on=slot)
            digest = payload["digest"]
            silent = kind == WEEKLY_CAMPAIGN and not digest["sunsets_passed"] and not digest["opened"]
            event = Event(
                subject=subject,
                kind=kind,
                key=key,
                occurred_on=slot.date(),
                payload=json.dumps(payload, sort_keys=True),
                announce=not silent,
            )
            wanted = [] if silent else [(subscription.id, subscription.target)]
            if not deliveries.queue_event(session, event=event, targets=wanted):
                continue  # queued by another process for this slot
            queued += not silent
    session.commit()
    if queued:
        log.info("weekly notification posts queued=%d", queued)
    return queued


def weekly_payload(
    session: Session, catalogue: Catalogue, policy: Policy, *, since: datetime, on: datetime
) -> dict[str, Any]:
    """The week's digest data (as Discord's digest has it) plus each listed model's slug for board links."""
    new = new_model_names(session, since=since)
    digest = build_digest(
        catalogue, policy, since=since.date(), on=on.date(), new_models=new, pledges=top_pledges(session, 5)
    )
    listed = {name for name, _ in digest.sunsets_passed + digest.opened}
    slugs = {record.name: slug for slug, record in catalogue.records.items() if record.name in listed}
    return {"digest": digest.to_payload(), "slugs": slugs}


async def deliver_notifications(app: App, notifier: AppriseNotifier) -> int:
    """Send every due `apprise:` delivery: one lane per target (each in order), the targets side by side."""
    batch = await app.gateway.read(pending, targets_prefix=APPRISE_TARGET, limit=500)
    lanes: dict[str, list[Outgoing]] = defaultdict(list)
    for outgoing in batch:
        lanes[outgoing.target].append(outgoing)
    return await deliver_lanes(app.gateway, lanes.values(), notifier)
