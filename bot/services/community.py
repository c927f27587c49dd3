"""Write-side services for chat communities: subscriptions, per-server settings, pledges and challenges.

Plain keyword-only functions over a session; they know servers, channels and users only as ids and
never import Discord. Refusals a person can fix raise `CommunityError` with the sentence to show.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from bot.runtime.config import ALERT_EVENTS, DEFAULT_EVENTS
from bot.store import community, deliveries, subscriptions
from db.models import GuildSettings, Subscription
from trackers import challenges
from trackers.sunset import WINDOW_MAX, WINDOW_MIN, Profile

DEFAULT_KINDS = DEFAULT_EVENTS
SUBSCRIBABLE_KINDS = ALERT_EVENTS
SCOPES = ("all", "lab", "model")


class CommunityError(Exception):
    """A request we refuse, phrased for the person who made it."""


def channel_target(channel_id: int) -> str:
    """The delivery target of a channel."""
    return f"channel:{channel_id}"


def user_target(user_id: int) -> str:
    """The delivery target of a user's DMs."""
    return f"user:{user_id}"


@dataclass(frozen=True)
class SubscriptionInfo:
    """A subscription as people see it."""

    id: int
    target: str
    scope: str
    scope_value: str | None
    kinds: tuple[str, ...]
    paused: bool
    pause_reason: str | None


@dataclass(frozen=True)
class SubscriptionHealth:
    """A subscription and how its deliveries fare: what `sunset subscriptions` shows operators."""

    info: SubscriptionInfo
    guild_id: int | None
    waiting: int
    failed: int
    last_error: str | None


def subscription_health(session: Session) -> list[SubscriptionHealth]:
    """Every subscription, paused ones first, with its waiting and failed deliveries and the last error."""
    counts = deliveries.delivery_tallies(session)
    health = []
    for row in subscriptions.all_by_health_order(session):
        error = deliveries.last_error(session, subscription_id=row.id)
        waiting = counts.get((row.id, "pending"), 0) + counts.get((row.id, "sending"), 0)
        health.append(SubscriptionHealth(_info(row), row.guild_id, waiting, counts.get((row.id, "failed"), 0), error))
    return health


def _info(row: Subscription) -> SubscriptionInfo:
    return SubscriptionInfo(
        id=row.id or 0,
        target=row.target,
        scope=row.scope,
        scope_value=row.scope_value,
        kinds=tuple(kind for kind in row.kinds.split(",") if kind),
        paused=row.paused,
        pause_reason=row.pause_reason,
    )


def subscribe(
    session: Session,
    *,
    guild_id: int | None,
    target: str,
    scope: str,
    scope_value: str | None,
    kinds: Iterable[str],
    created_by: int,
) -> tuple[SubscriptionInfo, bool]:
    """Create a subscription (or update the kinds of the same target+scope); returns it and whether it is new.

    Events that happened before the subscription existed are never delivered to it.
    """
    if scope not in SCOPES:
        raise CommunityError(f"Scope must be one of: {', '.join(SCOPES)}.")
    if scope != "all" and not scope_value:
        raise CommunityError(f"A {scope} subscription needs the {scope}'s name.")
    chosen = tuple(dict.fromkeys(kinds)) or DEFAULT_KINDS
    unknown = [kind for kind in chosen if kind not in SUBSCRIBABLE_KINDS]
    if unknown:
        raise CommunityError(f"Unknown event kinds: {', '.join(unknown)}.")
    value = scope_value if scope != "all" else None
    existing = subscriptions.find(session, target=target, scope=scope, scope_value=value)
    if existing is not None:
        existing.kinds = ",".join(chosen)
        existing.paused, existing.pause_reason = False, None
        subscriptions.save(session, subscription=existing)
        session.commit()
        return _info(existing), False
    row = Subscription(
        guild_id=guild_id, target=target, scope=scope, scope_value=value, kinds=",".join(chosen), created_by=created_by
    )
    subscriptions.save(session, subscription=row)
    session.commit()
    return _info(row), True


def subscriptions_for(session: Session, *, guild_id: int | None, user_id: int) -> list[SubscriptionInfo]:
    """This server's channel subscriptions and the user's own DM subscriptions, by id."""
    rows = subscriptions.of_guild_or_user(session, guild_id=guild_id, user_target=user_target(user_id))
    return [_info(row) for row in rows]


