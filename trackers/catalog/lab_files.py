"""Lab files read and checked: `load_catalog()` reads and validates every file; `check_catalog()` adds the
cross-file checks (unique slugs and aliases, known bases, no future dates, known licences) that
`sunset catalog check` prints. See docs/CATALOG.md for the format.
"""

from __future__ import annotations

import hashlib
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from pydantic import ValidationError

from trackers.assess import accused
from trackers.catalog import CATALOG_DIR, CatalogError, catalog_files
from trackers.catalog.schema import CatalogFile, ModelEntry
from trackers.licences import classify_licence, normalise_licence
from trackers.names import normalise_name
from trackers.records import Licence, ModelRecord, PartialDate, Precision

DECLARED_UNKNOWN = {"other", "unknown"}  # a lab's own "custom licence" or "not stated": reported, not an error


@dataclass(frozen=True)
class LabFile:
    """One validated lab file and the hash of its bytes (a changed hash means reload it)."""

    path: Path
    digest: str
    content: CatalogFile


@dataclass(frozen=True)
class Problem:
    """One thing `sunset catalog check` reports."""

    file: str
    model: str | None
    message: str
    warning: bool = False

    def __str__(self) -> str:
        where = f"{self.file}:{self.model}" if self.model else self.file
        return f"{'warning: ' if self.warning else ''}{where}: {self.message}"


def read_lab_file(path: Path) -> LabFile:
    """Read and validate one lab file; raises CatalogError with a readable message."""
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise CatalogError(f"{path}: cannot be read: {error.strerror}") from error
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise CatalogError(f"{path.name}: not valid TOML: {error}") from error
    try:
        content = CatalogFile.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        location = ".".join(str(part) for part in first["loc"])
        raise CatalogError(
            f"{path.name}: {location}: {first['msg']} ({error.error_count()} problem(s) in this file)"
        ) from error
    if content.lab.slug != path.stem:
        raise CatalogError(f"{path.name}: lab.slug {content.lab.slug!r} must equal the file name {path.stem!r}")
    return LabFile(path=path, digest=hashlib.sha256(raw).hexdigest(), content=content)


def load_catalog(directory: Path = CATALOG_DIR) -> list[LabFile]:
    """Every lab file, validated one by one; the first broken file raises CatalogError."""
    return [read_lab_file(path) for path in catalog_files(directory)]


def records_of(files: Iterable[LabFile]) -> dict[str, ModelRecord]:
    """Every entry as a record (with its base's record), as a catalog sync would store them."""
    entries = {model.slug: (lab.content.lab.slug, model) for lab in files for model in lab.content.models}
    records: dict[str, ModelRecord] = {}

    def build(slug: str, seen: frozenset[str] = frozenset()) -> ModelRecord:
        if slug not in records:
            lab, model = entries[slug]
            base = model.base if model.base in entries and model.base not in seen | {slug} else None
            records[slug] = model.record(lab, build(base, seen | {slug}) if base else None)
        return records[slug]

    for slug in entries:
        build(slug)
    return records


def check_catalog(files: Iterable[LabFile], today: date) -> list[Problem]:
    """Cross-file problems: duplicate slugs or names, unknown bases, future dates, unknown licences, and
    accusations (overdue or due soon under some allowed policy) without a verification."""
    files = list(files)
    problems: list[Problem] = []
    owners: dict[str, str] = {}
    slugs: dict[str, str] = {}
    entries: list[tuple[str, ModelEntry]] = [(lab.path.name, model) for lab in files for model in lab.content.models]
    records = records_of(files)
    for file, model in entries:
        if model.slug in slugs:
            problems.append(Problem(file, model.slug, f"slug also used in {slugs[model.slug]}"))
        slugs[model.slug] = file
    for file, model in entries:
        for name in {normalise_name(text) for text in (model.slug, model.name, *model.aliases, *model.hf_repos)}:
            if not name:
                continue
            owner = owners.setdefault(name, model.slug)
            if owner != model.slug:
                problems.append(Problem(file, model.slug, f"name or alias {name!r} also belongs to {owner}"))
        problems.extend(_model_problems(file, model, slugs, today))
        problems.extend(_date_rule_problems(file, model, today))
        if accused(records[model.slug], today):
            problems.extend(_accusation_problems(file, model))
    return problems + _parent_problems(files)


