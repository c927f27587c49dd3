"""Writes of chat communities: per-server settings rows and pledges (the read side is `bot.store.guilds`/`pledges`)."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, func, select

from db.models import GuildSettings, Model, Pledge
from trackers.store.models import visible


def guild_settings(session: Session, *, guild_id: int) -> GuildSettings | None:
    """A server's stored settings row, or None."""
    return session.get(GuildSettings, guild_id)


def save_guild_settings(session: Session, *, row: GuildSettings) -> GuildSettings:
    """Add or update a server's settings row."""
    session.add(row)
    session.flush()
    return row


def model_by_slug(session: Session, *, slug: str) -> Model:
    """The visible model with this slug (NoResultFound when there is none, or it is not public)."""
    return session.exec(select(Model).where(Model.slug == slug, visible())).one()


def find_pledge(session: Session, *, model_id: int | None, user_id: int) -> Pledge | None:
    """A user's pledge for a model."""
    return session.exec(select(Pledge).where(Pledge.model_id == model_id, Pledge.user_id == user_id)).first()


def add_pledge(session: Session, *, model_id: int, user_id: int, guild_id: int | None) -> bool:
    """Pledge for a model in a savepoint; False when the pledge exists already (a double click raced us)."""
    try:
        with session.begin_nested():
            session.add(Pledge(model_id=model_id, user_id=user_id, guild_id=guild_id))
    except IntegrityError:
        return False
    return True


def remove_pledge(session: Session, *, pledge: Pledge) -> None:
    """Revoke a pledge."""
    session.delete(pledge)


def pledge_count(session: Session, *, model_id: int | None) -> int:
    """How many pledges a model has."""
    return session.exec(select(func.count()).select_from(Pledge).where(Pledge.model_id == model_id)).one()
