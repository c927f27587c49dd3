"""Sightings into models: match by Hub repo id, name or alias; create, observe, and raise openness from artefacts.

Rules, in order of trust (see `trackers.sources` for the ranks):
- A repository in a lab's official Hub organisation is an artefact: an unknown one becomes a confirmed
  model, and it may raise a known model's openness (weights released, a more open licence).
- A name seen only in an announcement (or a GitHub release, or a non-official Hub author) becomes an
  *unconfirmed* model for `sunset review`; announcements never raise openness above L0.
- Third-party datasets (Epoch AI) only add evidence to models we already know.
- The catalog's own facts are never overwritten: disagreeing claims are stored beside them as observations.
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlmodel import Session, col, select

from db.models import Alias, Lab, Model, Observation, OpennessChange
from trackers.names import normalise_name
from trackers.openness import level_as_of, level_of, state_as_of
from trackers.records import Access, Change, Licence, ModelRecord, PartialDate
from trackers.sources import ARTEFACT, CATALOG, THIRD_PARTY, Sighting, SourceSpec
from trackers.store.models import load_catalogue

log = logging.getLogger(__name__)

RELEASE_FACTS = ("released", "announced")
CREATABLE_FROM = ("rss", "github", "huggingface")  # never from a third-party dataset


@dataclass(frozen=True)
class Touched:
    """A model this reconciliation created or changed, with its record before (None: it was not visible)."""

    slug: str
    before: ModelRecord | None


@dataclass
class Reconciled:
    """What one source's sightings did to the store."""

    new_observations: int = 0
    created: int = 0
    unconfirmed: int = 0
    changed: int = 0
    unmatched: int = 0
    touched: list[Touched] = field(default_factory=list)


@dataclass(frozen=True)
class LabRef:
    """A lab as the index knows it."""

    id: int
    slug: str


@dataclass
class Index:
    """Alias keys → model ids, model states, labs by slug and by official Hub organisation.

    Plain values, not ORM rows, so one index serves every batch of a cycle (it is kept up to date as
    reconciliation adds models and aliases, and rebuilt after anything else writes models).
    """

    models: dict[int, tuple[str, int]]  # id → (state, lab id)
    by_key: dict[str, list[int]]
    labs: dict[str, LabRef]
    lab_of_org: dict[str, LabRef]

    @classmethod
    def load(cls, session: Session) -> Index:
        """Read every model, alias and lab."""
        models = {
            model_id: (state, lab_id)
            for model_id, state, lab_id in session.exec(select(Model.id, Model.state, Model.lab_id)).all()
            if model_id is not None
        }
        by_key: dict[str, list[int]] = defaultdict(list)
        for key, model_id in session.exec(select(Alias.key, Alias.model_id)).all():
            by_key[key].append(model_id)
        labs: dict[str, LabRef] = {}
        orgs: dict[str, LabRef] = {}
        for lab_id, slug, hf_orgs in session.exec(select(Lab.id, Lab.slug, Lab.hf_orgs)).all():
            assert lab_id is not None
            labs[slug] = LabRef(lab_id, slug)
            orgs |= {org.strip().casefold(): labs[slug] for org in hf_orgs.split(",") if org.strip()}
        return cls(models, by_key, labs, orgs)

    def official_lab(self, repo: str | None) -> LabRef | None:
        """The lab whose official Hub organisation owns a repository."""
        return self.lab_of_org.get(repo.split("/", 1)[0].casefold()) if repo and "/" in repo else None

    def find(self, sighting: Sighting) -> int | None:
        """The model a sighting is about: by repo id, else by name (for Hub repos only within the owning lab)."""
        if sighting.hf_repo:
            for model_id in self.by_key.get(normalise_name(sighting.hf_repo), []):
                return model_id
        official = self.official_lab(sighting.hf_repo)
        for model_id in self.by_key.get(normalise_name(sighting.name), []):
            if sighting.hf_repo is None or (official is not None and self.models[model_id][1] == official.id):
                return model_id
        return None

    def add(self, model: Model, aliases: Iterable[tuple[str, str]], session: Session, origin: str) -> None:
        """Record a model's state and aliases (name, kind), skipping keys it already has."""
        assert model.id is not None
        self.models[model.id] = (model.state, model.lab_id)
        for name, kind in aliases:
            key = normalise_name(name)
            if key and model.id not in self.by_key[key]:
                self.by_key[key].append(model.id)
                session.add(Alias(model_id=model.id, name=name[:200], key=key[:200], kind=kind, origin=origin))


def reconcile(
    session: Session, spec: SourceSpec, sightings: Sequence[Sighting], *, index: Index, now: datetime
) -> Reconciled:
    """Store sightings as observations of models, creating and opening models as the rules above allow."""
    result = Reconciled()
    existing = _Existing(session, spec.name)
    groups: dict[str, list[Sighting]] = defaultdict(list)
    for sighting in sightings:
        groups[normalise_name(sighting.hf_repo or sighting.name)].append(sighting)
    for key, group in groups.items():
        if not key:
            continue
        _reconcile_group(session, spec, group, index, existing, result, now)
    session.flush()
    return result


