"""The catalog against Epoch AI's notable-models dataset: which rows it covers, excludes or misses.

`epoch/notable.csv` is a snapshot of Epoch AI's "Notable AI Models" (CC BY 4.0), reduced to the facts
the catalog uses: name, organisation, publication date, notability criteria, accessibility, citations
and link. `epoch/exclusions.toml` lists the rows the catalog deliberately has no entry for, each with
its reason. A row is *covered* when its name equals a model's name or alias (normalised), *excluded*
when the exclusions file names it, and *unaccounted* otherwise. Pure apart from reading the two files.
"""

from __future__ import annotations

import csv
import tomllib
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, ValidationError

from trackers.catalog import CATALOG_DIR, SNAPSHOT, CatalogError
from trackers.catalog.lab_files import LabFile, Problem
from trackers.names import normalise_name
from trackers.records import Notability

EXCLUSIONS = CATALOG_DIR / "epoch" / "exclusions.toml"
SNAPSHOT_TAKEN = "2026-01-26"  # the day the snapshot's copy of Epoch's CSV was downloaded
ATTRIBUTION = "Epoch AI, 'Notable AI Models' (CC BY 4.0), https://epoch.ai/data/notable-ai-models"
COHORT = range(2012, 2018)  # the release years every row of which must be accounted for

Reason = Literal["method", "same-as", "dataset", "not-a-model", "duplicate-row"]


@dataclass(frozen=True)
class EpochRow:
    """One row of the snapshot."""

    name: str
    organization: str
    published: str
    criteria: tuple[str, ...]
    accessibility: str
    citations: int | None
    link: str

    @property
    def year(self) -> int | None:
        """The publication year, when the row has a date."""
        return int(self.published[:4]) if self.published[:4].isdigit() else None


class Exclusion(BaseModel):
    """A row the catalog deliberately leaves out, and why."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    epoch: str = Field(min_length=1, max_length=200)
    date: str | None = Field(default=None, max_length=10)
    reason: Reason
    same_as: str | None = None
    note: str = Field(min_length=1, max_length=500)
    source: HttpUrl | None = None


class _ExclusionFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    excluded: list[Exclusion] = Field(default_factory=list)


@dataclass(frozen=True)
class Account:
    """How the catalog accounts for one row: the model that covers it, or the exclusion, or neither."""

    row: EpochRow
    slug: str | None = None
    exclusion: Exclusion | None = None

    @property
    def state(self) -> Literal["covered", "excluded", "unaccounted"]:
        """covered, excluded or unaccounted."""
        if self.slug:
            return "covered"
        return "excluded" if self.exclusion else "unaccounted"


def read_snapshot(path: Path = SNAPSHOT) -> list[EpochRow]:
    """Every row of the snapshot."""
    with path.open(encoding="utf-8", newline="") as handle:
        return [_row(raw) for raw in csv.DictReader(handle)]


def _row(raw: dict[str, str]) -> EpochRow:
    citations = raw.get("Citations", "").strip()
    return EpochRow(
        name=raw["Model"].strip(),
        organization=raw.get("Organization", "").strip(),
        published=raw.get("Publication date", "").strip(),
        criteria=tuple(c.strip() for c in raw.get("Notability criteria", "").split(",") if c.strip()),
        accessibility=raw.get("Model accessibility", "").strip(),
        citations=int(float(citations)) if citations else None,
        link=raw.get("Link", "").strip(),
    )


def read_exclusions(path: Path = EXCLUSIONS) -> list[Exclusion]:
    """The exclusions file (none when it does not exist); CatalogError when it is malformed."""
    if not path.exists():
        return []
    try:
        return _ExclusionFile.model_validate(tomllib.loads(path.read_text(encoding="utf-8"))).excluded
    except (tomllib.TOMLDecodeError, ValidationError) as error:
        raise CatalogError(f"{path.name}: {error}") from error


def names_of(models: Iterable[tuple[str, Iterable[str]]]) -> dict[str, str]:
    """Normalised name → slug, from (slug, names and aliases) pairs: what a row's name is matched against."""
    owners: dict[str, str] = {}
    for slug, names in models:
        for text in (slug, *names):
            owners.setdefault(normalise_name(text), slug)
    return owners


