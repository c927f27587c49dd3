"""The sources' rows: their health, validators and next poll, as the tracking cycle reads and writes them.

Nothing here commits: the cycle owns its short transactions.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime

from sqlalchemy import bindparam, case, update
from sqlmodel import Session, col, select

from db.models import Alias, Source


def source_rows(session: Session, *, names: Collection[str] | None = None) -> dict[str, Source]:
    """The stored rows by source name: every source's, or only the named ones'."""
    statement = select(Source)
    if names is not None:
        statement = statement.where(col(Source.name).in_(list(names)))
    return {row.name: row for row in session.exec(statement).all()}


def save_source(session: Session, *, row: Source) -> None:
    """Add or update one source's row (written at the caller's commit)."""
    session.add(row)


def known_hub_repos(session: Session) -> frozenset[str]:
    """Every Hugging Face repository id some model is already known by."""
    return frozenset(session.exec(select(Alias.name).where(Alias.kind == "hf_repo")).all())


def record_not_modified(
    session: Session, *, next_due: Mapping[str, datetime | None], now: datetime, keep_errors_starting: str
) -> None:
    """Sources that answered 304, in one statement: failures reset, the next poll moved out, an error cleared.

    An error that starts with `keep_errors_starting` (a warning about the document's content) stays, since the
    document is the same.
    """
    if not next_due:
        return
    table = Source.metadata.tables["source"]
    statement = (
        update(table)
        .where(table.c.name == bindparam("b_name"))
        .values(
            status="not_modified",
            consecutive_failures=0,
            next_due_at=bindparam("b_next"),
            last_attempt_at=now,
            last_ok_at=now,
            last_error=case((table.c.last_error.startswith(keep_errors_starting), table.c.last_error), else_=None),
        )
    )
    session.execute(statement, [{"b_name": name, "b_next": due} for name, due in next_due.items()])
