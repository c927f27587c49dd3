"""The catalog's writes: labs, models with their aliases, openness history and observations, file digests.

A catalog file's facts are replaced whole: everything of origin `catalog` about a model is deleted and
written again. Nothing here commits; `trackers.catalog.sync` decides which files to load.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime

from sqlmodel import Session, col, delete, select

from db.models import Alias, Lab, Model, Observation, OpennessChange, Source, utcnow
from trackers.catalog import ORIGIN
from trackers.catalog.schema import LabEntry, ModelEntry
from trackers.names import normalise_name
from trackers.records import Notability, PartialDate

RANK = 80  # below a moderator's correction (100), above every tracker


def file_digests(session: Session, *, names: Collection[str]) -> dict[str, str | None]:
    """The digest last loaded (the row's etag) of each named catalog file source that has a row."""
    if not names:
        return {}
    rows = session.exec(select(Source.name, Source.etag).where(col(Source.name).in_(list(names)))).all()
    return dict(rows)


def mark_file_loaded(
    session: Session, *, name: str, lab: str, url: str, digest: str, items: int, now: datetime
) -> None:
    """Record on the file's source row that it was loaded with this digest (the row is created when missing)."""
    source = session.exec(select(Source).where(Source.name == name)).first()
    source = source or Source(name=name, kind=ORIGIN, lab=lab)
    source.url, source.etag, source.status, source.items_seen = url, digest, "ok", items
    source.last_ok_at = source.last_attempt_at = now
    session.add(source)


def upsert_lab(session: Session, *, entry: LabEntry) -> int:
    """Create or update a lab from its file's `[lab]` table; returns its id."""
    lab = session.exec(select(Lab).where(Lab.slug == entry.slug)).first() or Lab(slug=entry.slug, name=entry.name)
    lab.name, lab.url, lab.hf_orgs = entry.name, str(entry.url), ",".join(entry.hf_orgs)
    lab.parent_slug, lab.parent_source = (entry.parent.slug, str(entry.parent.source)) if entry.parent else (None, None)
    session.add(lab)
    session.flush()
    assert lab.id is not None
    return lab.id


def replace_model(session: Session, *, lab_id: int, entry: ModelEntry, notability: Notability | None) -> int:
    """Create or update a model from its entry and replace every catalog fact about it; returns its id."""
    model = session.exec(select(Model).where(Model.slug == entry.slug)).first()
    if model is None:
        model = Model(slug=entry.slug, name=entry.name, lab_id=lab_id, origin=ORIGIN)
    model.name, model.lab_id, model.summary, model.state = entry.name, lab_id, entry.summary, "confirmed"
    model.first_release = entry.released.date if entry.released else None
    model.first_release_url = str(entry.released.source) if entry.released else None
    model.notability = ",".join(notability.criteria) if notability else None
    model.citations = notability.citations if notability else None
    model.verified_on = PartialDate.parse(entry.verified.on).earliest if entry.verified else None
    model.verified_sources = "\n".join(str(url) for url in entry.verified.sources) if entry.verified else None
    model.updated_at = utcnow()
    session.add(model)
    session.flush()
    assert model.id is not None
    for table in (Alias, Observation, OpennessChange):
        session.exec(delete(table).where(col(table.model_id) == model.id, col(table.origin) == ORIGIN))
    session.add_all(_aliases(model.id, entry))
    session.add(_release_state(model.id, entry))
    session.add_all(_changes(model.id, entry))
    session.add_all(_observations(model.id, entry))
    return model.id


def withdraw_missing(session: Session, *, lab_id: int, kept: Collection[str]) -> None:
    """A catalog model no longer in its lab's file is withdrawn, not deleted: its pledges and events stay."""
    stale = session.exec(
        select(Model).where(Model.lab_id == lab_id, Model.origin == ORIGIN, col(Model.slug).not_in(list(kept)))
    ).all()
    for model in stale:
        model.state = "withdrawn"
        session.add(model)


def link_bases(session: Session, *, bases: Iterable[tuple[int, str]]) -> None:
    """Point each (model id, base slug) at its base model (none when no model has that slug)."""
    session.flush()
    for model_id, base_slug in bases:
        model = session.get(Model, model_id)
        base = session.exec(select(Model.id).where(Model.slug == base_slug)).first()
        if model is not None:
            model.base_id = base
            session.add(model)


def _aliases(model_id: int, entry: ModelEntry) -> list[Alias]:
    names = [(entry.name, "name"), (entry.slug, "slug")]
    names += [(alias, "alias") for alias in entry.aliases] + [(repo, "hf_repo") for repo in entry.hf_repos]
    aliases: dict[str, Alias] = {}
    for name, kind in names:
        key = normalise_name(name)
        if key and key not in aliases:
            aliases[key] = Alias(model_id=model_id, name=name, key=key, kind=kind, origin=ORIGIN)
    return list(aliases.values())


def _release_state(model_id: int, entry: ModelEntry) -> OpennessChange:
    return OpennessChange(
        model_id=model_id,
        kind="release",
        on=None,
        access=entry.access.value,
        licence_raw=entry.license.raw if entry.license else None,
        licence_spdx=entry.license.spdx if entry.license else None,
        training_code=entry.training_code.value if entry.training_code else None,
        training_data=entry.training_data.value if entry.training_data else None,
        checkpoints=entry.checkpoints.value if entry.checkpoints else None,
        paper=str(entry.paper.url) if entry.paper else None,
        source_url=str(entry.access.source),
        origin=ORIGIN,
    )


def _changes(model_id: int, entry: ModelEntry) -> list[OpennessChange]:
    return [
        OpennessChange(
            model_id=model_id,
            kind=change.kind,
            on=PartialDate.parse(change.date).latest,
            access=change.access,
            licence_raw=change.license.raw if change.license else None,
            licence_spdx=change.license.spdx if change.license else None,
            training_code=change.training_code,
            training_data=change.training_data,
            checkpoints=change.checkpoints,
            paper=str(change.paper) if change.paper else None,
            source_url=str(change.source),
            note=change.note,
            origin=ORIGIN,
        )
        for change in entry.changes
    ]


def _observations(model_id: int, entry: ModelEntry) -> list[Observation]:
    facts: list[tuple[str, str, str, str | None]] = []
    if entry.released:
        facts.append(("released", entry.released.date, str(entry.released.source), None))
    facts.append(("access", entry.access.value, str(entry.access.source), None))
    if entry.license:
        facts.append(("license", entry.license.raw, str(entry.license.source), None))
    for name in ("training_code", "training_data", "checkpoints"):
        fact = getattr(entry, name)
        if fact is not None:
            facts.append((name, str(fact.value).lower(), str(fact.source), None))
    if entry.paper:
        facts.append(("paper", str(entry.paper.url), str(entry.paper.url), None))
    for change in entry.changes:
        facts.append((f"change:{change.kind}", change.date, str(change.source), change.note))
    observations: dict[tuple[str, str, str], Observation] = {}
    for fact, value, url, note in facts:
        observations.setdefault(
            (fact, value, url),
            Observation(model_id=model_id, origin=ORIGIN, rank=RANK, fact=fact, value=value, url=url, note=note),
        )
    for item in entry.evidence:
        note = f"evidence: {item.note}" if item.note else "evidence"
        observations.setdefault(
            (item.fact, item.value, str(item.source)),
            Observation(
                model_id=model_id,
                origin=ORIGIN,
                rank=0,
                fact=item.fact,
                value=item.value,
                url=str(item.source),
                note=note,
            ),
        )
    return list(observations.values())
