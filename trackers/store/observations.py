"""What reconciliation reads and writes: models of every state, their aliases, observations and artefact changes.

Reconciliation must see hidden models too (an unconfirmed name is matched, a rejected one is never created
again), so these reads do not apply `visible()`: none of them feeds a public surface.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session, col, select

from db.models import Alias, Lab, Model, Observation, OpennessChange

RELEASE_FACTS = ("released", "announced")
_CHUNK = 5000  # bound on the parameters of one IN (…) list


@dataclass(frozen=True)
class IndexRows:
    """Every model's (id, state, lab id), every alias's (key, model id), every lab's (id, slug, Hub orgs)."""

    models: list[tuple[int, str, int]]
    aliases: list[tuple[str, int]]
    labs: list[tuple[int, str, str]]


@dataclass(frozen=True)
class KnownModel:
    """A stored model as reconciliation decides about it."""

    id: int
    slug: str
    name: str
    lab_id: int
    state: str
    origin: str
    first_release: str | None
    first_release_url: str | None


@dataclass(frozen=True)
class Claim:
    """One observation to store (cut to the column sizes by the caller, as its identity)."""

    fact: str
    value: str
    url: str
    rank: int
    note: str | None = None


@dataclass(frozen=True)
class ArtefactChange:
    """An openness row learnt from a lab's own artefact: its release state (`on` None) or a dated change."""

    kind: str
    access: str | None
    licence_raw: str | None
    source_url: str
    on: date | None = None
    note: str | None = None


def index_rows(session: Session) -> IndexRows:
    """Read every model, alias and lab (of every state: the index matches hidden names too)."""
    models = [
        (model_id, state, lab_id)
        for model_id, state, lab_id in session.exec(select(Model.id, Model.state, Model.lab_id)).all()
        if model_id is not None
    ]
    aliases = list(session.exec(select(Alias.key, Alias.model_id)).all())
    labs = [
        (lab_id, slug, orgs)
        for lab_id, slug, orgs in session.exec(select(Lab.id, Lab.slug, Lab.hf_orgs)).all()
        if lab_id is not None
    ]
    return IndexRows(models, aliases, labs)


def stored_claims(session: Session, *, origin: str, model_ids: Collection[int]) -> dict[int, set[tuple[str, str, str]]]:
    """The (fact, value, url) each of these models already has from `origin`, in one query per few thousand."""
    found: dict[int, set[tuple[str, str, str]]] = {model_id: set() for model_id in model_ids}
    ids = sorted(found)
    for start in range(0, len(ids), _CHUNK):
        rows = session.exec(
            select(Observation.model_id, Observation.fact, Observation.value, Observation.url).where(
                Observation.origin == origin, col(Observation.model_id).in_(ids[start : start + _CHUNK])
            )
        ).all()
        for model_id, fact, value, url in rows:
            found[model_id].add((fact, value, url))
    return found


def known_model(session: Session, *, model_id: int) -> KnownModel | None:
    """One model, whatever its state."""
    model = session.get(Model, model_id)
    return _known(model) if model is not None else None


def openness_origins(session: Session, *, model_id: int) -> tuple[str, ...]:
    """The origin of each openness row of a model (empty: it has no history yet)."""
    return tuple(session.exec(select(OpennessChange.origin).where(OpennessChange.model_id == model_id)).all())


def release_claims(session: Session, *, model_id: int) -> list[tuple[str, str, int]]:
    """Every source's release claims about a model: (value, url, rank)."""
    rows = session.exec(
        select(Observation.value, Observation.url, Observation.rank).where(
            Observation.model_id == model_id, col(Observation.fact).in_(RELEASE_FACTS)
        )
    ).all()
    return [(value, url, rank) for value, url, rank in rows]


def known_models(session: Session, *, model_ids: Collection[int]) -> dict[int, KnownModel]:
    """These models, whatever their state, in one query per few thousand."""
    found: dict[int, KnownModel] = {}
    ids = sorted(model_ids)
    for start in range(0, len(ids), _CHUNK):
        for model in session.exec(select(Model).where(col(Model.id).in_(ids[start : start + _CHUNK]))).all():
            assert model.id is not None
            found[model.id] = _known(model)
    return found


def taken_slugs(session: Session, *, candidates: Collection[str]) -> set[str]:
    """Which of these slugs a model already has."""
    return set(session.exec(select(Model.slug).where(col(Model.slug).in_(list(candidates)))).all())


def add_model(session: Session, *, slug: str, name: str, lab_id: int, state: str, origin: str) -> int:
    """Insert a model (flushed, for its id)."""
    model = Model(slug=slug, name=name[:200], lab_id=lab_id, state=state, origin=origin[:120])
    session.add(model)
    session.flush()
    assert model.id is not None
    return model.id


def add_aliases(session: Session, *, model_id: int, aliases: Iterable[tuple[str, str, str]], origin: str) -> None:
    """Insert aliases given as (name, key, kind)."""
    for name, key, kind in aliases:
        session.add(Alias(model_id=model_id, name=name[:200], key=key[:200], kind=kind, origin=origin))


def add_observations(
    session: Session, *, model_id: int, origin: str, claims: Iterable[Claim], seen_at: datetime
) -> None:
    """Insert observations of one model from one origin."""
    for claim in claims:
        session.add(
            Observation(
                model_id=model_id,
                origin=origin,
                rank=claim.rank,
                fact=claim.fact[:40],
                value=claim.value,
                url=claim.url,
                note=claim.note,
                seen_at=seen_at,
            )
        )


def add_artefact_change(session: Session, *, model_id: int, change: ArtefactChange, origin: str) -> None:
    """Insert an openness row learnt from an artefact."""
    session.add(
        OpennessChange(
            model_id=model_id,
            kind=change.kind,
            on=change.on,
            access=change.access,
            licence_raw=change.licence_raw,
            source_url=change.source_url,
            note=change.note,
            origin=origin,
        )
    )


def update_model(
    session: Session,
    *,
    model_id: int,
    state: str,
    first_release: str | None,
    first_release_url: str | None,
    updated_at: datetime,
) -> None:
    """Set a model's state, release date and update time."""
    model = session.get(Model, model_id)
    assert model is not None
    model.state, model.first_release, model.first_release_url, model.updated_at = (
        state,
        first_release,
        first_release_url,
        updated_at,
    )
    session.add(model)


def flush(session: Session) -> None:
    """Send the pending writes (no commit), so that a broken row fails here rather than at the caller's commit."""
    session.flush()


def _known(model: Model) -> KnownModel:
    assert model.id is not None
    return KnownModel(
        model.id,
        model.slug,
        model.name,
        model.lab_id,
        model.state,
        model.origin,
        model.first_release,
        model.first_release_url,
    )
