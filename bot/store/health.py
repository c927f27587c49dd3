"""What the health endpoint reads: the delivery backlog and the trackers' last poll (read-only, never commits)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, func, select

from db.models import Delivery, Source

WAITING = ("pending", "sending")
FAILING = ("error", "paused")
CATALOG_FILE_PREFIX = "catalog:"  # one row per loaded lab file, written by the catalog sync rather than a poll


@dataclass(frozen=True)
class Backlog:
    """Deliveries not yet sent (pending or interrupted mid-send) and when the oldest was queued."""

    waiting: int
    oldest: datetime | None


@dataclass(frozen=True)
class Polling:
    """The configured sources' latest attempt, and how many are failing or paused."""

    sources: int
    failing: int
    last_attempt: datetime | None


def delivery_backlog(session: Session) -> Backlog:
    """How many deliveries wait to be sent, and the oldest one's queue time."""
    waiting, oldest = session.exec(
        select(func.count(), func.min(Delivery.created_at)).where(col(Delivery.status).in_(WAITING))
    ).one()
    return Backlog(waiting=waiting, oldest=oldest)


def polling(session: Session) -> Polling:
    """The polled sources (catalog file rows left out): count, failing, latest attempt."""
    polled = ~col(Source.name).startswith(CATALOG_FILE_PREFIX)
    failing = func.count().filter(col(Source.status).in_(FAILING))
    query = select(func.count(), failing, func.max(Source.last_attempt_at)).where(polled)
    sources, failed, last = session.exec(query).one()
    return Polling(sources=sources, failing=failed, last_attempt=last)
