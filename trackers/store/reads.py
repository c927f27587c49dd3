"""Reads the surfaces need beside the assessments: labs, a model's history, sources' health, names for autocomplete."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass

from sqlmodel import Session, col, select

from db.models import Alias, Event, Lab, Model, Observation, Source
from trackers.store.models import visible


@dataclass(frozen=True)
class LabRow:
    """A lab as lists and lookups need it."""

    id: int
    slug: str
    name: str
    url: str | None
    hf_orgs: str


def labs(session: Session) -> list[LabRow]:
    """Every lab, by name."""
    rows = session.exec(select(Lab).order_by(col(Lab.name))).all()
    return [LabRow(lab.id or 0, lab.slug, lab.name, lab.url, lab.hf_orgs) for lab in rows]


def visible_model(session: Session, *, slug: str) -> Model | None:
    """The visible model with this slug."""
    return session.exec(select(Model).where(Model.slug == slug, visible())).first()


def model_events(session: Session, *, model_id: int) -> list[Event]:
    """A model's events, oldest first."""
    statement = select(Event).where(Event.model_id == model_id).order_by(col(Event.occurred_on), col(Event.id))
    return list(session.exec(statement).all())


def model_observations(session: Session, *, model_id: int) -> list[Observation]:
    """A model's observations, oldest first."""
    statement = (
        select(Observation)
        .where(Observation.model_id == model_id)
        .order_by(col(Observation.seen_at), col(Observation.id))
    )
    return list(session.exec(statement).all())


def sources(session: Session) -> list[Source]:
    """Every source, by name."""
    return list(session.exec(select(Source).order_by(col(Source.name))).all())


def recent_events(session: Session, *, kind: str, limit: int) -> list[Event]:
    """The latest events of one kind, newest first."""
    return list(session.exec(select(Event).where(Event.kind == kind).order_by(col(Event.id).desc()).limit(limit)).all())


def name_rows(session: Session) -> list[tuple[str, str, str]]:
    """(slug, name, alias) of every visible model's names and aliases."""
    statement = select(Model.slug, Model.name, Alias.name).join(Alias, col(Alias.model_id) == col(Model.id))
    return [(slug, name, alias) for slug, name, alias in session.exec(statement.where(visible())).all()]


def model_names(session: Session, *, ids: Collection[int]) -> dict[int, tuple[str, str]]:
    """(slug, name) of the visible models among `ids` (a page of autocomplete), by id."""
    if not ids:
        return {}
    rows = session.exec(select(Model.id, Model.slug, Model.name).where(col(Model.id).in_(ids), visible())).all()
    return {model_id: (slug, name) for model_id, slug, name in rows if model_id is not None}


def name_keys(session: Session) -> Iterator[tuple[str, int, str, str]]:
    """(normalised key, model id, slug, name) of every visible model's names and aliases, sorted by key then
    model, streamed (a million models' names are never all in memory at once)."""
    statement = (
        select(Alias.key, Model.id, Model.slug, Model.name)
        .join(Alias, col(Alias.model_id) == col(Model.id))
        .where(visible(), Alias.key != "")
        .order_by(col(Alias.key), col(Model.slug))
        .execution_options(yield_per=10_000)
    )
    for key, model_id, slug, name in session.exec(statement):
        yield key, model_id or 0, slug, name
