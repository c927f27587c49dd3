"""What the bot role reads of the tracker role's work (the two may run in separate processes)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, select

from db.models import Source


def last_poll(session: Session) -> datetime | None:
    """When the trackers last finished polling a source (None before the first poll)."""
    return session.exec(select(func.max(Source.last_attempt_at))).one()
