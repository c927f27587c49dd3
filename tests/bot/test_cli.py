"""The `sunset` CLI in-process (typer's runner) on a real database and a small catalog of our own."""

import json
import os
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from bot.cli.commands import app
from db.revisions import MIGRATIONS
from tests.helpers import ONLY_THESE_SOURCES, write_config

runner = CliRunner()


@pytest.fixture
def config(tmp_path, database_url, monkeypatch):
    return write_config(tmp_path, database_url)


def sunset(config, *args):
    return runner.invoke(app, ["--config", str(config), *args])


def test_status_json_has_the_documented_shape(config):
    result = sunset(config, "status", "Opened Later", "--json", "--on", "2026-11-28")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["slug"] == "opened-later"
    assert data["lab"] == "Test Lab"
    assert data["first_release"] == "2014-05-01" and data["release_precision"] == "day"
    assert data["level"] == "L2"
    assert data["openness"]["weights_release_date"] == "2020-01-15"
    assert data["openness"]["licence_tier"] == "A"
    assert data["status"] == "open"
    assert data["sunset_date"] == "2024-05-01"
    assert "https://testlab.example/ol-weights" in data["sources"]
    assert "testlab/opened-later" in data["aliases"]
    # The same keys whatever the status: what does not apply is null.
    assert (data["overdue_days"], data["days_to_sunset"]) == (None, None)
    overdue = json.loads(sunset(config, "status", "oldnet", "--json", "--on", "2026-11-28").stdout)
    assert set(overdue) == set(data) and overdue["days_to_sunset"] is None and overdue["overdue_days"] == 1520


def test_status_replays_any_date(config):
    before = json.loads(sunset(config, "status", "opened-later", "--json", "--on", "2019-06-01").stdout)
    assert (before["level"], before["status"], before["days_to_sunset"]) == ("L0", "in_window", 1796)
    after = json.loads(sunset(config, "status", "opened-later", "--json", "--on", "2020-01-15").stdout)
    assert (after["level"], after["status"]) == ("L2", "open")


def test_month_precision_counts_from_the_end_of_the_month(config):
    data = json.loads(sunset(config, "status", "oldnet", "--json", "--on", "2026-11-28").stdout)
    assert data["first_release"] == "2012-09" and data["release_precision"] == "month"
    assert data["sunset_date"] == "2022-09-30"
    assert (data["status"], data["overdue_days"]) == ("overdue", 1520)


def test_window_and_profile_options_change_the_answer(config):
    data = json.loads(sunset(config, "status", "oldnet", "--json", "--window", "15", "--on", "2026-11-28").stdout)
    assert (data["window_years"], data["status"], data["sunset_date"]) == (15, "due_soon", "2027-09-30")
    strict = json.loads(
        sunset(config, "status", "opened later", "--json", "--profile", "strict", "--on", "2026-11-28").stdout
    )
    assert (strict["profile"], strict["status"]) == ("strict", "overdue")


def test_restricted_weights_past_sunset_say_so(config):
    data = json.loads(sunset(config, "status", "restricted", "--json", "--on", "2033-08-01").stdout)
    assert data["status"] == "overdue"
    assert "weights out, licence still restrictive" in data["status_text"]


def test_an_unknown_model_exits_1_with_suggestions(config):
    result = sunset(config, "status", "Restrictd LM")
    assert result.exit_code == 1
    assert "no model called 'Restrictd LM'" in result.stderr and "restricted" in result.stderr
    as_json = sunset(config, "status", "Restrictd LM", "--json")
    assert as_json.exit_code == 1
    assert json.loads(as_json.stdout)["suggestions"][0] == "restricted"
    assert "Note:" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
    # A model that is simply not tracked yet: say how one gets added.
    assert "docs/CATALOG.md says how to add a model" in result.stderr
    assert "docs/CATALOG.md" in json.loads(as_json.stdout)["hint"]


