"""The one read step of a build: the record, judged on a date, through the same read services as the CLI."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlmodel import Session

from bot.cli.track_view import evidence_dict
from bot.present.assessment import assessment_dict
from bot.services.queries import pledge_counts
from trackers.assess import Assessment, assess, released_by
from trackers.review import Evidence, evidence_by_model
from trackers.store.labs import lab_parents
from trackers.store.models import Catalogue, load_catalogue
from trackers.sunset import Policy


@dataclass(frozen=True)
class Board:
    """Everything a build shows: every visible model's assessment and JSON object, pledges and evidence."""

    on: date
    policy: Policy
    catalogue: Catalogue
    assessments: dict[str, Assessment]
    results: dict[str, dict[str, Any]]
    evidence: dict[str, list[Evidence]]
    pledges: dict[str, int]
    parents: dict[str, str] = field(default_factory=dict)  # lab → the lab it is part of, as the catalog states

    def lab_name(self, slug: str) -> str:
        """A lab's display name."""
        return self.catalogue.lab_names.get(slug, slug)


def load_board(session: Session, policy: Policy, on: date) -> Board:
    """Read the record as of `on` under `policy`; each model's object is `sunset status --json --evidence`'s."""
    catalogue = load_catalogue(session)
    evidence = evidence_by_model(session)
    pledges = pledge_counts(session)
    return board_of(catalogue, evidence, pledges, policy, on, parents=lab_parents(session))


def board_of(
    catalogue: Catalogue,
    evidence: dict[str, list[Evidence]],
    pledges: dict[str, int],
    policy: Policy,
    on: date,
    *,
    parents: dict[str, str] | None = None,
) -> Board:
    """Assess every model released by `on` and build its JSON object (pure)."""
    assessments = {
        slug: assess(record, policy, on) for slug, record in catalogue.records.items() if released_by(record, on)
    }
    results = {}
    for slug, assessment in assessments.items():
        record = assessment.record
        result = assessment_dict(
            assessment, lab_name=catalogue.lab_name(record), sources=catalogue.sources.get(slug, ())
        )
        result["evidence"] = [evidence_dict(item) for item in evidence.get(slug, [])]
        result["pledges"] = pledges.get(slug, 0)
        results[slug] = result
    return Board(on, policy, catalogue, assessments, results, evidence, pledges, parents or {})
