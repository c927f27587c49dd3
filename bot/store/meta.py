"""Small key-value facts about the store (the `meta` table): command-sync digests, notification fingerprints."""

from __future__ import annotations

from sqlmodel import Session

from db.models import Meta


def get(session: Session, *, key: str) -> str | None:
    """The value stored under `key`, or None."""
    row = session.get(Meta, key)
    return row.value if row else None


def put(session: Session, *, key: str, value: str) -> None:
    """Store `value` under `key` (replacing what was there)."""
    session.merge(Meta(key=key, value=value))
