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
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Literal

from sqlmodel import Session

from trackers.names import normalise_name
from trackers.openness import level_as_of, level_of, state_as_of
from trackers.records import Access, Change, Licence, ModelRecord, PartialDate
from trackers.sources import ARTEFACT, CATALOG, THIRD_PARTY, Sighting, SourceSpec
from trackers.store import observations as store
from trackers.store.models import load_catalogue
from trackers.store.observations import RELEASE_FACTS, ArtefactChange, Claim, KnownModel

log = logging.getLogger(__name__)

CREATABLE_FROM = ("rss", "github", "huggingface")  # never from a third-party dataset
HIDDEN_FOR_GOOD = ("rejected", "withdrawn")  # matched, so never created again, but never touched
KEPT_RELEASE_DATES = ("catalog", "moderator")  # origins whose release date no tracker moves

__all__ = ["RELEASE_FACTS", "Index", "Known", "Plan", "Reconciled", "Touched", "decide", "decide_release", "reconcile"]


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
        rows = store.index_rows(session)
        by_key: dict[str, list[int]] = defaultdict(list)
        for key, model_id in rows.aliases:
            by_key[key].append(model_id)
        labs: dict[str, LabRef] = {}
        orgs: dict[str, LabRef] = {}
        for lab_id, slug, hf_orgs in rows.labs:
            labs[slug] = LabRef(lab_id, slug)
            orgs |= {org.strip().casefold(): labs[slug] for org in hf_orgs.split(",") if org.strip()}
        return cls({model_id: (state, lab_id) for model_id, state, lab_id in rows.models}, by_key, labs, orgs)

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

    def keys_of(self, model_id: int, keys: Iterable[str]) -> frozenset[str]:
        """Which of these alias keys already name the model."""
        return frozenset(key for key in keys if model_id in self.by_key.get(key, ()))

    def remember(self, model_id: int, state: str, lab_id: int, keys: Iterable[str]) -> None:
        """Record a model's state and new alias keys, as just written."""
        self.models[model_id] = (state, lab_id)
        for key in keys:
            if model_id not in self.by_key[key]:
                self.by_key[key].append(model_id)


# ── decide: plain records in, a plan out (no I/O) ────────────────────────────────────────────────


@dataclass(frozen=True)
class Group:
    """Sightings of one repository or name from one source, with what the index says of their lab."""

    sightings: tuple[Sighting, ...]
    origin: str  # the source's name
    kind: str  # the source's kind
    official: LabRef | None = None  # the lab whose official Hub organisation owns the group's repository
    home: LabRef | None = None  # the lab a new model would belong to: the official one, else the source's


@dataclass(frozen=True)
class Known:
    """What is stored about the model a group names, read in bulk before deciding (defaults: nothing)."""

    model: KnownModel | None = None
    claims: frozenset[tuple[str, str, str]] = frozenset()  # this source's stored (fact, value, url) of it
    alias_keys: frozenset[str] = frozenset()  # of the group's repository keys, those already naming it
    record: ModelRecord | None = None  # its record as it stands (visible models)
    openness_origins: tuple[str, ...] = ()  # the origin of each of its openness rows
    release_claims: tuple[tuple[str, str, int], ...] = ()  # every source's stored (value, url, rank)
    taken_slugs: frozenset[str] = frozenset()  # of the slugs a new model could take, those in use


@dataclass(frozen=True)
class NewModel:
    """A model to create."""

    slug: str
    name: str
    lab: LabRef
    state: str


@dataclass(frozen=True)
class Plan:
    """What one group does: nothing, count an unmatched name, or write on one (maybe new) model."""

    action: Literal["nothing", "unmatched", "write"]
    new_model: NewModel | None = None
    state: str = ""  # the model's state afterwards
    aliases: tuple[tuple[str, str, str], ...] = ()  # (name, key, kind) to add
    claims: tuple[Claim, ...] = ()  # new observations
    artefact: ArtefactChange | None = None  # an openness row from the lab's own artefact
    release: tuple[str, str] | None = None  # a new (first release, its url)
    changed: bool = False  # the model was created, confirmed, opened or redated (not only observed)
    touched: Touched | None = None  # set when a visible model was created or changed


