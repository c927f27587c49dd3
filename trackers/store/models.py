"""Reading models out of the database as plain records, and resolving names typed by people."""

from __future__ import annotations

import functools
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement
from sqlmodel import Session, col, select

from db.models import Alias, Lab, Model, Observation, OpennessChange
from trackers.names import family_first, normalise_name, suggest
from trackers.records import (
    Access,
    Change,
    Licence,
    ModelRecord,
    Notability,
    OpennessState,
    PartialDate,
    TrainingCode,
    TrainingData,
    Verified,
)

VISIBLE_STATES = ("confirmed",)


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
            records[model_id] = _record(model, lab, changes[model_id], aliases[model_id], base)
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


def _record(
    model: Model, lab: Lab, rows: list[OpennessChange], aliases: list[str], base: ModelRecord | None
) -> ModelRecord:
    release = None
    dated = []
    for row in rows:
        if row.kind == "release":
            release = row if release is None else release
        elif row.on is not None:
            dated.append(row)
    initial = _state(release) if release else _UNRELEASED
    changes = tuple(sorted((_change(row) for row in dated), key=lambda c: c.on)) if dated else ()
    return ModelRecord(
        slug=model.slug,
        name=model.name,
        lab=lab.slug,
        first_release=PartialDate.parse(model.first_release) if model.first_release else None,
        initial=initial,
        changes=changes,
        base=base,
        aliases=tuple(aliases),
        verified=Verified(model.verified_on, tuple((model.verified_sources or "").splitlines()))
        if model.verified_on
        else None,
        notability=Notability(tuple(model.notability.split(",")), model.citations) if model.notability else None,
    )


_UNRELEASED = OpennessState(access=Access.UNRELEASED)


def _licence(row: OpennessChange) -> Licence | None:
    return Licence(row.licence_raw, row.licence_spdx) if row.licence_raw else None


def _state(row: OpennessChange) -> OpennessState:
    return _state_of(
        row.access, row.licence_raw, row.licence_spdx, row.training_code, row.training_data, row.checkpoints, row.paper
    )


@functools.lru_cache(maxsize=65_536)  # release states repeat across models: one object each, built once
def _state_of(
    access: str | None,
    licence_raw: str | None,
    licence_spdx: str | None,
    training_code: str | None,
    training_data: str | None,
    checkpoints: bool | None,
    paper: str | None,
) -> OpennessState:
    return OpennessState(
        access=Access(access or Access.UNRELEASED),
        licence=Licence(licence_raw, licence_spdx) if licence_raw else None,
        training_code=TrainingCode(training_code) if training_code else None,
        training_data=TrainingData(training_data) if training_data else None,
        checkpoints=checkpoints,
        paper=paper,
    )


def _change(row: OpennessChange) -> Change:
    assert row.on is not None
    on: date = row.on
    return Change(
        on=on,
        kind=row.kind,
        access=Access(row.access) if row.access else None,
        licence=_licence(row),
        training_code=TrainingCode(row.training_code) if row.training_code else None,
        training_data=TrainingData(row.training_data) if row.training_data else None,
        checkpoints=row.checkpoints,
        paper=row.paper,
        source=row.source_url,
    )
