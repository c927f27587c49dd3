from datetime import date

import pytest

from tests.helpers import SMALL_CATALOG, write_catalog
from trackers.catalog import CatalogError
from trackers.catalog.lab_files import check_catalog, load_catalog

TODAY = date(2026, 11, 28)
OTHER_LAB = """
[lab]
slug = "otherlab"
name = "Other Lab"
url = "https://other.example/"

[[models]]
slug = "{slug}"
name = "{name}"
released = {{ date = "{released}", source = "https://other.example/m" }}
access = {{ value = "download", source = "https://other.example/m" }}
{extra}
"""


def check(tmp_path, **fields):
    values = {
        "slug": "m",
        "name": "M",
        "released": "2020-01-01",
        "extra": 'license = { raw = "MIT", source = "https://other.example/l" }',
    }
    files = {**SMALL_CATALOG, "otherlab.toml": OTHER_LAB.format(**(values | fields))}
    return [str(p) for p in check_catalog(load_catalog(write_catalog(tmp_path / "c", files)), TODAY) if not p.warning]


def test_a_clean_catalog_has_no_errors(tmp_path):
    assert check(tmp_path) == []


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"slug": "oldnet"}, "testlab.toml:oldnet: slug also used in otherlab.toml"),
        ({"name": "Old Net 2012"}, "name or alias 'oldnet2012' also belongs to m"),
        ({"released": "2027-01"}, "released date 2027-01 is in the future"),
        ({"extra": 'license = { raw = "Frobnicate Licence", source = "https://other.example/l" }'}, "licence not recognised"),
        ({"extra": 'base = "nonexistent"\nlicense = { raw = "MIT", source = "https://x.example/" }'}, "base 'nonexistent' is not in the catalog"),
    ],
)  # fmt: skip
def test_inconsistencies_are_reported(tmp_path, fields, message):
    errors = check(tmp_path, **fields)
    assert any(message in error for error in errors), errors


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[lab]\nslug = "otherlab"\nname = "O"\nurl = "https://o.example/"\n[[models]]\nslug = "x"\nname = "X"\n', "models.0.access: Field required"),
        ('[lab]\nslug = "otherlab"\nname = "O"\nurl = "https://o.example/"\n[[models]]\nslug = "x"\nname = "X"\naccess = { value = "download" }\n', "models.0.access.source: Field required"),
        ('[lab]\nslug = "otherlab"\nname = "O"\nurl = "https://o.example/"\n[[models]]\nslug = "x"\nname = "X"\naccess = { value = "leaked", source = "https://o.example/" }\n', "models.0.access.value"),
        ('[lab]\nslug = "wrong"\nname = "O"\nurl = "https://o.example/"\n', "must equal the file name"),
        ('[lab]\nslug = "otherlab"\nname = "O"\nurl = "https://o.example/"\n[[models]]\nslug = "x"\nname = "X"\naccess = { value = "api", source = "https://o.example/" }\nreleased = { date = "2020-13", source = "https://o.example/" }\n', "models.0.released.date"),
    ],
)  # fmt: skip
def test_schema_errors_name_the_file_and_field(tmp_path, text, message):
    write_catalog(tmp_path / "c", {"otherlab.toml": text})
    with pytest.raises(CatalogError, match=r"otherlab\.toml") as caught:
        load_catalog(tmp_path / "c")
    assert message in str(caught.value)


def problems(tmp_path, extra, released="2013-03-01", access="hosted"):
    text = OTHER_LAB.format(slug="m", name="M", released=released, extra=extra).replace('"download"', f'"{access}"')
    return [str(p) for p in check_catalog(load_catalog(write_catalog(tmp_path / "c", {"otherlab.toml": text})), TODAY)]


VERIFIED = (
    '[models.verified]\non = "2026-11-01"\nchecked = ["weights", "license"]\nsources = ["https://other.example/v"]\n'
)


def test_an_overdue_model_without_a_verification_is_reported_and_one_with_it_is_not(tmp_path):
    assert any("overdue or due soon under some allowed policy, but not verified" in p for p in problems(tmp_path, ""))
    assert not any("not verified" in p for p in problems(tmp_path, VERIFIED))


def test_open_weights_without_open_code_need_a_verification_too_since_the_strict_profile_accuses_them(tmp_path):
    open_weights = 'license = { raw = "MIT", spdx = "MIT", source = "https://other.example/l" }'
    found = problems(tmp_path, open_weights, released="2016-06-01", access="download")
    assert any("not verified" in p for p in found)


def test_a_young_model_needs_no_verification(tmp_path):
    assert not any("not verified" in p for p in problems(tmp_path, "", released="2024-03-01"))


@pytest.mark.parametrize(
    ("released", "extra", "message"),
    [
        ("2015-06-12 (secondary)", VERIFIED, "a release day from a secondary source: record the month"),
        ("2015-06", '[[models.changes]]\ndate = "2014-01-01"\nkind = "retired"\naccess = "retired"\nsource = "https://other.example/r"\n' + VERIFIED, "change retired (2014-01-01) predates the release"),
        ("2015-06", VERIFIED.replace("2026-11-01", "2027-01-01"), "verified on 2027-01-01, which is in the future"),
    ],
)  # fmt: skip
def test_date_rules_that_a_file_can_show_broken_are_errors(tmp_path, released, extra, message):
    text = OTHER_LAB.format(slug="m", name="M", released=released.removesuffix(" (secondary)"), extra=extra)
    if released.endswith("(secondary)"):
        text = text.replace('m" }', 'm", secondary = true }', 1)
    found = check_catalog(load_catalog(write_catalog(tmp_path / "c", {"otherlab.toml": text})), TODAY)
    assert any(message in str(p) and not p.warning for p in found), found


def test_a_fact_of_an_accused_model_resting_on_a_secondary_source_is_a_warning(tmp_path):
    extra = 'training_data = { value = "vague", source = "https://news.example/d", secondary = true }\n' + VERIFIED
    assert any("m: training_data rests only on a secondary source" in p for p in problems(tmp_path, extra))


def test_a_verification_is_dated_to_the_day(tmp_path):
    with pytest.raises(CatalogError, match="a verification is dated to the day"):
        problems(tmp_path, VERIFIED.replace("2026-11-01", "2026-11"))