NOTHING = Plan("nothing")


def decide(group: Group, known: Known, *, today: date) -> Plan:
    """The plan for one group against the stored state: the reconciliation rules of this module, without I/O."""
    sightings = group.sightings
    first = sightings[0]
    if first.hf_repo and group.official is None:  # a Hub author that is not the lab: third-party evidence
        sightings = tuple(replace(sighting, rank=min(sighting.rank, THIRD_PARTY)) for sighting in sightings)
    if known.model is not None and known.model.state in HIDDEN_FOR_GOOD:
        return NOTHING
    claims = new_claims(sightings, known.claims)
    if known.model is not None and not claims:
        return NOTHING  # every claim was stored before, and acted on then (the common case)
    new_model = _new_model(group, known) if known.model is None else None
    if known.model is None and new_model is None:
        return Plan("unmatched")
    model = known.model or _as_known(new_model, group.origin)
    own_artefact = group.official is not None and group.official.id == model.lab_id
    promoted = own_artefact and model.state == "unconfirmed"  # the lab's own artefact confirms an announcement
    fresh = new_model is not None or promoted
    state = "confirmed" if promoted else model.state
    artefact = _artefact_change(sightings, known, today) if own_artefact else None
    release = _release(model, sightings, claims, known, new=new_model is not None)
    changed = fresh or artefact is not None or release is not None
    before = None if fresh else known.record
    return Plan(
        "write",
        new_model=new_model,
        state=state,
        aliases=_aliases(model, sightings, known.alias_keys, new=new_model is not None, fresh=fresh, own=own_artefact),
        claims=claims,
        artefact=artefact,
        release=release,
        changed=changed,
        touched=Touched(model.slug, before) if changed and state == "confirmed" else None,
    )


def new_claims(sightings: Iterable[Sighting], stored: Collection[tuple[str, str, str]]) -> tuple[Claim, ...]:
    """The sightings not stored yet (nor repeated in the group), as observations cut to the column sizes."""
    seen = set(stored)
    found = []
    for sighting in sightings:
        identity = (sighting.fact, sighting.value[:2000], sighting.url[:1000])
        if identity not in seen:
            seen.add(identity)
            found.append(Claim(*identity, sighting.rank, sighting.note))
    return tuple(found)


def slug_candidates(name: str, lab_slug: str) -> tuple[str, ...]:
    """The slugs a new model may take, in order of preference."""
    base = re.sub(r"[^a-z0-9.+]+", "-", name.lower()).strip("-.+")[:70] or "model"
    return (base, f"{lab_slug}-{base}"[:76], *(f"{base}-{n}" for n in range(2, 100)))


def _new_model(group: Group, known: Known) -> NewModel | None:
    """A new model: confirmed from a lab's official Hub organisation, unconfirmed from anything else."""
    if group.kind not in CREATABLE_FROM or group.home is None:
        return None
    first = group.sightings[0]
    slug = next((slug for slug in slug_candidates(first.name, group.home.slug) if slug not in known.taken_slugs), None)
    if slug is None:
        raise RuntimeError(f"no free slug for {first.name!r}")
    return NewModel(slug, first.name[:200], group.home, "confirmed" if group.official is not None else "unconfirmed")


def _as_known(new: NewModel | None, origin: str) -> KnownModel:
    assert new is not None
    return KnownModel(0, new.slug, new.name, new.lab.id, new.state, origin[:120], None, None)


def _aliases(
    model: KnownModel, sightings: Sequence[Sighting], known_keys: frozenset[str], *, new: bool, fresh: bool, own: bool
) -> tuple[tuple[str, str, str], ...]:
    """Names to add as aliases, skipping keys the model already has: a new model's name, slug and repository;
    the lab's own repository; repositories a new or just-confirmed model's source mentions under its name."""
    first = sightings[0]
    wanted: list[tuple[str, str]] = []
    if new:
        wanted += [(first.name, "name"), (model.slug, "slug")]
    if first.hf_repo and (new or own):
        wanted.append((first.hf_repo, "hf_repo"))
    if fresh:
        wanted += [
            (s.value, "hf_repo")
            for s in sightings
            if s.fact == "hf_repo_mentioned" and normalise_name(model.name) in normalise_name(s.value.split("/", 1)[-1])
        ]
    keys = set(known_keys)
    found = []
    for name, kind in wanted:
        key = normalise_name(name)
        if key and key not in keys:
            keys.add(key)
            found.append((name, key, kind))
    return tuple(found)