def _parent_problems(files: list[LabFile]) -> list[Problem]:
    """A lab's parent must be another lab of the catalog, and following parents must never lead back."""
    parents = {lab.content.lab.slug: lab.content.lab.parent.slug for lab in files if lab.content.lab.parent}
    known = {lab.content.lab.slug for lab in files}
    problems = []
    for lab in files:
        slug, seen = lab.content.lab.slug, []
        if slug in parents and parents[slug] not in known:
            problems.append(Problem(lab.path.name, None, f"parent {parents[slug]!r} is not a lab of the catalog"))
            continue
        while slug in parents and slug not in seen:
            seen.append(slug)
            slug = parents[slug]
        if slug in seen:
            problems.append(Problem(lab.path.name, None, f"parents form a loop: {' → '.join([*seen, slug])}"))
    return problems


def _date_rule_problems(file: str, model: ModelEntry, today: date) -> list[Problem]:
    """The date rules of docs/CATALOG.md that a file alone can show broken."""
    problems = []
    released = PartialDate.parse(model.released.date) if model.released else None
    if model.released and model.released.secondary and released and released.precision is Precision.DAY:
        problems.append(
            Problem(file, model.slug, "a release day from a secondary source: record the month (YYYY-MM) instead")
        )
    for change in model.changes:
        if released and PartialDate.parse(change.date).latest < released.earliest:
            problems.append(Problem(file, model.slug, f"change {change.kind} ({change.date}) predates the release"))
    if model.verified and PartialDate.parse(model.verified.on).earliest > today:
        problems.append(Problem(file, model.slug, f"verified on {model.verified.on}, which is in the future"))
    return problems


def _accusation_problems(file: str, model: ModelEntry) -> list[Problem]:
    """An overdue or due-soon model accuses its lab: it must be verified, and rest on primary sources."""
    if model.verified is None:
        return [Problem(file, model.slug, "overdue or due soon under some allowed policy, but not verified")]
    facts = {
        name: getattr(model, name)
        for name in ("released", "access", "license", "training_code", "training_data", "checkpoints")
    }
    return [
        Problem(file, model.slug, f"{name} rests only on a secondary source", warning=True)
        for name, fact in facts.items()
        if fact is not None and fact.secondary
    ]


def _model_problems(file: str, model: ModelEntry, slugs: dict[str, str], today: date) -> list[Problem]:
    problems = []
    if model.base is not None and model.base not in slugs:
        problems.append(Problem(file, model.slug, f"base {model.base!r} is not in the catalog"))
    if model.base == model.slug:
        problems.append(Problem(file, model.slug, "a model cannot be its own base"))
    dates = [("released", model.released.date)] if model.released else []
    dates += [(f"change {change.kind}", change.date) for change in model.changes]
    for label, text in dates:
        if PartialDate.parse(text).earliest > today:
            problems.append(Problem(file, model.slug, f"{label} date {text} is in the future"))
    if model.released is None:
        problems.append(Problem(file, model.slug, "release date unknown (status will be 'unknown')", warning=True))
    licences = [model.license] if model.license else []
    licences += [change.license for change in model.changes if change.license]  # type: ignore[misc]
    for licence in licences:
        verdict = classify_licence(Licence(licence.raw, licence.spdx))
        if normalise_licence(licence.raw) in DECLARED_UNKNOWN:
            problems.append(Problem(file, model.slug, f"licence declared {licence.raw!r}: tier D", warning=True))
        elif not verdict.known:
            problems.append(Problem(file, model.slug, f"{verdict.reason}: add it to trackers/licences.py"))
    if model.access.value.weights_available and model.license is None and not any(c.license for c in model.changes):
        problems.append(Problem(file, model.slug, "weights are available but no licence is recorded", warning=True))
    return problems
