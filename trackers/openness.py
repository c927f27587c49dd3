"""The openness rubric: levels L0–L4 of a model as of a date. Pure: plain records and a date in, values out."""

from __future__ import annotations

import functools
from datetime import date
from typing import TypeVar

from trackers.licences import licence_tier
from trackers.records import (
    TRAINING_CODE_RANK,
    TRAINING_DATA_RANK,
    Level,
    ModelRecord,
    OpennessState,
    Tier,
    TrainingCode,
    TrainingData,
)

_T = TypeVar("_T")


def state_as_of(record: ModelRecord, on: date) -> OpennessState:
    """The model's openness on a date: its state at release with every change dated on or before it applied."""
    state = record.initial
    for change in sorted(record.changes, key=lambda change: change.on):
        if change.on <= on:
            state = change.apply(state)
    return state


def effective_state(record: ModelRecord, on: date) -> OpennessState:
    """The state on a date, with training code and data capped at the base model's (a fine-tune never inherits more)."""
    state = state_as_of(record, on)
    if record.base is None:
        return state
    base = effective_state(record.base, on)
    return OpennessState(
        access=state.access,
        licence=state.licence,
        training_code=_least(state.training_code, base.training_code, TRAINING_CODE_RANK),
        training_data=_least(state.training_data, base.training_data, TRAINING_DATA_RANK),
        checkpoints=state.checkpoints,
        paper=state.paper,
    )


@functools.lru_cache(maxsize=65_536)  # states repeat across models: an evaluation asks a million times
def level_of(state: OpennessState) -> Level:
    """The level a state earns; unknown dimensions count as the least open value."""
    if not state.access.weights_available:
        return Level.L0
    if licence_tier(state.licence) is not Tier.A:
        return Level.L1
    code = state.training_code or TrainingCode.CLOSED
    data = state.training_data or TrainingData.UNDISCLOSED
    if code is not TrainingCode.OPEN or TRAINING_DATA_RANK[data] < TRAINING_DATA_RANK[TrainingData.DESCRIBED]:
        return Level.L2
    if data is TrainingData.OPEN and state.checkpoints and state.paper:
        return Level.L4
    return Level.L3


def level_as_of(record: ModelRecord, on: date) -> Level:
    """The model's level on a date."""
    return level_of(effective_state(record, on))


def _least(own: _T | None, base: _T | None, rank: dict[_T, int]) -> _T | None:
    """The less open of two values; unknown on either side stays unknown (counted as least open)."""
    if own is None or base is None:
        return None
    return own if rank[own] <= rank[base] else base
