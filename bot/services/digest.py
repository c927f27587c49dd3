"""The weekly digest per server: what changed this week under the server's policy, queued through the outbox.

`build_digest` is pure (records, policy, dates in; a `Digest` out). `queue_due_digests` stores one
`weekly_digest` event per server and week (unique, so a crash or restart never sends two) with one
delivery to the server's alerts channel; the Discord notifier renders it with the chart.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlmodel import Session

from bot.runtime.config import WEEKLY_DIGEST as WEEKLY_DIGEST
from bot.runtime.config import SunsetSettings
from bot.services.community import channel_target
from bot.services.queries import guild_policy, top_pledges
from bot.store import community, deliveries, subscriptions
from bot.store import digests as store_digests
from db.models import Event
from trackers.assess import assess, released_by
from trackers.openness import level_as_of
from trackers.store.models import Catalogue, load_catalogue
from trackers.sunset import Policy, Status

log = logging.getLogger(__name__)

SUBSCRIPTION_PAUSED = "subscription_paused"
APPROACHING_DAYS = 90


@dataclass(frozen=True)
class Digest:
    """One server's week: new models, sunsets passed and approaching, models opened, top pledges, chart data."""

    since: str
    on: str
    window_years: int
    profile: str
    new_models: list[str] = field(default_factory=list)
    sunsets_passed: list[tuple[str, str]] = field(default_factory=list)
    approaching: list[tuple[str, str]] = field(default_factory=list)
    opened: list[tuple[str, str]] = field(default_factory=list)
    top_pledges: list[tuple[str, int]] = field(default_factory=list)
    by_year_level: dict[int, dict[str, int]] = field(default_factory=dict)

    def to_payload(self) -> dict[str, Any]:
        """The JSON-safe payload stored on the digest event."""
        return asdict(self) | {"by_year_level": {str(k): v for k, v in self.by_year_level.items()}}

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> Digest:
        """The digest stored on an event."""
        data = dict(payload)
        data["by_year_level"] = {int(k): v for k, v in data.get("by_year_level", {}).items()}
        for key in ("sunsets_passed", "approaching", "opened", "top_pledges"):
            data[key] = [tuple(item) for item in data.get(key, [])]
        return cls(**data)


def build_digest(
    catalogue: Catalogue,
    policy: Policy,
    *,
    since: date,
    on: date,
    new_models: list[str],
    pledges: list[tuple[str, int]],
) -> Digest:
    """The digest for the half-open week [since, on) under `policy` (pure).

    A sunset passes at the end of its day, so a sunset on `on` itself is still approaching ("today")
    and counts as passed in the next digest, whose `since` is this `on`: consecutive digests tile the
    days, and every sunset is reported as passed in exactly one of them.
    """
    passed, approaching, opened = [], [], []
    by_year: dict[int, Counter[str]] = {}
    required = policy.profile.required_level.rank
    horizon = on + timedelta(days=APPROACHING_DAYS)
    for record in catalogue.records.values():
        if not released_by(record, on):
            continue
        assessment = assess(record, policy, on)
        verdict = assessment.verdict
        if record.first_release is not None:
            by_year.setdefault(record.first_release.year, Counter())[assessment.level.value] += 1
        sunset = verdict.sunset_date
        if verdict.status is Status.OVERDUE and sunset and since <= sunset < on:
            passed.append((record.name, sunset.isoformat()))
        elif not verdict.meets_requirement and sunset and on <= sunset <= horizon:
            approaching.append((record.name, sunset.isoformat()))
        if assessment.level.rank >= required > level_as_of(record, since).rank:
            opened.append((record.name, assessment.level.value))
    return Digest(
        since=since.isoformat(),
        on=on.isoformat(),
        window_years=policy.window_years,
        profile=policy.profile.value,
        new_models=sorted(new_models),
        sunsets_passed=sorted(passed, key=lambda item: item[1]),
        approaching=sorted(approaching, key=lambda item: item[1]),
        opened=sorted(opened),
        top_pledges=pledges,
        by_year_level={year: dict(sorted(c.items())) for year, c in sorted(by_year.items())},
    )


def digest_slot(now: datetime, weekday: int, hour: int) -> datetime:
    """The most recent digest time (weekday and hour, UTC) at or before `now`."""
    slot = now.replace(minute=0, second=0, microsecond=0, hour=hour) - timedelta(days=(now.weekday() - weekday) % 7)
    return slot if slot <= now else slot - timedelta(days=7)


def queue_due_digests(session: Session, now: datetime, defaults: SunsetSettings) -> list[int]:
    """Queue this week's digest for every server whose digest time has come; returns their ids (idempotent)."""
    queued: list[int] = []
    catalogue: Catalogue | None = None
    for row in store_digests.guilds_with_digests(session):
        assert row.digest_weekday is not None and row.alerts_channel_id is not None
        slot = digest_slot(now, row.digest_weekday, row.digest_hour or 0)
        if row.last_digest_at is not None and row.last_digest_at >= slot:
            continue
        catalogue = catalogue or load_catalogue(session)
        since = row.last_digest_at or slot - timedelta(days=7)
        policy = guild_policy(session, row.guild_id, defaults)
        new = store_digests.new_model_names(session, since=since)
        pledges = top_pledges(session, 5)
        digest = build_digest(catalogue, policy, since=since.date(), on=now.date(), new_models=new, pledges=pledges)
        event = Event(
            subject=f"guild:{row.guild_id}",
            kind=WEEKLY_DIGEST,
            key=slot.date().isoformat(),
            occurred_on=slot.date(),
            payload=json.dumps(digest.to_payload(), sort_keys=True),
        )
        row.last_digest_at = now
        target = channel_target(row.alerts_channel_id)
        if not deliveries.queue_event(session, event=event, targets=[(None, target)], also=[row]):
            continue  # already queued for this slot (another process, or before a crash)
        queued.append(row.guild_id)
    session.commit()
    if queued:
        log.info("digests queued=%d", len(queued))
    return queued


def queue_pause_notices(session: Session, today: date) -> int:
    """Tell each server's alerts channel, once, about a subscription paused because its target is gone."""
    queued = 0
    for subscription in subscriptions.paused_in_guilds(session):
        assert subscription.guild_id is not None
        settings = community.guild_settings(session, guild_id=subscription.guild_id)
        if settings is None or settings.alerts_channel_id is None:
            continue
        alerts = channel_target(settings.alerts_channel_id)
        if alerts == subscription.target:
            continue  # the broken channel is the alerts channel: /tracker status shows it
        subject, key = f"subscription:{subscription.id}", (subscription.pause_reason or "")[:120]
        if deliveries.event_exists(session, subject=subject, kind=SUBSCRIPTION_PAUSED, key=key):
            continue
        payload = {"id": subscription.id, "target": subscription.target, "reason": subscription.pause_reason}
        event = Event(
            subject=subject,
            kind=SUBSCRIPTION_PAUSED,
            key=key,
            occurred_on=today,
            payload=json.dumps(payload, sort_keys=True),
        )
        queued += deliveries.queue_event(session, event=event, targets=[(None, alerts)])
    session.commit()
    return queued