def _artefact_change(sightings: Sequence[Sighting], known: Known, today: date) -> ArtefactChange | None:
    """A release state (a model with no history yet) or a dated change when the lab's own repository raises
    openness; never over the catalog's knowledge of released weights (a disagreeing card stays an observation)."""
    facts = {sighting.fact: sighting for sighting in sightings if sighting.hf_repo and sighting.rank >= ARTEFACT}
    if "access" not in facts:
        return None
    access = Access(facts["access"].value)
    licence = Licence(facts["license"].value) if "license" in facts else None
    raw = licence.raw if licence else None
    url = facts["access"].url
    if not known.openness_origins:  # a model the trackers created: its release state is the artefact's
        return ArtefactChange("release", access.value, raw, url)
    record = known.record
    if record is None:
        return None
    state = state_as_of(record, today)
    if state.access.weights_available and "catalog" in known.openness_origins:
        return None  # the curated licence stands
    change = Change(on=today, kind="weights_released", access=access, licence=licence, source=url)
    if state.access.weights_available:
        change = Change(on=today, kind="relicensed", licence=licence, source=url)
    if level_of(change.apply(state)).rank <= level_as_of(record, today).rank:
        return None
    on = _artefact_date(facts, record, today)
    access_value = change.access.value if change.access else None
    return ArtefactChange(change.kind, access_value, raw, url, on, f"seen on the Hub as {facts['access'].hf_repo}")


def _artefact_date(facts: dict[str, Sighting], record: ModelRecord, today: date) -> date:
    """The repository's creation date when credible (after the model's release), else today."""
    created = facts.get("released")
    if created is not None:
        on = PartialDate.parse(created.value).latest
        if record.first_release is None or on >= record.first_release.latest:
            return min(on, today)
    return today


def _release(
    model: KnownModel, sightings: Sequence[Sighting], claims: Sequence[Claim], known: Known, *, new: bool
) -> tuple[str, str] | None:
    """A new release date when this group brings a release claim and the credible claims now support another
    (a new model's rest on this group alone; the catalog's and moderators' dates are never moved)."""
    if not any(claim.fact in RELEASE_FACTS for claim in claims):
        return None
    if new:
        candidates = [(s.value[:2000], s.url[:1000], s.rank) for s in sightings if s.fact in RELEASE_FACTS]
    elif model.origin in KEPT_RELEASE_DATES:
        return None
    else:
        added = [(claim.value, claim.url, claim.rank) for claim in claims if claim.fact in RELEASE_FACTS]
        candidates = [*known.release_claims, *added]
    best = decide_release([claim for claim in candidates if claim[2] > 0])
    return best if best is not None and best != (model.first_release, model.first_release_url) else None


# ── load and apply: the store's reads before, its writes after ───────────────────────────────────


def reconcile(
    session: Session, spec: SourceSpec, sightings: Sequence[Sighting], *, index: Index, now: datetime
) -> Reconciled:
    """Store sightings as observations of models, creating and opening models as the rules above allow."""
    result = Reconciled()
    groups: dict[str, list[Sighting]] = defaultdict(list)
    for sighting in sightings:
        key = normalise_name(sighting.hf_repo or sighting.name)
        if key:
            groups[key].append(sighting)
    ids = {model_id for group in groups.values() if (model_id := index.find(group[0])) is not None}
    loaded = _Loaded(
        store.known_models(session, model_ids=ids), store.stored_claims(session, origin=spec.name, model_ids=ids)
    )
    for group in groups.values():
        official = index.official_lab(group[0].hf_repo)
        home = official or (index.labs.get(spec.lab) if spec.lab else None)
        planned = Group(tuple(group), spec.name, spec.kind, official, home)
        known = _load(session, planned, index.find(group[0]), index, loaded)
        plan = decide(planned, known, today=now.date())
        _apply(session, plan, known, planned, index, loaded, now)
        _count(result, plan)
    store.flush(session)
    return result