def unsubscribe(session: Session, *, subscription_id: int, guild_id: int | None, user_id: int, can_manage: bool) -> str:
    """Delete a subscription the user may remove (their DMs; this server's channels with Manage Server)."""
    row = subscriptions.get(session, subscription_id=subscription_id)
    own = row is not None and row.target == user_target(user_id)
    in_guild = row is not None and row.guild_id == guild_id and row.target.startswith("channel:")
    if row is None or not (own or in_guild):
        raise CommunityError(f"No subscription #{subscription_id} here. `/subscriptions` lists the ids.")
    if in_guild and not own and not can_manage:
        raise CommunityError("Removing a channel subscription needs the Manage Server permission.")
    target = row.target
    subscriptions.remove(session, subscription=row)
    session.commit()
    return target


# ── per-server settings ──────────────────────────────────────────────────────────────────────────


def get_settings(session: Session, guild_id: int) -> GuildSettings:
    """This server's settings row (unsaved defaults when it has none)."""
    return community.guild_settings(session, guild_id=guild_id) or GuildSettings(guild_id=guild_id)


def update_settings(
    session: Session,
    guild_id: int,
    *,
    alerts_channel_id: int | None = None,
    window_years: int | None = None,
    profile: str | None = None,
    digest: tuple[int, int] | None = None,
    digest_off: bool = False,
) -> GuildSettings:
    """Change one or more of this server's settings; validates like the config file does."""
    if window_years is not None and not WINDOW_MIN <= window_years <= WINDOW_MAX:
        raise CommunityError(f"The window must be {WINDOW_MIN} to {WINDOW_MAX} years.")
    if profile is not None and profile not in {p.value for p in Profile}:
        raise CommunityError(f"The profile must be one of: {', '.join(p.value for p in Profile)}.")
    if digest is not None and not (0 <= digest[0] <= 6 and 0 <= digest[1] <= 23):
        raise CommunityError("The digest needs a weekday (Monday–Sunday) and an hour 0–23 (UTC).")
    row = get_settings(session, guild_id)
    if alerts_channel_id is not None:
        row.alerts_channel_id = alerts_channel_id
    if window_years is not None:
        row.window_years = window_years
    if profile is not None:
        row.profile = profile
    if digest is not None:
        row.digest_weekday, row.digest_hour = digest
    if digest_off:
        row.digest_weekday = row.digest_hour = None
    community.save_guild_settings(session, row=row)
    session.commit()
    return row


# ── pledges ──────────────────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class PledgeResult:
    """What a pledge (or its revocation) did, and the model's count afterwards."""

    model: str
    pledged: bool
    changed: bool
    count: int


def pledge(session: Session, *, slug: str, user_id: int, guild_id: int | None, revoke: bool = False) -> PledgeResult:
    """Pledge for a model (one pledge per user per model), or revoke it; idempotent either way."""
    model = community.model_by_slug(session, slug=slug)
    existing = community.find_pledge(session, model_id=model.id, user_id=user_id)
    changed = False
    if revoke and existing is not None:
        community.remove_pledge(session, pledge=existing)
        changed = True
    elif not revoke and existing is None and model.id is not None:
        # False when a double click raced us: the pledge exists, which is what was asked.
        changed = community.add_pledge(session, model_id=model.id, user_id=user_id, guild_id=guild_id)
    session.commit()
    count = community.pledge_count(session, model_id=model.id)
    return PledgeResult(model=model.name, pledged=not revoke, changed=changed, count=count)


def report_fact(
    session: Session, *, name: str, fact: str, value: str, source: str, note: str | None, user_id: int, now: datetime
) -> int:
    """A member's challenge to a fact, queued for review; they are told the outcome by DM. Returns its number."""
    try:
        challenge = challenges.submit(
            session,
            name=name,
            fact=fact,
            value=value,
            source=source,
            note=note,
            reporter=f"discord:{user_id}",
            notify=user_target(user_id),
            now=now,
        )
    except challenges.ChallengeError as error:
        raise CommunityError(str(error)) from error
    session.commit()
    return challenge.id or 0
