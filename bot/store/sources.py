"""The sources' stored health, as the bot shows it (the trackers own the writes)."""

from __future__ import annotations

from sqlmodel import Session, select

from db.models import Source


def source_rows(session: Session) -> dict[str, Source]:
    """Every stored source row, by name."""
    return {row.name: row for row in session.exec(select(Source)).all()}
