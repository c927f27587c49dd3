"""Subscriptions: who wants which events. Reads and writes only; the rules are in `bot.services.community`."""

from __future__ import annotations

from sqlmodel import Session, col, select

from db.models import Subscription


def active(session: Session) -> list[Subscription]:
    """Every subscription that is not paused."""
    return list(session.exec(select(Subscription).where(col(Subscription.paused).is_(False))).all())


def by_target(session: Session, *, target: str) -> Subscription | None:
    """The first subscription of a target."""
    return session.exec(select(Subscription).where(Subscription.target == target)).first()


def with_target_prefix(session: Session, *, prefix: str) -> dict[str, Subscription]:
    """The subscriptions whose target starts with `prefix`, by target."""
    rows = session.exec(select(Subscription).where(col(Subscription.target).startswith(prefix)))
    return {row.target: row for row in rows}


def find(session: Session, *, target: str, scope: str, scope_value: str | None) -> Subscription | None:
    """The subscription of a target with this scope and value."""
    return session.exec(
        select(Subscription).where(
            Subscription.target == target, Subscription.scope == scope, Subscription.scope_value == scope_value
        )
    ).first()


def get(session: Session, *, subscription_id: int) -> Subscription | None:
    """One subscription by id."""
    return session.get(Subscription, subscription_id)


def save(session: Session, *, subscription: Subscription) -> Subscription:
    """Add or update a subscription; its id is assigned (flushed) when new."""
    session.add(subscription)
    session.flush()
    session.refresh(subscription)
    return subscription


def remove(session: Session, *, subscription: Subscription) -> None:
    """Delete a subscription (its deliveries keep their history)."""
    session.delete(subscription)


def all_by_health_order(session: Session) -> list[Subscription]:
    """Every subscription, paused ones first, then by id."""
    return list(
        session.exec(select(Subscription).order_by(col(Subscription.paused).desc(), col(Subscription.id))).all()
    )


def of_guild_or_user(session: Session, *, guild_id: int | None, user_target: str) -> list[Subscription]:
    """A server's channel subscriptions and one user's DM subscriptions, by id."""
    return list(
        session.exec(
            select(Subscription)
            .where(
                (col(Subscription.guild_id) == guild_id) & col(Subscription.target).startswith("channel:")
                | (col(Subscription.target) == user_target)
            )
            .order_by(col(Subscription.id))
        ).all()
    )


def paused_in_guilds(session: Session) -> list[Subscription]:
    """Paused subscriptions that belong to a server."""
    return list(
        session.exec(
            select(Subscription).where(col(Subscription.paused).is_(True), col(Subscription.guild_id).is_not(None))
        ).all()
    )
