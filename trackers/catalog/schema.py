"""The schema of a catalog file (one TOML file per lab), validated with pydantic. See docs/CATALOG.md."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, HttpUrl, model_validator

from trackers.records import (
    Access,
    Change,
    Licence,
    ModelRecord,
    OpennessState,
    PartialDate,
    TrainingCode,
    TrainingData,
    Verified,
)

Url = HttpUrl
Slug = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9.+-]*$", max_length=80)]
ChangeKind = Literal["weights_released", "relicensed", "opened", "access_changed", "retired", "paper_published"]
Checked = Literal["weights", "license", "access", "training_code", "training_data", "retirement", "release_date"]
Fact = Literal["released", "access", "license", "training_code", "training_data", "checkpoints", "paper", "weights"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _toml_date_as_text(value: object) -> object:
    """TOML's bare dates (2019-02-14) arrive as `date`; the catalog keeps dates as text with their precision."""
    return value.isoformat() if isinstance(value, date) else value


def _partial_date(value: str) -> str:
    PartialDate.parse(value)
    return value


DateText = Annotated[str, BeforeValidator(_toml_date_as_text), AfterValidator(_partial_date)]


class _Sourced(_Strict):
    """A fact with the URL it came from; `secondary` marks a source that is not the lab's or the authors' own."""

    source: Url
    secondary: bool = False


class Released(_Sourced):
    """The first public release: a date to its known precision, and where it is stated."""

    date: DateText


class AccessFact(_Sourced):
    value: Access


class LicenceFact(_Sourced):
    raw: str = Field(min_length=1, max_length=200)
    spdx: str | None = None


class CodeFact(_Sourced):
    value: TrainingCode


class DataFact(_Sourced):
    value: TrainingData


class CheckpointsFact(_Sourced):
    value: bool


class PaperFact(_Strict):
    url: Url


class LicenceChange(_Strict):
    raw: str = Field(min_length=1, max_length=200)
    spdx: str | None = None


class ChangeEntry(_Sourced):
    """A dated change to openness; only the fields it sets change."""

    date: DateText
    kind: ChangeKind
    access: Access | None = None
    license: LicenceChange | None = None
    training_code: TrainingCode | None = None
    training_data: TrainingData | None = None
    checkpoints: bool | None = None
    paper: Url | None = None
    note: str | None = Field(default=None, max_length=500)

    def change(self) -> Change:
        """The change as the rubric replays it, dated (like a sync) to the last day of its period."""
        return Change(
            on=PartialDate.parse(self.date).latest,
            kind=self.kind,
            access=self.access,
            licence=Licence(self.license.raw, self.license.spdx) if self.license else None,
            training_code=self.training_code,
            training_data=self.training_data,
            checkpoints=self.checkpoints,
            paper=str(self.paper) if self.paper else None,
            source=str(self.source),
        )

    @model_validator(mode="after")
    def _sets_something(self) -> ChangeEntry:
        fields = (self.access, self.license, self.training_code, self.training_data, self.checkpoints, self.paper)
        if all(value is None for value in fields):
            raise ValueError(
                "a change must set at least one of access, license, training_code, training_data, checkpoints, paper"
            )
        return self


class EvidenceEntry(_Strict):
    """A claim from another source that disagrees with (or confirms) the curated fact, kept visible."""

    fact: Fact
    value: str = Field(min_length=1, max_length=200)
    source: Url
    note: str | None = Field(default=None, max_length=500)


def _full_date(value: str) -> str:
    if len(value) != len("YYYY-MM-DD"):
        raise ValueError("a verification is dated to the day (YYYY-MM-DD)")
    return value


class Verification(_Strict):
    """When the model's whole history was last checked against its sources, what was checked, and where."""

    on: Annotated[DateText, AfterValidator(_full_date)]
    checked: list[Checked] = Field(min_length=1)
    sources: list[Url] = Field(min_length=1)
    note: str | None = Field(default=None, max_length=1500)

    def as_record(self) -> Verified:
        """The verification as records carry it."""
        return Verified(on=PartialDate.parse(self.on).earliest, sources=tuple(str(url) for url in self.sources))


class ModelEntry(_Strict):
    """One model: its facts at first release, each with a source, plus dated changes since."""

    slug: Slug
    name: str = Field(min_length=1, max_length=120)
    aliases: list[str] = Field(default_factory=list)
    hf_repos: list[Annotated[str, Field(pattern=r"^[\w.-]+/[\w.-]+$")]] = Field(default_factory=list)
    base: Slug | None = None
    summary: str | None = Field(default=None, max_length=300)
    released: Released | None = None
    access: AccessFact
    license: LicenceFact | None = None
    training_code: CodeFact | None = None
    training_data: DataFact | None = None
    checkpoints: CheckpointsFact | None = None
    paper: PaperFact | None = None
    changes: list[ChangeEntry] = Field(default_factory=list)
    evidence: list[EvidenceEntry] = Field(default_factory=list)
    verified: Verification | None = None
    note: str | None = Field(default=None, max_length=1000)

    def record(self, lab: str, base: ModelRecord | None = None) -> ModelRecord:
        """The entry as the rubric and policy see it (what a catalog sync would store), without a database."""
        licence = Licence(self.license.raw, self.license.spdx) if self.license else None
        initial = OpennessState(
            access=self.access.value,
            licence=licence,
            training_code=self.training_code.value if self.training_code else None,
            training_data=self.training_data.value if self.training_data else None,
            checkpoints=self.checkpoints.value if self.checkpoints else None,
            paper=str(self.paper.url) if self.paper else None,
        )
        changes = tuple(sorted((change.change() for change in self.changes), key=lambda change: change.on))
        return ModelRecord(
            slug=self.slug,
            name=self.name,
            lab=lab,
            first_release=PartialDate.parse(self.released.date) if self.released else None,
            initial=initial,
            changes=changes,
            base=base,
            aliases=tuple(self.aliases),
            verified=self.verified.as_record() if self.verified else None,
        )


class LabParent(_Strict):
    """The lab this one is part of (DeepMind → Google), with the URL that states it."""

    slug: Slug
    source: Url


class LabEntry(_Strict):
    slug: Slug
    name: str = Field(min_length=1, max_length=120)
    url: Url
    hf_orgs: list[str] = Field(default_factory=list)
    parent: LabParent | None = None


class CatalogFile(_Strict):
    """A whole lab file."""

    lab: LabEntry
    models: list[ModelEntry] = Field(default_factory=list)
