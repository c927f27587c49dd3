from datetime import date

import pytest

from tests.helpers import SMALL_CATALOG, write_catalog
from trackers.catalog import CatalogError, check_catalog, load_catalog

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