@dataclass
class _Loaded:
    """What this reconciliation read (in bulk at the start) or wrote, by model id."""

    models: dict[int, KnownModel]
    claims: dict[int, set[tuple[str, str, str]]]


def _load(session: Session, group: Group, model_id: int | None, index: Index, loaded: _Loaded) -> Known:
    """The stored state `decide` needs for one group; the expensive parts only when the group brings news."""
    first = group.sightings[0]
    if model_id is not None and model_id not in loaded.models:  # matched by a name an earlier group added
        model = store.known_model(session, model_id=model_id)
        if model is not None:
            loaded.models[model_id] = model
            loaded.claims |= store.stored_claims(session, origin=group.origin, model_ids=[model_id])
    if model_id is None or model_id not in loaded.models:  # unknown, or gone since the index was read
        if group.kind not in CREATABLE_FROM or group.home is None:
            return Known()
        candidates = slug_candidates(first.name, group.home.slug)
        return Known(taken_slugs=frozenset(store.taken_slugs(session, candidates=candidates)))
    model, stored = loaded.models[model_id], loaded.claims[model_id]
    if model.state in HIDDEN_FOR_GOOD or not new_claims(group.sightings, stored):
        return Known(model=model, claims=frozenset(stored))
    repos = [first.hf_repo or "", *(s.value for s in group.sightings if s.fact == "hf_repo_mentioned")]
    own = group.official is not None and group.official.id == model.lab_id
    takes_release = model.origin not in KEPT_RELEASE_DATES and any(s.fact in RELEASE_FACTS for s in group.sightings)
    return Known(
        model=model,
        claims=frozenset(stored),
        alias_keys=index.keys_of(model_id, {normalise_name(repo) for repo in repos if repo}),
        record=load_catalogue(session, slugs={model.slug}).records.get(model.slug)
        if model.state == "confirmed"
        else None,
        openness_origins=store.openness_origins(session, model_id=model_id) if own else (),
        release_claims=tuple(store.release_claims(session, model_id=model_id)) if takes_release else (),
    )


def _apply(
    session: Session, plan: Plan, known: Known, group: Group, index: Index, loaded: _Loaded, now: datetime
) -> None:
    """Write a plan, and keep the index and what was loaded up to date with it."""
    if plan.action != "write":
        return
    if plan.new_model is not None:
        new = plan.new_model
        model_id = store.add_model(
            session, slug=new.slug, name=new.name, lab_id=new.lab.id, state=new.state, origin=group.origin
        )
        log.info("source=%s created %s model %s (%s)", group.origin, new.state, new.slug, new.lab.slug)
        model = replace(_as_known(new, group.origin), id=model_id)
        loaded.claims[model_id] = set()
    else:
        assert known.model is not None
        model = known.model
    store.add_aliases(session, model_id=model.id, aliases=plan.aliases, origin=group.origin)
    store.add_observations(session, model_id=model.id, origin=group.origin, claims=plan.claims, seen_at=now)
    loaded.claims[model.id] |= {(claim.fact, claim.value, claim.url) for claim in plan.claims}
    if plan.artefact is not None:
        store.add_artefact_change(session, model_id=model.id, change=plan.artefact, origin=group.origin)
    first_release, url = plan.release or (model.first_release, model.first_release_url)
    if plan.changed:
        store.update_model(
            session,
            model_id=model.id,
            state=plan.state,
            first_release=first_release,
            first_release_url=url,
            updated_at=now,
        )
    loaded.models[model.id] = replace(model, state=plan.state, first_release=first_release, first_release_url=url)
    index.remember(model.id, plan.state, model.lab_id, [key for _, key, _ in plan.aliases])


def _count(result: Reconciled, plan: Plan) -> None:
    result.unmatched += plan.action == "unmatched"
    if plan.new_model is not None:
        result.created += plan.new_model.state == "confirmed"
        result.unconfirmed += plan.new_model.state == "unconfirmed"
    result.new_observations += len(plan.claims)
    result.changed += plan.changed
    if plan.touched is not None:
        result.touched.append(plan.touched)


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
