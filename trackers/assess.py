"""One model judged on one date: its openness (rubric) and its sunset status (policy). Pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from trackers.licences import TierVerdict, classify_licence
from trackers.openness import effective_state, level_of
from trackers.records import Change, Level, ModelRecord, OpennessState
from trackers.sunset import WINDOW_MIN, Policy, Profile, Status, Verdict, evaluate


@dataclass(frozen=True)
class Assessment:
    """A model's openness and status on a date under a policy."""

    record: ModelRecord
    on: date
    policy: Policy
    state: OpennessState
    level: Level
    licence: TierVerdict
    verdict: Verdict

    @property
    def weights_released_on(self) -> date | None:
        """When official weights first became obtainable, if they have by this date."""
        return weights_release_date(self.record, self.on)


def assess(record: ModelRecord, policy: Policy, on: date) -> Assessment:
    """Judge a model on a date."""
    state = effective_state(record, on)
    level = level_of(state)
    return Assessment(
        record=record,
        on=on,
        policy=policy,
        state=state,
        level=level,
        licence=classify_licence(state.licence),
        verdict=evaluate(level, record.first_release, policy, on),
    )


def released_by(record: ModelRecord, on: date) -> bool:
    """Whether the model had been (or may have been) released on a date; unknown dates count as released."""
    return record.first_release is None or record.first_release.earliest <= on


def weights_release_date(record: ModelRecord, on: date) -> date | None:
    """The first date on or before `on` when official weights were obtainable."""
    if record.initial.access.weights_available and record.first_release is not None:
        return record.first_release.latest
    opening: Change | None = next(
        (
            change
            for change in sorted(record.changes, key=lambda c: c.on)
            if change.access is not None and change.access.weights_available and change.on <= on
        ),
        None,
    )
    return opening.on if opening else None


ACCUSING = Policy(window_years=WINDOW_MIN, profile=Profile.STRICT)  # the earliest sunset any allowed policy sets


def accused(record: ModelRecord, on: date) -> bool:
    """Whether some allowed policy (any window of 10–15 years, either profile) calls the model overdue or due soon."""
    return assess(record, ACCUSING, on).verdict.status in (Status.OVERDUE, Status.DUE_SOON)


@dataclass(frozen=True)
class Standing:
    """What a model's row keeps of its assessment: enough for lists and counts under any policy, in SQL."""

    level: Level
    level_since: date | None
    level_until: date | None
    status: Status
    sunset_on: date | None
    release_earliest: date | None
    release_latest: date | None
    notable_order: int
    sort_name: str


def standing(record: ModelRecord, policy: Policy, on: date, *, assessment: Assessment | None = None) -> Standing:
    """The stored form of a model's assessment on a date (its level holds between its nearest change dates)."""
    assessment = assessment or assess(record, policy, on)
    dates = {change.on for change in _lineage_changes(record)}
    rank = record.notability.rank if record.notability else (0, 0)
    return Standing(
        level=assessment.level,
        level_since=max((day for day in dates if day <= on), default=None) if dates else None,
        level_until=min((day for day in dates if day > on), default=None) if dates else None,
        status=assessment.verdict.status,
        sunset_on=assessment.verdict.sunset_date,
        release_earliest=record.first_release.earliest if record.first_release else None,
        release_latest=record.first_release.latest if record.first_release else None,
        notable_order=-(rank[0] * NOTABLE_CITATIONS_SPAN + min(rank[1], NOTABLE_CITATIONS_SPAN - 1)),
        sort_name=record.name.casefold()[:200],
    )


NOTABLE_CITATIONS_SPAN = 10_000_000  # citations below this keep the order of (criteria, citations) in one integer


def _lineage_changes(record: ModelRecord) -> list[Change]:
    """Its dated changes and those of its bases (a base's change can change a fine-tune's level)."""
    if record.base is None:
        return list(record.changes)
    changes: list[Change] = []
    current: ModelRecord | None = record
    while current is not None:
        changes += current.changes
        current = current.base
    return changes
