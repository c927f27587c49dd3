"""Pure presentation of assessments: the JSON shape every surface shares, and short human phrases."""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

from trackers.assess import Assessment, assess, released_by
from trackers.records import PartialDate
from trackers.store.models import Catalogue
from trackers.sunset import Policy, Status

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


def assessment_dict(assessment: Assessment, *, lab_name: str, sources: tuple[str, ...]) -> dict[str, Any]:
    """The JSON object for one model (the contract of `sunset status --json` and `sunset list --json`)."""
    record, state, verdict = assessment.record, assessment.state, assessment.verdict
    weights_on = assessment.weights_released_on
    released = released_by(record, assessment.on)
    result: dict[str, Any] = {
        "slug": record.slug,
        "name": record.name,
        "lab": lab_name,
        "lab_slug": record.lab,
        "aliases": list(record.aliases),
        "base_model": record.base.slug if record.base else None,
        "first_release": release_text(record.first_release),
        "release_precision": record.first_release.precision.value if record.first_release else None,
        "level": assessment.level.value,
        "level_label": assessment.level.label,
        "openness": {
            "access": state.access.value,
            "weights_release_date": weights_on.isoformat() if weights_on else None,
            "licence": state.licence.raw if state.licence else None,
            "licence_spdx": state.licence.spdx if state.licence else None,
            "licence_tier": assessment.licence.tier.value,
            "training_code": state.training_code.value if state.training_code else "unknown",
            "training_data": state.training_data.value if state.training_data else "unknown",
            "checkpoints": state.checkpoints,
            "paper": state.paper,
        },
        "window_years": assessment.policy.window_years,
        "profile": assessment.policy.profile.value,
        "on": assessment.on.isoformat(),
        "sunset_date": verdict.sunset_date.isoformat() if verdict.sunset_date else None,
        "status": verdict.status.value,
        "status_text": verdict.summary if released else "not yet released",
        "released": released,
        "sources": list(sources),
        "verified": {"on": record.verified.on.isoformat(), "sources": list(record.verified.sources)}
        if record.verified
        else None,
        "notability": list(record.notability.criteria) if record.notability else [],
    }
    # Always both keys (null when they do not apply), so the shape never depends on the status.
    result["overdue_days"] = verdict.overdue_days
    result["days_to_sunset"] = verdict.days_to_sunset
    return result


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
