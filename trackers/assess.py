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
