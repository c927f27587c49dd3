from datetime import date
from typing import Any

import pytest

from tests.helpers import APACHE, CC_BY_NC, LLAMA2, change, record
from trackers.openness import level_as_of
from trackers.records import Access, Level, TrainingCode, TrainingData

OPEN_SCIENCE: dict[str, Any] = {
    "code": TrainingCode.OPEN,
    "data": TrainingData.OPEN,
    "checkpoints": True,
    "paper": "https://x/p",
}


@pytest.mark.parametrize(
    ("model", "on", "level"),
    [
        (record(access=Access.API), date(2024, 1, 1), Level.L0),
        (record(access=Access.HOSTED), date(2024, 1, 1), Level.L0),
        (record(access=Access.RETIRED), date(2024, 1, 1), Level.L0),
        (record(access=Access.UNRELEASED, licence=APACHE), date(2024, 1, 1), Level.L0),
        (record(access=Access.GATED, licence=LLAMA2), date(2024, 1, 1), Level.L1),
        (record(access=Access.ON_REQUEST, licence=CC_BY_NC), date(2024, 1, 1), Level.L1),
        (record(access=Access.DOWNLOAD, licence=None), date(2024, 1, 1), Level.L1),
        (record(access=Access.DOWNLOAD, licence=APACHE), date(2024, 1, 1), Level.L2),
        (
            record(access=Access.DOWNLOAD, licence=APACHE, code=TrainingCode.OPEN, data=TrainingData.DESCRIBED),
            date(2024, 1, 1),
            Level.L3,
        ),
        (
            record(access=Access.DOWNLOAD, licence=APACHE, code=TrainingCode.OPEN, data=TrainingData.VAGUE),
            date(2024, 1, 1),
            Level.L2,
        ),
        (record(access=Access.DOWNLOAD, licence=APACHE, **OPEN_SCIENCE), date(2024, 1, 1), Level.L4),
        (
            record(access=Access.DOWNLOAD, licence=APACHE, **(OPEN_SCIENCE | {"checkpoints": False})),
            date(2024, 1, 1),
            Level.L3,
        ),
        (record(access=Access.DOWNLOAD, licence=LLAMA2, **OPEN_SCIENCE), date(2024, 1, 1), Level.L1),
    ],
)
def test_levels_follow_the_rubric(model, on, level):
    assert level_as_of(model, on) is level


def test_late_opening_counts_only_from_its_date():
    model = record(
        "2014-05-01",
        access=Access.API,
        changes=(change("2020-01-15", access=Access.DOWNLOAD, licence=APACHE),),
    )
    assert level_as_of(model, date(2020, 1, 14)) is Level.L0
    assert level_as_of(model, date(2020, 1, 15)) is Level.L2


def test_relicensing_moves_the_level_both_ways_over_time():
    model = record(
        "2023-05-25",
        access=Access.DOWNLOAD,
        licence=LLAMA2,
        changes=(
            change("2023-06-01", "relicensed", licence=APACHE),
            change("2025-01-01", "relicensed", licence=CC_BY_NC),
        ),
    )
    assert level_as_of(model, date(2023, 5, 31)) is Level.L1
    assert level_as_of(model, date(2024, 6, 1)) is Level.L2
    assert level_as_of(model, date(2025, 6, 1)) is Level.L1


def test_retirement_closes_a_model_from_its_date():
    model = record(access=Access.API, changes=(change("2024-01-04", "retired", access=Access.RETIRED),))
    assert level_as_of(model, date(2024, 1, 5)) is Level.L0


def test_a_fine_tune_never_inherits_more_openness_than_its_base():
    base = record(access=Access.DOWNLOAD, licence=APACHE, code=TrainingCode.CLOSED, data=TrainingData.VAGUE, slug="b")
    tune = record(access=Access.DOWNLOAD, licence=APACHE, base=base, slug="t", **OPEN_SCIENCE)
    assert level_as_of(tune, date(2024, 1, 1)) is Level.L2
    open_base = record(access=Access.DOWNLOAD, licence=APACHE, slug="ob", **OPEN_SCIENCE)
    tune_of_open = record(access=Access.DOWNLOAD, licence=APACHE, base=open_base, slug="t2", **OPEN_SCIENCE)
    assert level_as_of(tune_of_open, date(2024, 1, 1)) is Level.L4


def test_a_fine_tune_of_an_unknown_base_counts_as_least_open():
    base = record(access=Access.DOWNLOAD, licence=APACHE, slug="b")
    tune = record(access=Access.DOWNLOAD, licence=APACHE, base=base, slug="t", **OPEN_SCIENCE)
    assert level_as_of(tune, date(2024, 1, 1)) is Level.L2
