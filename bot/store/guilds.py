"""Reads of a server's own rows: its settings and its paused subscriptions."""

from __future__ import annotations

from sqlmodel import Session, select

from db.models import GuildSettings, Subscription


def guild_settings(session: Session, *, guild_id: int) -> GuildSettings | None:
    """A server's settings row, if it has one."""
    return session.get(GuildSettings, guild_id)


def paused_subscriptions(session: Session, *, guild_id: int | None) -> list[Subscription]:
    """A server's paused subscriptions."""
    statement = select(Subscription).where(Subscription.guild_id == guild_id, Subscription.paused == True)  # noqa: E712
    return list(session.exec(statement).all())
