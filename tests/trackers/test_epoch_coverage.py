"""The catalog against Epoch AI's notable-models snapshot: covered, excluded, unaccounted; notability."""

from collections import Counter

from tests.helpers import write_catalog
from trackers.catalog.epoch import (
    COHORT,
    EpochRow,
    Exclusion,
    account,
    coverage_by_year,
    epoch_problems,
    exclusion_problems,
    file_names,
    notability,
    read_exclusions,
    read_snapshot,
)
from trackers.catalog.lab_files import load_catalog
from trackers.records import Notability

LAB = """
[lab]
slug = "lab"
name = "Lab"
url = "https://lab.example/"

[[models]]
slug = "convnet"
name = "ConvNet"
aliases = ["ConvNet (ImageNet)"]
released = { date = "2014-01", source = "https://lab.example/c" }
access = { value = "unreleased", source = "https://lab.example/c" }
"""


def row(name, published="2014-05-01", criteria=("SOTA improvement",), citations=None):
    return EpochRow(name, "Lab", published, tuple(criteria), "", citations, "https://lab.example/p")


def files(tmp_path):
    return load_catalog(write_catalog(tmp_path / "catalog", {"lab.toml": LAB}))


def test_a_row_is_covered_by_an_alias_excluded_by_name_or_unaccounted(tmp_path):
    rows = [row("convnet (imagenet)"), row("Dropout on MNIST"), row("Mystery Net", "2016-02-02")]
    excluded = [Exclusion(epoch="Dropout on MNIST", reason="method", note="a technique's benchmark run")]
    accounts = account(rows, file_names(files(tmp_path)), excluded)
    assert [(a.state, a.slug) for a in accounts] == [("covered", "convnet"), ("excluded", None), ("unaccounted", None)]
    assert coverage_by_year(accounts) == {2014: Counter(covered=1, excluded=1), 2016: Counter(unaccounted=1)}


def test_check_names_every_unaccounted_cohort_row_and_stale_or_broken_exclusions(tmp_path):
    rows = [row("ConvNet"), row("Mystery Net", "2016-02-02"), row("Later Net", "2019-01-01"), row("Other", "2015")]
    excluded = [
        Exclusion(epoch="ConvNet", reason="method", note="stale: a model covers it"),
        Exclusion(epoch="Nowhere Net", reason="dataset", note="names no row"),
        Exclusion(epoch="Other", reason="same-as", same_as="missing-slug", note="points nowhere"),
    ]
    problems = [str(p) for p in epoch_problems(files(tmp_path), rows, excluded)]
    assert any("'Mystery Net' (Lab, 2016-02-02) is unaccounted" in p for p in problems)
    assert not any("Later Net" in p for p in problems), "only the 2012–2017 cohort must be accounted for"
    assert any("'ConvNet' is excluded but a model covers it" in p for p in problems)
    assert any("'Nowhere Net' names no row" in p for p in problems)
    assert any("same_as 'missing-slug' is not a catalog model" in p for p in problems)


def test_an_exclusion_listed_twice_is_an_error():
    twice = [Exclusion(epoch="X", reason="method", note="n"), Exclusion(epoch="x", reason="method", note="n")]
    assert exclusion_problems(twice, [row("X")], set()) == ["exclusion 'x' is listed twice"]


def test_the_most_notable_matching_row_gives_a_model_its_notability(tmp_path):
    rows = [row("ConvNet", criteria=("SOTA improvement",)), row("ConvNet (ImageNet)", criteria=("Highly cited",))]
    found = notability(account(rows, file_names(files(tmp_path)), []))
    assert found == {"convnet": Notability(("Highly cited",), None)}


def test_historical_significance_outranks_a_benchmark_result_and_citations_break_ties():
    historic = Notability(("Historical significance",), 10)
    sota, cited_sota = Notability(("SOTA improvement",), 10), Notability(("SOTA improvement",), 5000)
    assert sorted([sota, historic, cited_sota], key=lambda n: n.rank, reverse=True) == [historic, cited_sota, sota]


def test_the_shipped_snapshot_holds_epochs_cohort_with_unique_names():
    rows = read_snapshot()
    years = Counter(r.year for r in rows)
    assert sum(years[year] for year in range(2012, 2017)) == 143 and years[2017] == 55
    assert len({r.name.casefold() for r in rows}) == len(rows)
    assert all(r.link.startswith("http") for r in rows if r.year in COHORT)


def test_the_shipped_exclusions_name_real_rows_for_real_reasons():
    rows, exclusions = read_snapshot(), read_exclusions()
    slugs = {model.slug for lab in load_catalog() for model in lab.content.models}
    assert exclusion_problems(exclusions, rows, slugs) == []
    assert all(item.note.strip() for item in exclusions)
