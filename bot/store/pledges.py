"""Reads of pledges: counts per model and the most pledged (visible models only)."""

from __future__ import annotations

from sqlmodel import Session, col, func, select

from db.models import Model, Pledge
from trackers.store.models import visible


def pledge_count(session: Session, *, slug: str) -> int:
    """How many people pledged for a model, across all servers."""
    statement = select(func.count()).select_from(Pledge).join(Model, col(Model.id) == col(Pledge.model_id))
    return session.exec(statement.where(Model.slug == slug, visible())).one()


def pledge_counts(session: Session) -> dict[str, int]:
    """How many people pledged for each visible model (slug → count; models without pledges left out), in one query."""
    count = func.count(col(Pledge.id))
    rows = session.exec(
        select(Model.slug, count)
        .join(Pledge, col(Pledge.model_id) == col(Model.id))
        .where(visible())
        .group_by(col(Model.slug))
    ).all()
    return {slug: int(n) for slug, n in rows}


def top_pledges(session: Session, *, limit: int) -> list[tuple[str, int]]:
    """The most-pledged visible models (name, count) across all servers."""
    count = func.count(col(Pledge.id))
    rows = session.exec(
        select(Model.name, count)
        .join(Pledge, col(Pledge.model_id) == col(Model.id))
        .where(visible())
        .group_by(col(Model.id), col(Model.name))
        .order_by(count.desc(), col(Model.name))
        .limit(limit)
    ).all()
    return [(name, int(n)) for name, n in rows]
