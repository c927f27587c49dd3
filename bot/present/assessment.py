"""Pure presentation of assessments: the JSON shape every surface shares, and short human phrases."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, Literal

from trackers.assess import Assessment, assess, released_by
from trackers.records import Access, Level, PartialDate, Precision, Tier
from trackers.sunset import Policy, Profile, Status

if TYPE_CHECKING:  # the quick `sunset status` imports this module and no SQL library
    from trackers.store.models import Catalogue

STATUS_WORDS = {
    Status.OPEN: "open",
    Status.IN_WINDOW: "in window",
    Status.DUE_SOON: "due soon",
    Status.OVERDUE: "overdue",
    Status.UNKNOWN: "unknown",
}


def release_text(release: PartialDate | None) -> str | None:
    """`YYYY-MM-DD`, `YYYY-MM` or `YYYY` by precision; None when unknown."""
    return str(release) if release else None


TrainingCodeText = Literal["open", "partial", "closed", "unknown"]
TrainingDataText = Literal["open", "obtainable", "described", "vague", "undisclosed", "unknown"]


@dataclass(frozen=True)
class OpennessCard:
    """A model's openness on the card's day, dimension by dimension."""

    access: Access
    weights_release_date: date | None
    licence: str | None
    licence_spdx: str | None
    licence_tier: Tier
    training_code: TrainingCodeText
    training_data: TrainingDataText
    checkpoints: bool | None
    paper: str | None


@dataclass(frozen=True)
class VerifiedCard:
    """When the model's history was last checked against its sources, and where."""

    on: date
    sources: tuple[str, ...]


@dataclass(frozen=True)
class Card:
    """One model as every surface shows it: the typed form of `sunset status --json` (`to_json` gives that)."""

    slug: str
    name: str
    lab: str
    lab_slug: str
    aliases: tuple[str, ...]
    base_model: str | None
    first_release: str | None
    release_precision: Precision | None
    level: Level
    level_label: str
    openness: OpennessCard
    window_years: int
    profile: Profile
    on: date
    sunset_date: date | None
    status: Status
    status_text: str
    released: bool
    sources: tuple[str, ...]
    verified: VerifiedCard | None
    notability: tuple[str, ...]
    overdue_days: int | None
    days_to_sunset: int | None

    def to_json(self) -> dict[str, Any]:
        """The JSON object (the contract of `sunset status --json` and `sunset list --json`)."""
        openness = self.openness
        return {
            "slug": self.slug,
            "name": self.name,
            "lab": self.lab,
            "lab_slug": self.lab_slug,
            "aliases": list(self.aliases),
            "base_model": self.base_model,
            "first_release": self.first_release,
            "release_precision": self.release_precision.value if self.release_precision else None,
            "level": self.level.value,
            "level_label": self.level_label,
            "openness": {
                "access": openness.access.value,
                "weights_release_date": _iso(openness.weights_release_date),
                "licence": openness.licence,
                "licence_spdx": openness.licence_spdx,
                "licence_tier": openness.licence_tier.value,
                "training_code": openness.training_code,
                "training_data": openness.training_data,
                "checkpoints": openness.checkpoints,
                "paper": openness.paper,
            },
            "window_years": self.window_years,
            "profile": self.profile.value,
            "on": self.on.isoformat(),
            "sunset_date": _iso(self.sunset_date),
            "status": self.status.value,
            "status_text": self.status_text,
            "released": self.released,
            "sources": list(self.sources),
            "verified": {"on": self.verified.on.isoformat(), "sources": list(self.verified.sources)}
            if self.verified
            else None,
            "notability": list(self.notability),
            # Always both keys (null when they do not apply), so the shape never depends on the status.
            "overdue_days": self.overdue_days,
            "days_to_sunset": self.days_to_sunset,
        }


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def card_of(assessment: Assessment, *, lab_name: str, sources: tuple[str, ...]) -> Card:
    """The card of one assessment."""
    record, state, verdict = assessment.record, assessment.state, assessment.verdict
    released = released_by(record, assessment.on)
    return Card(
        slug=record.slug,
        name=record.name,
        lab=lab_name,
        lab_slug=record.lab,
        aliases=tuple(record.aliases),
        base_model=record.base.slug if record.base else None,
        first_release=release_text(record.first_release),
        release_precision=record.first_release.precision if record.first_release else None,
        level=assessment.level,
        level_label=assessment.level.label,
        openness=OpennessCard(
            access=state.access,
            weights_release_date=assessment.weights_released_on,
            licence=state.licence.raw if state.licence else None,
            licence_spdx=state.licence.spdx if state.licence else None,
            licence_tier=assessment.licence.tier,
            training_code=state.training_code.value if state.training_code else "unknown",
            training_data=state.training_data.value if state.training_data else "unknown",
            checkpoints=state.checkpoints,
            paper=state.paper,
        ),
        window_years=assessment.policy.window_years,
        profile=assessment.policy.profile,
        on=assessment.on,
        sunset_date=verdict.sunset_date,
        status=verdict.status,
        status_text=verdict.summary if released else "not yet released",
        released=released,
        sources=tuple(sources),
        verified=VerifiedCard(record.verified.on, tuple(record.verified.sources)) if record.verified else None,
        notability=tuple(record.notability.criteria) if record.notability else (),
        overdue_days=verdict.overdue_days,
        days_to_sunset=verdict.days_to_sunset,
    )


def assessment_dict(assessment: Assessment, *, lab_name: str, sources: tuple[str, ...]) -> dict[str, Any]:
    """The JSON object for one model (the contract of `sunset status --json` and `sunset list --json`)."""
    return card_of(assessment, lab_name=lab_name, sources=sources).to_json()


def notable_first(assessment: Assessment) -> tuple[int, int, int, str]:
    """Sort key: most notable in Epoch AI's data first (criteria, then citations), then longest overdue."""
    rank = assessment.record.notability.rank if assessment.record.notability else (0, 0)
    return (-rank[0], -rank[1], -(assessment.verdict.overdue_days or 0), assessment.record.name.casefold())


def coverage(catalogue: Catalogue, policy: Policy, on: date) -> dict[str, Any]:
    """Counts of models by status, level, decade of first release and lab."""
    records = [record for record in catalogue.records.values() if released_by(record, on)]
    assessments = [assess(record, policy, on) for record in records]
    decades = Counter(
        f"{record.first_release.year // 10 * 10}s" if record.first_release else "unknown" for record in records
    )
    labs = Counter(catalogue.lab_name(record) for record in records)
    return {
        "models": len(records),
        "by_status": dict(Counter(a.verdict.status.value for a in assessments).most_common()),
        "by_level": dict(sorted(Counter(a.level.value for a in assessments).items())),
        "by_decade": dict(sorted(decades.items())),
        "by_lab": dict(sorted(labs.items(), key=lambda item: (-item[1], item[0]))),
    }
