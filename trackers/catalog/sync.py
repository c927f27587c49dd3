"""Load the catalog into the database: a file whose hash changed replaces its catalog facts; nothing else is touched."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from sqlmodel import Session, col, delete, select

from db.models import Alias, Lab, Model, Observation, OpennessChange, Source, utcnow
from trackers.catalog import LabFile, catalog_files, file_digest, read_lab_file
from trackers.catalog.epoch import SNAPSHOT, EpochRow, read_snapshot
from trackers.catalog.schema import ModelEntry
from trackers.names import normalise_name
from trackers.records import Notability, PartialDate

log = logging.getLogger(__name__)

ORIGIN = "catalog"
RANK = 80  # below a moderator's correction (100), above every tracker


@dataclass(frozen=True)
class SyncResult:
    """What a catalog load changed."""

    files_loaded: int
    files_unchanged: int
    models: int


def sync_catalog(session: Session, paths: Iterable[Path] | None = None) -> SyncResult:
    """Bring the database in line with the catalog files; an unchanged file costs one hash comparison.

    Raises CatalogError for a malformed file before anything of that file is written.
    """
    loaded = unchanged = models = 0
    pending_bases: list[tuple[Model, str]] = []
    snapshot = _Snapshot()
    # Every lab file's row in one query: at a start with nothing changed, this and the hashes are all the work.
    known = {source.name: source for source in session.exec(select(Source).where(Source.kind == "catalog"))}
    for path in catalog_files() if paths is None else paths:
        source_name = f"catalog:{path.stem}"
        source = known.get(source_name)
        digest = f"{file_digest(path)}:{snapshot.digest}"  # a new Epoch snapshot reloads every file
        if source is not None and source.etag == digest:
            unchanged += 1
            continue
        lab_file = read_lab_file(path)
        source = known[source_name] = source or Source(name=source_name, kind="catalog", lab=lab_file.content.lab.slug)
        source.url = str(lab_file.path.name)
        lab = _upsert_lab(session, lab_file)
        seen: set[str] = set()
        for entry in lab_file.content.models:
            model = _upsert_model(session, lab, entry, snapshot.notability(entry))
            seen.add(entry.slug)
            if entry.base:
                pending_bases.append((model, entry.base))
            models += 1
        _withdraw_missing(session, lab, seen)
        now = utcnow()
        source.etag, source.status, source.last_ok_at, source.last_attempt_at = digest, "ok", now, now
        source.items_seen = len(lab_file.content.models)
        session.add(source)
        loaded += 1
        log.info("source=%s status=ok models=%d", source_name, len(lab_file.content.models))
    session.flush()
    for model, base_slug in pending_bases:
        base = session.exec(select(Model).where(Model.slug == base_slug)).first()
        model.base_id = base.id if base else None
        session.add(model)
    session.commit()
    return SyncResult(files_loaded=loaded, files_unchanged=unchanged, models=models)


def _upsert_lab(session: Session, lab_file: LabFile) -> Lab:
    entry = lab_file.content.lab
    lab = session.exec(select(Lab).where(Lab.slug == entry.slug)).first() or Lab(slug=entry.slug, name=entry.name)
    lab.name, lab.url, lab.hf_orgs = entry.name, str(entry.url), ",".join(entry.hf_orgs)
    lab.parent_slug, lab.parent_source = (entry.parent.slug, str(entry.parent.source)) if entry.parent else (None, None)
    session.add(lab)
    session.flush()
    return lab


class _Snapshot:
    """Epoch AI's rows by normalised name, read once per sync and only when a file needs loading."""

    def __init__(self) -> None:
        self.digest = file_digest(SNAPSHOT)[:16]
        self._rows: dict[str, EpochRow] | None = None

    def notability(self, entry: ModelEntry) -> Notability | None:
        """The most notable row that names the entry (by name, slug or alias), if any."""
        if self._rows is None:
            self._rows = {normalise_name(row.name): row for row in read_snapshot()}
        names = {normalise_name(text) for text in (entry.name, entry.slug, *entry.aliases)}
        found = [Notability(row.criteria, row.citations) for key in names if (row := self._rows.get(key))]
        return max(found, key=lambda item: item.rank, default=None)


def _upsert_model(session: Session, lab: Lab, entry: ModelEntry, notability: Notability | None) -> Model:
    model = session.exec(select(Model).where(Model.slug == entry.slug)).first()
    if model is None:
        model = Model(slug=entry.slug, name=entry.name, lab_id=lab.id or 0, origin=ORIGIN)
    assert lab.id is not None
    model.name, model.lab_id, model.summary, model.state = entry.name, lab.id, entry.summary, "confirmed"
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
    _add_aliases(session, model.id, entry)
    session.add(_release_state(model.id, entry))
    for change in entry.changes:
        session.add(
            OpennessChange(
                model_id=model.id,
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
        )
    for observation in _observations(model.id, entry):
        session.add(observation)
    return model


def _add_aliases(session: Session, model_id: int, entry: ModelEntry) -> None:
    names = [(entry.name, "name"), (entry.slug, "slug")]
    names += [(alias, "alias") for alias in entry.aliases] + [(repo, "hf_repo") for repo in entry.hf_repos]
    seen: set[str] = set()
    for name, kind in names:
        key = normalise_name(name)
        if key and key not in seen:
            seen.add(key)
            session.add(Alias(model_id=model_id, name=name, key=key, kind=kind, origin=ORIGIN))


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


def _withdraw_missing(session: Session, lab: Lab, seen: set[str]) -> None:
    """A model removed from its file is withdrawn, not deleted: its pledges and events stay."""
    stale = session.exec(
        select(Model).where(Model.lab_id == lab.id, Model.origin == ORIGIN, col(Model.slug).not_in(seen))
    ).all()
    for model in stale:
        model.state = "withdrawn"
        session.add(model)