def test_with_no_catalog_source_an_unknown_model_says_why_there_are_no_models(tmp_path, database_url):
    path = tmp_path / "config.toml"
    path.write_text(
        f'[database]\nurl = "{database_url}"\n\n{ONLY_THESE_SOURCES}[[sources]]\nname = "feed"\nkind = "rss"\nurl = "https://x.example/feed"\n'
    )
    result = sunset(path, "status", "GPT-3")
    assert result.exit_code == 1
    assert 'no [[sources]] entry has kind = "catalog", so the bundled catalog is not loaded' in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["status", "oldnet", "--window", "9"], "--window must be a whole number of years from 10 to 15 (got 9)"),
        (["status", "oldnet", "--profile", "loose"], "--profile must be one of: weights, strict"),
        (["status", "oldnet", "--on", "yesterday"], "--on must be a date as YYYY-MM-DD"),
        (["list", "--status", "late"], "--status must be one of"),
    ],
)
def test_bad_arguments_get_one_line_and_exit_2(config, args, message):
    result = sunset(config, *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output


def test_list_is_sorted_by_sunset_and_filterable(config):
    data = json.loads(sunset(config, "list", "--json", "--sort", "sunset", "--on", "2026-11-28").stdout)
    assert [m["slug"] for m in data] == ["oldnet", "opened-later", "restricted"]
    overdue = json.loads(sunset(config, "list", "--json", "--status", "overdue", "--on", "2026-11-28").stdout)
    assert [m["slug"] for m in overdue] == ["oldnet"]
    by_lab = json.loads(sunset(config, "list", "--json", "--lab", "Test Lab").stdout)
    assert len(by_lab) == 3
    assert json.loads(sunset(config, "list", "--json", "--lab", "testlab").stdout) == by_lab


def test_a_lab_that_matches_nothing_is_an_error_with_suggestions(config):
    result = sunset(config, "list", "--lab", "testlabs")
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.strip() == "error: --lab: no lab called 'testlabs'; did you mean: testlab? (see `sunset labs`)"


ROBOTICS_LAB = """
[lab]
slug = "robotics"
name = "Test Lab Robotics"
url = "https://robotics.testlab.example/"
hf_orgs = ["testlab-robots"]

[[models]]
slug = "armnet"
name = "ArmNet"
released = { date = "2015-02-01", source = "https://robotics.testlab.example/armnet" }
access = { value = "api", source = "https://robotics.testlab.example/armnet" }
"""


@pytest.fixture
def two_labs(config, tmp_path):
    (tmp_path / "catalog" / "robotics.toml").write_text(ROBOTICS_LAB, encoding="utf-8")
    return config


def test_a_lab_whose_name_another_lab_contains_points_to_it_and_hub_orgs_name_labs_too(two_labs):
    result = sunset(two_labs, "list", "--json", "--lab", "testlab")
    assert {m["slug"] for m in json.loads(result.stdout)} == {"oldnet", "opened-later", "restricted"}
    assert "note: Test Lab Robotics is a separate lab; add --lab robotics to include it" in result.stderr
    both = sunset(two_labs, "list", "--json", "--lab", "testlab", "--lab", "robotics")
    assert len(json.loads(both.stdout)) == 4 and "note" not in both.stderr
    by_org = sunset(two_labs, "list", "--json", "--lab", "testlab-robots")
    assert [m["slug"] for m in json.loads(by_org.stdout)] == ["armnet"]


def test_labs_lists_every_lab_with_its_models(two_labs):
    data = json.loads(sunset(two_labs, "labs", "--json", "--on", "2026-11-28").stdout)
    assert [(lab["slug"], lab["models"], lab["overdue"], lab["open"]) for lab in data] == [
        ("testlab", 3, 1, 1), ("robotics", 1, 1, 0),
    ]  # fmt: skip
    assert data[1]["hf_orgs"] == ["testlab-robots"] and data[1]["name"] == "Test Lab Robotics"
    table = sunset(two_labs, "labs").stdout
    assert "robotics" in table and "Test Lab Robotics" in table


def test_status_before_the_release_says_not_yet_released(config):
    data = json.loads(sunset(config, "status", "restricted", "--json", "--on", "2020-01-01").stdout)
    assert (data["released"], data["status_text"]) == (False, "not yet released")
    table = sunset(config, "status", "Opened Later", "--on", "2010-01-01").stdout
    assert "not yet released" in table
    assert json.loads(sunset(config, "status", "restricted", "--json").stdout)["released"] is True


def test_status_on_the_sunset_day_says_sunset_today(config):
    data = json.loads(sunset(config, "status", "restricted", "--json", "--on", "2033-07-18").stdout)
    assert (data["status"], data["days_to_sunset"], data["status_text"]) == ("due_soon", 0, "sunset today")


def test_an_unknown_sort_is_one_line_and_exit_2(config):
    result = sunset(config, "list", "--sort", "random")
    assert result.exit_code == 2 and "--sort must be one of: notable, sunset, name" in result.output


def test_list_on_a_past_date_leaves_out_models_not_yet_released(config):
    data = json.loads(sunset(config, "list", "--json", "--on", "2013-01-01").stdout)
    assert [m["slug"] for m in data] == ["oldnet"]


def test_human_output_is_a_table(config):
    result = sunset(config, "status", "oldnet", "--on", "2026-11-28")
    assert result.exit_code == 0
    assert "OldNet — Test Lab" in result.stdout and "overdue by 4 years" in result.stdout


def test_a_malformed_catalog_file_is_one_line_and_exit_2(config, tmp_path):
    (tmp_path / "catalog" / "zz.toml").write_text("[lab\n")
    result = sunset(config, "status", "oldnet")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: catalog: zz.toml: not valid TOML")


def test_an_invalid_config_is_one_line_and_exit_2(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[sunset]\nwindow_years = 20\n")
    result = runner.invoke(app, ["--config", str(bad), "list"])
    assert result.exit_code == 2
    assert "sunset.window_years" in result.stderr and "10 to 15" in result.stderr


def test_db_upgrade_reports_the_revision(config):
    result = sunset(config, "db", "upgrade")
    assert result.exit_code == 0
    newest = sorted(path.name[:4] for path in MIGRATIONS.joinpath("versions").glob("[0-9]*.py"))[-1]
    assert f"is at revision {newest}" in result.stdout  # the newest migration, whichever that is


NOTABLE_LAB = """
[lab]
slug = "histlab"
name = "History Lab"
url = "https://hist.example/"

[[models]]
slug = "obscure-net"
name = "Obscure Net"
released = { date = "2012-01", source = "https://hist.example/o" }
access = { value = "unreleased", source = "https://hist.example/o" }

[[models]]
slug = "famous-net"
name = "Famous Net"
aliases = ["AlexNet"]
released = { date = "2014-06", source = "https://hist.example/f" }
access = { value = "unreleased", source = "https://hist.example/f" }

[models.verified]
on = "2026-01-10"
checked = ["weights", "access"]
sources = ["https://hist.example/f", "https://hist.example/search"]
"""


@pytest.fixture
def notable_config(tmp_path, database_url):
    catalog = tmp_path / "notable-catalog"
    catalog.mkdir()
    (catalog / "histlab.toml").write_text(NOTABLE_LAB)
    path = tmp_path / "notable.toml"
    path.write_text(
        f'[database]\nurl = "{database_url}"\n\n{ONLY_THESE_SOURCES}'
        f'[[sources]]\nname = "catalog"\nkind = "catalog"\npath = "{catalog}"\n'
    )
    return path


def test_an_epoch_row_named_by_an_alias_makes_a_model_notable_and_lists_put_it_first(notable_config):
    overdue = json.loads(sunset(notable_config, "list", "--json", "--status", "overdue", "--on", "2026-11-28").stdout)
    assert [m["slug"] for m in overdue] == ["famous-net", "obscure-net"]  # though obscure-net is longer overdue
    assert "Historical significance" in overdue[0]["notability"] and overdue[1]["notability"] == []
    notable = json.loads(sunset(notable_config, "list", "--json", "--notable").stdout)
    assert [m["slug"] for m in notable] == ["famous-net"]
    by_sunset = json.loads(sunset(notable_config, "list", "--json", "--sort", "sunset").stdout)
    assert [m["slug"] for m in by_sunset] == ["obscure-net", "famous-net"]


def test_status_json_says_when_and_where_a_model_was_verified(notable_config):
    famous = json.loads(sunset(notable_config, "status", "famous net", "--json").stdout)
    assert famous["verified"] == {
        "on": "2026-01-10",
        "sources": ["https://hist.example/f", "https://hist.example/search"],
    }
    assert json.loads(sunset(notable_config, "status", "obscure net", "--json").stdout)["verified"] is None
    assert "Verified" in sunset(notable_config, "status", "famous net").stdout


def test_review_stale_lists_accusations_never_or_long_ago_verified(notable_config):
    stale = json.loads(sunset(notable_config, "review", "stale", "--json").stdout)
    assert [(item["slug"], item["verified_on"]) for item in stale] == [
        ("obscure-net", None),
        ("famous-net", "2026-01-10"),
    ]
    recent = json.loads(sunset(notable_config, "review", "stale", "--json", "--days", "3650").stdout)
    assert [item["slug"] for item in recent] == ["obscure-net"]


def test_catalog_stats_shows_coverage_against_epoch_per_year(notable_config):
    data = json.loads(sunset(notable_config, "catalog", "stats", "--json").stdout)
    epoch = data["epoch"]
    assert (epoch["by_year"]["2012"]["epoch_rows"], epoch["by_year"]["2012"]["models"]) == (13, 1)
    assert epoch["cohort_2012_2017"]["epoch_rows"] == 198
    assert epoch["by_year"]["2012"]["covered"] == 1  # the configured catalog's Famous Net, alias AlexNet
    assert "CC BY 4.0" in epoch["attribution"]
    assert "Epoch AI notable models" in sunset(notable_config, "catalog", "stats").stdout


def test_a_challenge_goes_to_review_beside_the_fact_and_accepting_it_edits_the_catalog_file(config):
    catalog = config.parent / "catalog" / "testlab.toml"
    result = sunset(
        config, "report", "OldNet", "--fact", "released", "--value", "2012-10-02",
        "--source", "https://testlab.example/oldnet-launch", "--note", "the launch post", "--by", "ada",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "challenge #1 is in the review queue" in result.stdout
    (waiting,) = json.loads(sunset(config, "review", "challenges", "--json").stdout)
    assert (waiting["fact"], waiting["proposed"], waiting["reporter"]) == ("released", "2012-10-02", "cli:ada")
    assert waiting["current"] == [{"value": "2012-09", "url": "https://testlab.example/oldnet"}]
    assert "the launch post" in sunset(config, "review").stdout
    accepted = sunset(config, "review", "accept", "1", "--by", "mod")
    assert accepted.exit_code == 0, accepted.output
    text = catalog.read_text()
    assert 'released = { date = "2012-10-02", source = "https://testlab.example/oldnet-launch" }' in text
    assert "Challenge #1, accepted" in text and "the record said 2012-09 (https://testlab.example/oldnet)" in text
    status = json.loads(sunset(config, "status", "oldnet", "--json").stdout)
    assert (status["first_release"], status["sunset_date"]) == ("2012-10-02", "2022-10-02")
    assert json.loads(sunset(config, "review", "challenges", "--json").stdout) == []
    again = sunset(config, "review", "accept", "1")
    assert again.exit_code == 1 and "already accepted" in again.output


def test_a_challenge_accepted_as_a_dated_change_relicenses_from_that_day(config):
    sunset(
        config,
        "report",
        "restricted",
        "--fact",
        "license",
        "--value",
        "Apache License 2.0",
        "--source",
        "https://testlab.example/relicence",
    )
    assert sunset(config, "review", "accept", "1", "--since", "2025-03-01").exit_code == 0
    before = json.loads(sunset(config, "status", "restricted", "--json", "--on", "2025-02-28").stdout)
    after = json.loads(sunset(config, "status", "restricted", "--json", "--on", "2025-03-01").stdout)
    assert (before["openness"]["licence_tier"], after["openness"]["licence_tier"]) == ("B", "A")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--fact", "released", "--value", "2099-01-01", "--source", "https://x.example/"], "cannot be in the future"),
        (["--fact", "access", "--value", "leaked", "--source", "https://x.example/"], "access is one of: unreleased"),
        (["--fact", "colour", "--value", "red", "--source", "https://x.example/"], "A challenge is about one of"),
        (["--fact", "license", "--value", "MIT", "--source", "javascript:alert(1)"], "full http(s) URL"),
    ],
)
def test_a_bad_challenge_is_one_line_and_exit_1(config, args, message):
    result = sunset(config, "report", "oldnet", *args)
    assert result.exit_code == 1 and message in result.output
    assert json.loads(sunset(config, "review", "challenges", "--json").stdout) == []


def test_a_rejected_challenge_needs_a_reason_and_leaves_the_catalog_alone(config):
    catalog = config.parent / "catalog" / "testlab.toml"
    before = catalog.read_text()
    sunset(config, "report", "oldnet", "--fact", "access", "--value", "download", "--source", "https://x.example/leak")
    assert sunset(config, "review", "reject", "1").exit_code == 1
    assert sunset(config, "review", "reject", "1", "--reason", "a leak is not a release").exit_code == 0
    assert catalog.read_text() == before


def test_one_reporter_may_send_five_challenges_a_day(config):
    for _ in range(5):
        assert (
            sunset(
                config,
                "report",
                "oldnet",
                "--fact",
                "access",
                "--value",
                "api",
                "--source",
                "https://x.example/",
                "--by",
                "bo",
            ).exit_code
            == 0
        )
    sixth = sunset(
        config, "report", "oldnet", "--fact", "access", "--value", "api", "--source", "https://x.example/", "--by", "bo"
    )
    assert sixth.exit_code == 1 and "last 24 hours" in sixth.output


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("bogus", "error: the database URL is not valid"),
        ("postgresql://someone:pw@127.0.0.1:1/nothing", "error: the database is not answering"),
    ],
)
def test_a_database_that_cannot_be_named_or_reached_is_one_line_and_exit_2(tmp_path, url, message):
    env = {k: v for k, v in os.environ.items() if not k.startswith("SUNSET_")} | {"SUNSET_DATABASE_URL": url}
    for args in (["status", "gpt-3"], ["track", "--once"]):
        result = subprocess.run(
            [sys.executable, "-m", "bot", *args], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120,
            check=False,
        )  # fmt: skip
        assert result.returncode == 2, result.stderr
        assert result.stderr.strip().splitlines() == [result.stderr.strip()] and message in result.stderr
        assert "Traceback" not in result.stderr and "pw" not in result.stderr


