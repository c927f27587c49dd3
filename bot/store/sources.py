"""The sources' stored health, as the bot shows it (the trackers own the writes)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, select

from db.models import Source


def source_rows(session: Session) -> dict[str, Source]:
    """Every stored source row, by name."""
    return {row.name: row for row in session.exec(select(Source)).all()}


def last_poll(session: Session) -> datetime | None:
    """When the trackers last finished polling a source (None before the first poll)."""
    return session.exec(select(func.max(Source.last_attempt_at))).one()