def _reconcile_group(
    session: Session,
    spec: SourceSpec,
    group: list[Sighting],
    index: Index,
    existing: _Existing,
    result: Reconciled,
    now: datetime,
) -> None:
    first = group[0]
    official = index.official_lab(first.hf_repo)
    if first.hf_repo and official is None:
        group = [_reranked(sighting, min(sighting.rank, THIRD_PARTY)) for sighting in group]
    found = index.find(first)
    if found is not None and index.models[found][0] in ("rejected", "withdrawn"):
        return
    if found is not None and not any(existing.is_new(_row(found, sighting)) for sighting in group):
        return  # every claim was stored before, and acted on then: nothing to do (the common case)
    model = session.get(Model, found) if found is not None else None
    before: ModelRecord | None = None
    created = promoted = False
    if model is None:
        model = _create(session, spec, first, official, index)
        if model is None:
            result.unmatched += 1
            return
        created = True
        result.created += model.state == "confirmed"
        result.unconfirmed += model.state == "unconfirmed"
    elif model.state == "confirmed":
        before = _record(session, model)
    assert model.id is not None
    if first.hf_repo and official is not None and official.id == model.lab_id:
        index.add(model, [(first.hf_repo, "hf_repo")], session, spec.name)
        if model.state == "unconfirmed":  # the lab's own artefact confirms what an announcement claimed
            model.state, created, promoted, before = "confirmed", True, True, None
            index.add(model, [], session, spec.name)
    if created:
        existing.start_empty(model.id)  # a model made just now has no stored observations to read
    release_claimed = False
    for sighting in group:
        if sighting.fact == "hf_repo_mentioned" and created and _names_match(model.name, sighting.value):
            index.add(model, [(sighting.value, "hf_repo")], session, spec.name)
        row = _row(model.id, sighting)
        if not existing.add(row):
            continue
        release_claimed |= sighting.fact in RELEASE_FACTS
        session.add(
            Observation(
                model_id=model.id,
                origin=spec.name,
                rank=sighting.rank,
                fact=sighting.fact[:40],
                value=row[2],
                url=row[3],
                note=sighting.note,
                seen_at=now,
            )
        )
        result.new_observations += 1
    opened = (
        official is not None
        and official.id == model.lab_id
        and _open_from_artefact(session, model, group, now, spec.name)
    )
    # Only a new release claim can move the release date: skip the query otherwise (most sightings repeat).
    if not release_claimed:
        redated = False
    elif created and not promoted:  # everything this new model's release date rests on is in this group
        claims = [(*_row(model.id, s)[2:], s.rank) for s in group if s.fact in RELEASE_FACTS]  # as stored
        redated = _apply_release(model, claims)
    else:
        redated = _update_release(session, model)
    if created or opened or redated:
        model.updated_at = now
        session.add(model)
        result.changed += 1
        if model.state == "confirmed":
            result.touched.append(Touched(model.slug, before))


class _Existing:
    """The observations a source already stored, read per model (indexed) the first time a model comes up."""

    def __init__(self, session: Session, origin: str) -> None:
        self._session, self._origin = session, origin
        self._rows: dict[int, set[tuple[int, str, str, str]]] = {}

    def start_empty(self, model_id: int) -> None:
        """A model created in this transaction: nothing stored yet, no need to ask the database."""
        self._rows.setdefault(model_id, set())

    def is_new(self, row: tuple[int, str, str, str]) -> bool:
        """Whether a row is neither stored nor added yet."""
        return row not in self._stored(row[0])

    def add(self, row: tuple[int, str, str, str]) -> bool:
        """Remember a row; False when it was already stored (or already added)."""
        if not self.is_new(row):
            return False
        self._rows[row[0]].add(row)
        return True

    def _stored(self, model_id: int) -> set[tuple[int, str, str, str]]:
        if model_id not in self._rows:
            stored = self._session.exec(
                select(Observation.model_id, Observation.fact, Observation.value, Observation.url).where(
                    Observation.model_id == model_id, Observation.origin == self._origin
                )
            ).all()
            self._rows[model_id] = set(stored)
        return self._rows[model_id]


def _row(model_id: int, sighting: Sighting) -> tuple[int, str, str, str]:
    """An observation's identity, cut to the column sizes as stored."""
    return (model_id, sighting.fact, sighting.value[:2000], sighting.url[:1000])


def _reranked(sighting: Sighting, rank: int) -> Sighting:
    return Sighting(sighting.name, sighting.fact, sighting.value, sighting.url, rank, sighting.hf_repo, sighting.note)


