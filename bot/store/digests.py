"""What the weekly digests read: servers that want one, and the models new since a moment (visible ones only)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from db.models import GuildSettings, Model
from trackers.store.models import visible


def guilds_with_digests(session: Session) -> list[GuildSettings]:
    """Servers with a digest time and an alerts channel."""
    return list(
        session.exec(
            select(GuildSettings).where(
                col(GuildSettings.digest_weekday).is_not(None), col(GuildSettings.alerts_channel_id).is_not(None)
            )
        ).all()
    )


def new_model_names(session: Session, *, since: datetime) -> list[str]:
    """Names of the visible models first stored after `since`."""
    return list(session.exec(select(Model.name).where(col(Model.created_at) > since, visible())).all())