def test_version_prints_the_package_version():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.stdout.strip().startswith("sunset-clause 0.")


def test_config_prints_the_effective_settings_with_secrets_redacted(config):
    env = {"DISCORD_TOKEN": "s3cret-token", "HF_TOKEN": "hf_s3cret", "SUNSET_DATABASE_URL": ""}
    text = runner.invoke(app, ["--config", str(config), "config"], env=env).stdout
    assert text.startswith(f"# config file: {config}\n# DISCORD_TOKEN: set (redacted)\n# HF_TOKEN: set (redacted)")
    assert "window_years = 10" in text and 'kind = "catalog"' in text
    assert "s3cret" not in text
    with_password = {"SUNSET_DATABASE_URL": "postgresql+psycopg://sunset:hunter2@db.example:5432/sunset"}
    data = json.loads(runner.invoke(app, ["--config", str(config), "config", "--json"], env=with_password).stdout)
    assert data["settings"]["database"]["url"] == "postgresql+psycopg://sunset:***@db.example:5432/sunset"
    assert data["settings"]["trackers"]["replace_default_sources"] is True
    assert "discord_token" not in data["settings"] and data["environment"]["DISCORD_TOKEN"] == "not set"


def test_cli_parity_upcoming_recent_search_history_level_and_limit(config):
    upcoming = json.loads(sunset(config, "upcoming", "--days", "365", "--json", "--on", "2033-01-01").stdout)
    assert [row["slug"] for row in upcoming] == ["restricted"] and upcoming[0]["sunset"] == "2033-07-18"
    recent = json.loads(sunset(config, "recent", "--days", "30", "--json", "--on", "2033-08-01").stdout)
    assert [row["slug"] for row in recent] == ["restricted"]
    assert json.loads(sunset(config, "recent", "--days", "30", "--json", "--on", "2033-01-01").stdout) == []
    found = json.loads(sunset(config, "search", "restr", "--json").stdout)
    assert found[0] == {"name": "Restricted LM", "slug": "restricted"}
    assert sunset(config, "search", "zzzzqq").exit_code == 1
    history = json.loads(sunset(config, "history", "Opened Later", "--json").stdout)
    assert history["slug"] == "opened-later" and any("released" in o["text"] for o in history["observations"])
    assert sunset(config, "history", "Nope Model").exit_code == 1
    by_level = json.loads(sunset(config, "list", "--json", "--level", "l1", "--on", "2026-11-28").stdout)
    assert [row["slug"] for row in by_level] == ["restricted"]
    assert len(json.loads(sunset(config, "list", "--json", "--limit", "2").stdout)) == 2
    assert sunset(config, "list", "--level", "L9").exit_code == 2


