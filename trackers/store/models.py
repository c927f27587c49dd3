"""Reading models out of the database as plain records, and resolving names typed by people."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement
from sqlmodel import Session, col, select

from db.models import Alias, Lab, Model, Observation, OpennessChange
from trackers.names import family_first, normalise_name, suggest
from trackers.records import (
    ModelRecord,
)
from trackers.store.rows import VISIBLE_STATES, record_of


def visible() -> ColumnElement[bool]:
    """The one filter every public surface applies: only confirmed models (never unreviewed or rejected ones)."""
    return col(Model.state).in_(VISIBLE_STATES)


@dataclass(frozen=True)
class Catalogue:
    """Every visible model as a record, with its lab's display name and its source URLs."""

    records: dict[str, ModelRecord]
    lab_names: dict[str, str]
    sources: dict[str, tuple[str, ...]]

    def lab_name(self, record: ModelRecord) -> str:
        """Display name of a record's lab."""
        return self.lab_names.get(record.lab, record.lab)


@dataclass(frozen=True)
class Resolution:
    """The model a typed name resolved to, or the closest suggestions when it did not."""

    slug: str | None
    suggestions: tuple[str, ...] = ()


def load_catalogue(
    session: Session, *, slugs: set[str] | None = None, ids: set[int] | None = None, with_sources: bool = True
) -> Catalogue:
    """Load visible models (all, or those in `slugs` or `ids` plus their bases) as records.

    A selection reads only its own rows and their bases' (by index), never the whole table.
    """
    statement = select(Model, Lab).join(Lab, col(Model.lab_id) == col(Lab.id)).where(visible())
    everything = slugs is None and ids is None
    if everything:
        rows = session.exec(statement).all()
        by_id = {model.id: (model, lab) for model, lab in rows if model.id is not None}
        wanted = set(by_id)
    else:
        by_id = {}
        chosen = col(Model.slug).in_(slugs or ()) if ids is None else col(Model.id).in_(ids)
        found = session.exec(statement.where(chosen)).all()
        wanted = {model.id for model, _ in found if model.id is not None}
        while found:  # then their bases, a generation at a time
            by_id |= {model.id: (model, lab) for model, lab in found if model.id is not None}
            bases = {model.base_id for model, _ in found if model.base_id is not None} - set(by_id)
            found = session.exec(statement.where(col(Model.id).in_(bases))).all() if bases else []
        wanted |= _bases_of(wanted, by_id)
    # The whole catalogue is selected by a subquery: a million ids would exceed the bound-parameter limit.
    of_wanted: Any = select(Model.id).where(visible()) if everything else wanted
    changes = defaultdict(list)
    for change in session.exec(select(OpennessChange).where(col(OpennessChange.model_id).in_(of_wanted))).all():
        changes[change.model_id].append(change)
    aliases = defaultdict(list)
    for alias in session.exec(
        select(Alias).where(col(Alias.model_id).in_(of_wanted), col(Alias.kind).not_in(("slug", "name")))
    ).all():
        aliases[alias.model_id].append(alias.name)
    sources: dict[int, list[str]] = defaultdict(list)
    observations = select(Observation.model_id, Observation.url).where(col(Observation.model_id).in_(of_wanted))
    ordered = observations.order_by(col(Observation.rank).desc(), col(Observation.id))
    for model_id, url in session.exec(ordered).all() if with_sources else ():
        if url not in sources[model_id]:
            sources[model_id].append(url)
    records: dict[int, ModelRecord] = {}

    def build(model_id: int) -> ModelRecord:
        if model_id not in records:
            model, lab = by_id[model_id]
            base_id = model.base_id
            base = build(base_id) if base_id is not None and base_id in by_id and base_id in wanted else None
            records[model_id] = record_of(model, lab.slug, changes[model_id], aliases[model_id], base)
        return records[model_id]

    for model_id in wanted:
        build(model_id)
    return Catalogue(
        records={record.slug: record for record in records.values()},
        lab_names={lab.slug: lab.name for _, lab in by_id.values()},
        sources={by_id[model_id][0].slug: tuple(urls) for model_id, urls in sources.items()},
    )


def resolve_name(session: Session, text: str) -> Resolution:
    """Exact match on name, slug or alias ignoring case and punctuation; else up to five fuzzy suggestions."""
    key = normalise_name(text)
    shown = visible()
    if key:
        hit = session.exec(
            select(Model.slug).join(Alias, col(Alias.model_id) == col(Model.id)).where(Alias.key == key, shown)
        ).first()
        if hit:
            return Resolution(slug=hit)
    rows = session.exec(
        select(Model.slug, Alias.name, Model.first_release)
        .join(Alias, col(Alias.model_id) == col(Model.id))
        .where(shown)
    ).all()
    # A Hub repository typed without its owner ('Llama-2-7b-chat-hf' for 'meta-llama/Llama-2-7b-chat-hf').
    repos = {slug for slug, name, _ in rows if "/" in name and normalise_name(name.rsplit("/", 1)[1]) == key}
    if len(repos) == 1:
        return Resolution(slug=repos.pop())
    names_of: dict[str, list[str]] = defaultdict(list)
    released: dict[str, str] = {}
    for slug, name, first_release in rows:
        names_of[slug].append(name)
        released[slug] = first_release or ""
    family = family_first(text, ((slug, names, released[slug]) for slug, names in names_of.items()))
    fuzzy = suggest(text, [(slug, name) for slug, name, _ in rows])
    return Resolution(slug=None, suggestions=tuple(dict.fromkeys(sorted(repos) + family + fuzzy))[:5])


def _bases_of(ids: set[int], by_id: dict[int, tuple[Model, Lab]]) -> set[int]:
    found: set[int] = set()
    frontier = set(ids)
    while frontier:
        bases = {by_id[model_id][0].base_id for model_id in frontier if model_id in by_id}
        frontier = {base for base in bases if base is not None and base not in found and base not in ids}
        found |= frontier
    return found
