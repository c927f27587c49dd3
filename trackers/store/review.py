"""What moderation reads and writes: the unconfirmed models waiting for review, merges, states, and evidence.

The review queue is the moderators' own view, so its reads show unconfirmed models on purpose; the
evidence every surface shows (`status --evidence`, the board) is of visible models only.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, delete, select

from db.models import Alias, Lab, Model, Observation, OpennessChange
from trackers.store.models import visible


@dataclass(frozen=True)
class Evidence:
    """One observation as shown by `sunset status NAME --evidence`."""

    fact: str
    value: str
    origin: str
    rank: int
    url: str
    seen_at: datetime
    note: str | None


def unconfirmed(session: Session) -> list[tuple[Model, Lab]]:
    """Every unconfirmed model with its lab, oldest first."""
    rows = session.exec(
        select(Model, Lab).join(Lab, col(Lab.id) == col(Model.lab_id)).where(Model.state == "unconfirmed")
    ).all()
    return sorted(rows, key=lambda row: (row[0].created_at, row[0].slug))


def confirmed_names(session: Session, *, lab_ids: Collection[int]) -> dict[int, list[tuple[str, str]]]:
    """Lab id → (slug, name or alias) of each of the lab's visible models."""
    found: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for lab_id, slug, alias in session.exec(
        select(Model.lab_id, Model.slug, Alias.name)
        .join(Alias, col(Alias.model_id) == col(Model.id))
        .where(visible(), col(Model.lab_id).in_(list(lab_ids)))
    ).all():
        found[lab_id].append((slug, alias))
    return found


def claims_of(session: Session, *, model_ids: Collection[int]) -> dict[int, list[tuple[str, str, str]]]:
    """Model id → its observations' (fact, value, url), in the order they were stored."""
    found: dict[int, list[tuple[str, str, str]]] = defaultdict(list)
    for model_id, fact, value, url in session.exec(
        select(Observation.model_id, Observation.fact, Observation.value, Observation.url)
        .where(col(Observation.model_id).in_(list(model_ids)))
        .order_by(col(Observation.id))
    ).all():
        found[model_id].append((fact, value, url))
    return found


def find_unconfirmed(session: Session, *, name: str, key: str) -> Model | None:
    """The unconfirmed model with this slug, or with an alias of this normalised key."""
    return session.exec(
        select(Model)
        .join(Alias, col(Alias.model_id) == col(Model.id), isouter=True)
        .where((Model.slug == name) | (Alias.key == key), Model.state == "unconfirmed")
    ).first()


def find_visible(session: Session, *, key: str) -> Model | None:
    """The visible model with an alias of this normalised key."""
    return session.exec(
        select(Model).join(Alias, col(Alias.model_id) == col(Model.id)).where(Alias.key == key, visible())
    ).first()


def lab_slug(session: Session, *, lab_id: int) -> str | None:
    """A lab's slug."""
    lab = session.get(Lab, lab_id)
    return lab.slug if lab else None


def set_state(session: Session, *, model: Model, state: str, now: datetime) -> None:
    """Change a model's state (confirmed, rejected …)."""
    model.state, model.updated_at = state, now
    session.add(model)


def add_note(session: Session, *, model_id: int, fact: str, value: str, origin: str, rank: int, now: datetime) -> None:
    """Record a moderator's decision as an observation of the model."""
    session.add(
        Observation(
            model_id=model_id,
            origin=origin,
            rank=rank,
            fact=fact,
            value=value,
            url="moderator:review",
            seen_at=now,
        )
    )


def fold(session: Session, *, source: Model, target: Model, origin: str) -> None:
    """Move a model's names (but its slug) and observations to another, then delete it and its history."""
    assert target.id is not None
    keys = set(session.exec(select(Alias.key).where(Alias.model_id == target.id)).all())
    for alias in session.exec(select(Alias).where(Alias.model_id == source.id, Alias.kind != "slug")).all():
        if alias.key not in keys:
            keys.add(alias.key)
            session.add(Alias(model_id=target.id, name=alias.name, key=alias.key, kind=alias.kind, origin=origin))
    existing = set(
        session.exec(
            select(Observation.origin, Observation.fact, Observation.value, Observation.url).where(
                Observation.model_id == target.id
            )
        ).all()
    )
    for observation in session.exec(select(Observation).where(Observation.model_id == source.id)).all():
        if (observation.origin, observation.fact, observation.value, observation.url) not in existing:
            fields = observation.model_dump(exclude={"id", "model_id"})
            session.add(Observation(model_id=target.id, **fields))
    for table in (Alias, Observation, OpennessChange):
        session.exec(delete(table).where(col(table.model_id) == source.id))
    session.delete(source)


def evidence_by_model(session: Session, *, slugs: set[str] | None = None) -> dict[str, list[Evidence]]:
    """Every observation of each visible model (all, or those in `slugs`): by fact, highest precedence, newest."""
    statement = select(Model.slug, Observation).join(Model, col(Model.id) == col(Observation.model_id)).where(visible())
    if slugs is not None:
        statement = statement.where(col(Model.slug).in_(slugs))
    rows = session.exec(
        statement.order_by(col(Observation.fact), col(Observation.rank).desc(), col(Observation.seen_at).desc())
    ).all()
    found: dict[str, list[Evidence]] = {}
    for slug, o in rows:
        found.setdefault(slug, []).append(Evidence(o.fact, o.value, o.origin, o.rank, o.url, o.seen_at, o.note))
    return found
