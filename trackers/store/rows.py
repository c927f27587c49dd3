"""Stored rows as records: the one mapping from the model and openness columns to `ModelRecord`.

Shared by every read of models — the ORM's (`trackers.store.models`), the evaluation's Core rows
(`trackers.store.assessments`) and the bare sqlite3 reads of `sunset status` (`trackers.store.quick`) —
so each gives the same record. Any object with the columns as attributes will do. Imports no SQL library.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import date
from typing import Protocol

from trackers.records import (
    Access,
    Change,
    Licence,
    ModelRecord,
    Notability,
    OpennessState,
    PartialDate,
    TrainingCode,
    TrainingData,
    Verified,
)

VISIBLE_STATES = ("confirmed",)  # the states every public surface shows (never unreviewed or rejected ones)


class ModelRow(Protocol):
    """The columns of a `model` row a record needs."""

    slug: str
    name: str
    first_release: str | None
    verified_on: date | None
    verified_sources: str | None
    notability: str | None
    citations: int | None


class ChangeRow(Protocol):
    """An `opennesschange` row: the release state (kind `release`) or a dated change."""

    kind: str
    on: date | None
    access: str | None
    licence_raw: str | None
    licence_spdx: str | None
    training_code: str | None
    training_data: str | None
    checkpoints: bool | None
    paper: str | None
    source_url: str | None


def record_of(
    model: ModelRow, lab: str, rows: Sequence[ChangeRow], aliases: Sequence[str], base: ModelRecord | None
) -> ModelRecord:
    """A model's record from its row, its lab's slug, its openness rows and aliases (its base's record built first)."""
    release = None
    dated = []
    for row in rows:  # one pass: an evaluation builds a million records
        if row.kind == "release":
            release = row if release is None else release
        elif row.on is not None:
            dated.append(row)
    initial = _state(release) if release else _UNRELEASED
    changes = tuple(sorted((_change(row) for row in dated), key=lambda c: c.on)) if dated else ()
    return ModelRecord(
        slug=model.slug,
        name=model.name,
        lab=lab,
        first_release=PartialDate.parse(model.first_release) if model.first_release else None,
        initial=initial,
        changes=changes,
        base=base,
        aliases=tuple(aliases),
        verified=Verified(model.verified_on, tuple((model.verified_sources or "").splitlines()))
        if model.verified_on
        else None,
        notability=Notability(tuple(model.notability.split(",")), model.citations) if model.notability else None,
    )


def _licence(row: ChangeRow) -> Licence | None:
    return Licence(row.licence_raw, row.licence_spdx) if row.licence_raw else None


_UNRELEASED = OpennessState(access=Access.UNRELEASED)


def _state(row: ChangeRow) -> OpennessState:
    return _state_of(
        row.access, row.licence_raw, row.licence_spdx, row.training_code, row.training_data, row.checkpoints, row.paper
    )


@functools.lru_cache(maxsize=65_536)  # release states repeat across models: one object each, built once
def _state_of(
    access: str | None,
    licence_raw: str | None,
    licence_spdx: str | None,
    training_code: str | None,
    training_data: str | None,
    checkpoints: bool | None,
    paper: str | None,
) -> OpennessState:
    return OpennessState(
        access=Access(access or Access.UNRELEASED),
        licence=Licence(licence_raw, licence_spdx) if licence_raw else None,
        training_code=TrainingCode(training_code) if training_code else None,
        training_data=TrainingData(training_data) if training_data else None,
        checkpoints=checkpoints,
        paper=paper,
    )


def _change(row: ChangeRow) -> Change:
    assert row.on is not None
    on: date = row.on
    return Change(
        on=on,
        kind=row.kind,
        access=Access(row.access) if row.access else None,
        licence=_licence(row),
        training_code=TrainingCode(row.training_code) if row.training_code else None,
        training_data=TrainingData(row.training_data) if row.training_data else None,
        checkpoints=row.checkpoints,
        paper=row.paper,
        source=row.source_url,
    )
