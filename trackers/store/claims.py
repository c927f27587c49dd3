"""Tracker workers sharing the sources: claim due sources, keep the claims alive, release them.

A claim is two columns of the source's row: `claimed_by` (the worker) and `claimed_until`. A worker
claims a batch of due sources, polls them, and releases each in the transaction that stores its outcome
and next poll, so no source is polled twice for one due time. A worker that dies stops renewing its
claims; once `claimed_until` has passed, another worker claims them. On PostgreSQL concurrent claims
skip each other's locked rows (`FOR UPDATE SKIP LOCKED`); SQLite has one writer at a time and no row
locks, and the same statement works there without them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import or_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from db.models import Source

INACTIVE = ("paused", "disabled")
ROWS_PER_INSERT = 500  # 4 parameters a row: well under SQLite's 32,766 and PostgreSQL's 65,535


def ensure_rows(session: Session, *, sources: Sequence[tuple[str, str, str | None]]) -> None:
    """Create a row (status `never`, due at once) for each (name, kind, lab) that has none, so it can be claimed."""
    if not sources:
        return
    table = Source.metadata.tables["source"]
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    for start in range(0, len(sources), ROWS_PER_INSERT):
        rows = [
            {"name": name, "kind": kind, "lab": lab, "status": "never"}
            for name, kind, lab in sources[start : start + ROWS_PER_INSERT]
        ]
        session.execute(insert(table).values(rows).on_conflict_do_nothing(index_elements=["name"]))


def claim_due(
    session: Session, *, names: Sequence[str], worker: str, now: datetime, until: datetime, limit: int
) -> list[Source]:
    """Claim up to `limit` of `names` that are due, active and unclaimed (or whose claim expired), soonest first.

    A source already attempted at `now` is not claimed again in the same cycle. Returns the claimed rows
    (with their validators); the claims hold once the caller commits.
    """
    due = (
        select(Source.id)
        .where(
            col(Source.name).in_(names),
            col(Source.status).not_in(INACTIVE),
            or_(col(Source.next_due_at).is_(None), col(Source.next_due_at) <= now),
            or_(col(Source.claimed_until).is_(None), col(Source.claimed_until) <= now),
            or_(col(Source.last_attempt_at).is_(None), col(Source.last_attempt_at) < now),
        )
        .order_by(col(Source.next_due_at).asc().nulls_first(), col(Source.id))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    statement = (
        update(Source)
        .where(col(Source.id).in_(due))
        .values(claimed_by=worker, claimed_until=until)
        .returning(Source)
        .execution_options(synchronize_session=False)
    )
    return list(session.scalars(statement).all())


def extend(session: Session, *, worker: str, until: datetime) -> int:
    """Move the expiry of every claim `worker` holds to `until` (its heartbeat during a cycle); returns how many.

    Rows locked meanwhile — the worker's own transaction storing them, which releases them — are skipped:
    waiting for them, in an order of its own, would deadlock with that transaction.
    """
    held = select(Source.id).where(col(Source.claimed_by) == worker).with_for_update(skip_locked=True)
    statement = (
        update(Source)
        .where(col(Source.id).in_(held))
        .values(claimed_until=until)
        .execution_options(synchronize_session=False)
    )
    return int(session.execute(statement).rowcount)  # type: ignore[attr-defined]


def release(session: Session, *, worker: str, names: Sequence[str] | None = None) -> int:
    """Release `worker`'s claims on `names` (on all its sources when None); returns how many were released."""
    statement = update(Source).where(col(Source.claimed_by) == worker)
    if names is not None:
        statement = statement.where(col(Source.name).in_(names))
    released = statement.values(claimed_by=None, claimed_until=None).execution_options(synchronize_session=False)
    return int(session.execute(released).rowcount)  # type: ignore[attr-defined]


def claimed(session: Session, *, now: datetime) -> dict[str, str]:
    """The sources under a live claim (`claimed_until` after `now`), with the worker holding each."""
    rows = session.exec(select(Source.name, Source.claimed_by).where(col(Source.claimed_until) > now)).all()
    return {name: worker for name, worker in rows if worker is not None}