def test_model_names_complete_in_the_shell_from_the_database(config):
    def complete(words):
        env = {"_SUNSET_COMPLETE": "complete_bash", "COMP_WORDS": words, "COMP_CWORD": str(len(words.split()) - 1)}
        return runner.invoke(app, [], prog_name="sunset", env=env).output.split()

    assert sunset(config, "status", "oldnet").exit_code == 0  # the first command loads the catalog
    assert complete(f"sunset --config {config} status restr") == ["restricted"]
    assert "opened-later" in complete(f"sunset --config {config} history opene")
    assert complete(f"sunset --config {config.parent / 'missing.toml'} status restr") == []  # quietly nothing


def test_catalog_check_of_named_files_reports_only_them_and_a_missing_file_is_one_line():
    from trackers.catalog import CATALOG_DIR

    one = runner.invoke(app, ["catalog", "check", str(CATALOG_DIR / "openai.toml")])
    assert one.exit_code == 0, one.output
    assert one.stdout.strip().splitlines()[-1].startswith("1 files, ")
    assert "notable.csv" not in one.stdout  # the Epoch coverage belongs to the whole catalog
    missing = runner.invoke(app, ["catalog", "check", "nowhere.toml"])
    assert missing.exit_code == 1 and "nowhere.toml: cannot be read" in missing.output