def file_names(files: Iterable[LabFile]) -> dict[str, str]:
    """The names of every model in the catalog files."""
    return names_of((m.slug, (m.name, *m.aliases)) for lab in files for m in lab.content.models)


def account(rows: Iterable[EpochRow], owners: Mapping[str, str], exclusions: Iterable[Exclusion]) -> list[Account]:
    """Match each row to a model (by name or alias, as `names_of` gives them) or an exclusion."""
    excluded = {normalise_name(item.epoch): item for item in exclusions}
    accounts = []
    for row in rows:
        key = normalise_name(row.name)
        slug = owners.get(key)
        accounts.append(Account(row, slug=slug, exclusion=None if slug else excluded.get(key)))
    return accounts


def notability(accounts: Iterable[Account]) -> dict[str, Notability]:
    """Each covered model's notability (the most notable of its rows when several match it)."""
    found: dict[str, Notability] = {}
    for item in accounts:
        if item.slug is None:
            continue
        candidate = Notability(item.row.criteria, item.row.citations)
        if item.slug not in found or candidate.rank > found[item.slug].rank:
            found[item.slug] = candidate
    return found


def coverage_by_year(accounts: Iterable[Account]) -> dict[int, Counter[str]]:
    """Per publication year: how many rows are covered, excluded and unaccounted."""
    years: dict[int, Counter[str]] = {}
    for item in accounts:
        if item.row.year is not None:
            years.setdefault(item.row.year, Counter())[item.state] += 1
    return dict(sorted(years.items()))


def exclusion_problems(exclusions: Iterable[Exclusion], rows: Iterable[EpochRow], slugs: set[str]) -> list[str]:
    """Exclusions that name no row, are listed twice, or point `same_as` at no model."""
    names = {normalise_name(row.name) for row in rows}
    seen: set[str] = set()
    problems = []
    for item in exclusions:
        key = normalise_name(item.epoch)
        if key not in names:
            problems.append(f"exclusion {item.epoch!r} names no row of the Epoch snapshot")
        if key in seen:
            problems.append(f"exclusion {item.epoch!r} is listed twice")
        seen.add(key)
        if item.reason == "same-as" and item.same_as not in slugs:
            problems.append(f"exclusion {item.epoch!r}: same_as {item.same_as!r} is not a catalog model")
    return problems


def epoch_problems(files: Iterable[LabFile], rows: list[EpochRow], exclusions: list[Exclusion]) -> list[Problem]:
    """What `sunset catalog check` says of the Epoch snapshot: broken exclusions (errors), stale exclusions
    and every unaccounted row of the 2012–2017 cohort (warnings, so the list can shrink while CI stays green)."""
    files = list(files)
    slugs = {model.slug for lab in files for model in lab.content.models}
    problems = [Problem(EXCLUSIONS.name, None, text) for text in exclusion_problems(exclusions, rows, slugs)]
    accounts = account(rows, file_names(files), exclusions)
    covered = {normalise_name(item.row.name) for item in accounts if item.slug}
    for exclusion in exclusions:
        if normalise_name(exclusion.epoch) in covered:
            text = f"{exclusion.epoch!r} is excluded but a model covers it"
            problems.append(Problem(EXCLUSIONS.name, None, text, warning=True))
    for item in accounts:
        if item.state == "unaccounted" and item.row.year in COHORT:
            text = f"Epoch row {item.row.name!r} ({item.row.organization}, {item.row.published}) is unaccounted"
            problems.append(Problem(SNAPSHOT.name, None, text, warning=True))
    return problems