def _create(session: Session, spec: SourceSpec, first: Sighting, official: LabRef | None, index: Index) -> Model | None:
    """A new model: confirmed from a lab's official Hub organisation, unconfirmed from anything else."""
    if spec.kind not in CREATABLE_FROM:
        return None
    lab = official or (index.labs.get(spec.lab) if spec.lab else None)
    if lab is None:
        return None
    state = "confirmed" if official is not None else "unconfirmed"
    slug = _free_slug(session, first.name, lab.slug)
    model = Model(slug=slug, name=first.name[:200], lab_id=lab.id, state=state, origin=spec.name[:120])
    session.add(model)
    session.flush()
    aliases = [(first.name, "name"), (slug, "slug")] + ([(first.hf_repo, "hf_repo")] if first.hf_repo else [])
    index.add(model, aliases, session, spec.name)
    log.info("source=%s created %s model %s (%s)", spec.name, state, slug, lab.slug)
    return model


def _free_slug(session: Session, name: str, lab_slug: str) -> str:
    base = re.sub(r"[^a-z0-9.+]+", "-", name.lower()).strip("-.+")[:70] or "model"
    for candidate in (base, f"{lab_slug}-{base}"[:76], *(f"{base}-{n}" for n in range(2, 100))):
        if session.exec(select(Model.id).where(Model.slug == candidate)).first() is None:
            return candidate
    raise RuntimeError(f"no free slug for {name!r}")


def _record(session: Session, model: Model) -> ModelRecord | None:
    return load_catalogue(session, slugs={model.slug}).records.get(model.slug)


def _names_match(name: str, repo: str) -> bool:
    return normalise_name(name) in normalise_name(repo.split("/", 1)[-1])


def _open_from_artefact(session: Session, model: Model, group: list[Sighting], now: datetime, origin: str) -> bool:
    """Record a release state (new model) or a dated change when the lab's own repository raises openness."""
    facts = {sighting.fact: sighting for sighting in group if sighting.hf_repo and sighting.rank >= ARTEFACT}
    if "access" not in facts:
        return False
    access = Access(facts["access"].value)
    licence = Licence(facts["license"].value) if "license" in facts else None
    rows = session.exec(select(OpennessChange).where(OpennessChange.model_id == model.id)).all()
    assert model.id is not None
    if not rows:  # a model the trackers created: its release state is the artefact's
        session.add(
            OpennessChange(
                model_id=model.id,
                kind="release",
                access=access.value,
                licence_raw=licence.raw if licence else None,
                source_url=facts["access"].url,
                origin=origin,
            )
        )
        return True
    record = _record(session, model)
    if record is None:
        return False
    today = now.date()
    state = state_as_of(record, today)
    catalog_knows_weights = state.access.weights_available and any(row.origin == "catalog" for row in rows)
    if catalog_knows_weights:
        return False  # the curated licence stands; a disagreeing card stays an observation
    change = Change(on=today, kind="weights_released", access=access, licence=licence, source=facts["access"].url)
    if state.access.weights_available:
        change = Change(on=today, kind="relicensed", licence=licence, source=facts["access"].url)
    if level_of(change.apply(state)).rank <= level_as_of(record, today).rank:
        return False
    on = _artefact_date(facts, record, today)
    session.add(
        OpennessChange(
            model_id=model.id,
            kind=change.kind,
            on=on,
            access=change.access.value if change.access else None,
            licence_raw=licence.raw if licence else None,
            source_url=facts["access"].url,
            note=f"seen on the Hub as {facts['access'].hf_repo}",
            origin=origin,
        )
    )
    return True


def _artefact_date(facts: dict[str, Sighting], record: ModelRecord, today: date) -> date:
    """The repository's creation date when credible (after the model's release), else today."""
    created = facts.get("released")
    if created is not None:
        on = PartialDate.parse(created.value).latest
        if record.first_release is None or on >= record.first_release.latest:
            return min(on, today)
    return today


def _update_release(session: Session, model: Model) -> bool:
    """For models the trackers created: the earliest credible release date among the observations."""
    if model.origin in ("catalog", "moderator"):
        return False
    rows = session.exec(
        select(Observation.value, Observation.url, Observation.rank).where(
            Observation.model_id == model.id, col(Observation.fact).in_(RELEASE_FACTS)
        )
    ).all()
    return _apply_release(model, [(value, url, rank) for value, url, rank in rows])


def _apply_release(model: Model, claims: Sequence[tuple[str, str, int]]) -> bool:
    """Set the release date the credible claims (rank above zero) support; True when it changed."""
    best = decide_release([claim for claim in claims if claim[2] > 0])
    if best is None or (best[0], best[1]) == (model.first_release, model.first_release_url):
        return False
    model.first_release, model.first_release_url = best
    return True


def decide_release(claims: Sequence[tuple[str, str, int]]) -> tuple[str, str] | None:
    """The release date to believe: a moderator's or the catalog's if any, else the earliest credible claim."""
    parsed: list[tuple[PartialDate, str, int]] = []
    for value, url, rank in claims:
        try:
            parsed.append((PartialDate.parse(value), url, rank))
        except ValueError:
            continue  # "undated" and the like
    if not parsed:
        return None
    curated = [claim for claim in parsed if claim[2] >= CATALOG]
    if curated:
        best = max(curated, key=lambda claim: (claim[2], -claim[0].earliest.toordinal()))
    else:
        best = min(parsed, key=lambda claim: (claim[0].earliest, -claim[2]))
    return str(best[0]), best[1]
