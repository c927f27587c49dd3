"""`sunset track`, `sources`, `review` and `status --evidence` in-process, against sources served on loopback."""

import json
import re

import pytest
from typer.testing import CliRunner

from bot.cli.commands import app
from tests.helpers import write_catalog
from tests.trackers.conftest import fixture, hub_routes
from tests.trackers.server import LoopbackServer, Route

runner = CliRunner()


@pytest.fixture
def served():
    with LoopbackServer() as server:
        server.routes["/news.rss"] = Route(fixture("feeds/testlab_news.rss"), etag='"n1"')
        server.routes["/broken.rss"] = Route(b"<html><body>Document moved</body></html>")
        server.routes["/epoch.csv"] = Route(fixture("epoch_notable.csv"), headers={"Content-Type": "text/csv"})
        hub_routes(server)
        yield server


@pytest.fixture
def config(tmp_path, database_url, served):
    catalog = write_catalog(tmp_path / "catalog")
    path = tmp_path / "config.toml"
    path.write_text(
        f"""
[database]
url = "{database_url}"

[trackers]
allow_private_addresses = true   # the sources below are on 127.0.0.1
replace_default_sources = true   # only these

[[sources]]
name = "catalog"
kind = "catalog"
path = "{catalog}"

[[sources]]
name = "testlab-news"
kind = "rss"
lab = "testlab"
url = "{served.url("/news.rss")}"

[[sources]]
name = "testlab-hub"
kind = "huggingface"
lab = "testlab"
author = "testlab"
endpoint = "{served.url("")}"

[[sources]]
name = "epoch"
kind = "epoch"
url = "{served.url("/epoch.csv")}"

[[sources]]
name = "broken"
kind = "rss"
url = "{served.url("/broken.rss")}"
"""
    )
    return path


def sunset(config, *args):
    return runner.invoke(app, ["--config", str(config), *args], env={"COLUMNS": "200"})


def test_track_once_polls_every_source_and_ends_with_a_table_even_when_one_fails(config, served):
    result = sunset(config, "track", "--once")
    assert result.exit_code == 1, result.output  # one source failed: cron must be able to tell
    assert result.stderr.splitlines()[-1] == "error: 1 of 5 sources failed: broken"
    lines = {line.split("│")[1].strip(): line for line in result.stdout.splitlines() if line.count("│") > 5}
    assert "ok" in lines["testlab-news"] and "ok" in lines["testlab-hub"]
    assert "error" in lines["broken"] and "not a feed" in lines["broken"]
    again = sunset(config, "track", "--source", "testlab-news")
    assert again.exit_code == 0 and "not_modified" in again.stdout and "failed" not in again.stderr
    assert sunset(config, "track", "--source", "nope").exit_code == 2


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ('kind = "github"\nrepo = "llama models"', "source 'bad': repo: must be OWNER/NAME (got 'llama models')"),
        ('kind = "rss"\nurl = "news.rss"', "source 'bad': url: must be an http(s) URL (got 'news.rss')"),
        ('kind = "huggingface"\nauthor = "x"\npage_size = 0', "source 'bad': page_size: Input should be greater"),
    ],
)
def test_a_bad_source_stops_track_at_start_up_with_one_line_and_exit_2(config, served, entry, message):
    config.write_text(config.read_text() + f'\n[[sources]]\nname = "bad"\n{entry}\n')
    result = sunset(config, "track", "--once")
    assert result.exit_code == 2, result.output
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert result.stdout == "" and not served.requests  # nothing polled


def test_track_once_with_allow_failures_exits_0_and_still_names_the_failed_sources(config):
    result = sunset(config, "track", "--once", "--allow-failures")
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[-1] == "warning: 1 of 5 sources failed: broken"


def test_sources_json_has_the_documented_fields(config):
    before = json.loads(sunset(config, "sources", "--json").stdout)
    assert {source["name"]: source["status"] for source in before} == {
        "catalog": "never", "testlab-news": "never", "testlab-hub": "never", "epoch": "never", "broken": "never",
    }  # fmt: skip
    sunset(config, "track", "--once")
    after = {source["name"]: source for source in json.loads(sunset(config, "sources", "--json").stdout)}
    assert set(after["broken"]) == {
        "name", "kind", "url", "lab", "status", "last_error", "consecutive_failures", "last_ok_at", "next_due_at",
        "items_seen",
    }  # fmt: skip
    assert after["broken"]["status"] == "error" and after["broken"]["consecutive_failures"] == 1
    assert after["testlab-hub"]["items_seen"] == 3 and after["testlab-hub"]["url"].startswith("http://127.0.0.1")


def test_sources_on_a_narrow_terminal_keeps_what_tells_health(config):
    sunset(config, "track", "--once")
    wide = sunset(config, "sources").stdout
    assert all(title in wide for title in ("Kind", "Lab", "Last OK", "Items")) and "all fields" not in wide
    assert re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d", wide)  # whole timestamps when there is room
    narrow = runner.invoke(app, ["--config", str(config), "sources"], env={"COLUMNS": "80"}).stdout
    assert max(len(line) for line in narrow.splitlines()) <= 80
    assert "Items" not in narrow and "all fields" in narrow
    rows = {line.split("│")[1].strip(): line for line in narrow.splitlines() if line.count("│") == 6}
    assert "error" in rows["broken"] and "not a feed" in rows["broken"]
    assert "ok" in rows["testlab-hub"] and "…" not in rows["testlab-hub"]


def test_review_lists_and_confirms_and_status_shows_the_evidence(config):
    sunset(config, "track", "--once")
    waiting = json.loads(sunset(config, "review", "--json").stdout)
    assert "nimbus-2" in [item["slug"] for item in waiting]
    assert sunset(config, "status", "Nimbus 2").exit_code == 1  # not visible yet
    assert sunset(config, "review", "confirm", "Nimbus 2").exit_code == 0
    data = json.loads(sunset(config, "status", "Nimbus 2", "--json", "--evidence").stdout)
    assert data["level"] == "L0" and data["first_release"] == "2026-11-09"
    assert any(e["fact"] == "cue:access" and e["source"] == "testlab-news" for e in data["evidence"])
    assert sunset(config, "review", "reject", "Nimbus 2").exit_code == 1  # already confirmed
    table = sunset(config, "status", "oldnet", "--evidence")
    assert "testlab-hub" in table.stdout and "2012-09" in table.stdout and "2012-09-14" in table.stdout
    # Epoch AI's data is CC-BY 4.0: wherever one of its claims is shown, so is the attribution.
    assert "Epoch AI, 'Notable AI Models', CC-BY 4.0" in " ".join(table.stdout.split())


def test_one_shot_commands_never_reach_the_network(config, served):
    assert sunset(config, "status", "oldnet").exit_code == 0
    assert sunset(config, "list").exit_code == 0
    assert sunset(config, "sources").exit_code == 0
    assert served.requests == []
