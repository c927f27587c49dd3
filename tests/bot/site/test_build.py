"""`sunset site build` from the bundled catalog: every path, the API against its schemas and the CLI, feeds,
calendars, links, page weight and accessibility basics."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, timedelta
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlparse

import feedparser
import pytest
from icalendar import Calendar
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource

from bot.cli.commands import app
from tests.bot.site.conftest import ON, runner, status_json, sunset

ISSUE_PATHS = [
    "index.html", "models/alphago/index.html", "labs/deepmind/index.html", "about/index.html",
    "api/v1/models.json", "api/v1/models/alphago.json", "api/v1/labs.json", "api/v1/events.json",
    "api/v1/schema/model.schema.json", "api/v1/schema/models.schema.json", "api/v1/schema/labs.schema.json",
    "api/v1/schema/events.schema.json", "feeds/events.atom", "feeds/labs/deepmind.atom", "calendar/sunsets.ics",
    "calendar/labs/deepmind.ics", "badges/alphago.svg", "sitemap.xml", "robots.txt",
]  # fmt: skip


class Page(HTMLParser):
    """What the tests read from a page: links, ids, headings, images and the html lang."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.ids: set[str] = set()
        self.headings: list[int] = []
        self.images: list[dict[str, str | None]] = []
        self.lang: str | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if attributes.get("id"):
            self.ids.add(attributes["id"])
        if tag == "html":
            self.lang = attributes.get("lang")
        if tag in {"a", "link"} and attributes.get("href"):
            self.links.append(attributes["href"])
        if tag in {"img", "script"} and attributes.get("src"):
            self.links.append(attributes["src"])
        if tag == "img":
            self.images.append(attributes)
        if len(tag) == 2 and tag[0] == "h" and tag[1].isdigit():
            self.headings.append(int(tag[1]))


def read_page(path: Path) -> Page:
    page = Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def html_pages(board: Path) -> list[Path]:
    return sorted(board.rglob("*.html"))


def test_every_path_the_issue_names_is_built(board):
    missing = [path for path in ISSUE_PATHS if not (board / path).is_file()]
    assert missing == []
    models = json.loads((board / "api/v1/models.json").read_text())
    assert len(models) > 500
    for model in models:
        slug = model["slug"]
        for path in (f"models/{slug}/index.html", f"api/v1/models/{slug}.json", f"badges/{slug}.svg"):
            assert (board / path).is_file(), path


def test_every_json_file_validates_against_its_schema(board):
    schemas = {
        path.name.removesuffix(".schema.json"): json.loads(path.read_text())
        for path in (board / "api/v1/schema").glob("*.schema.json")
    }
    registry = Registry().with_resources((schema["$id"], Resource.from_contents(schema)) for schema in schemas.values())
    for schema in schemas.values():
        Draft202012Validator.check_schema(schema)

    def validate(path: Path, schema: str) -> None:
        validator = Draft202012Validator(schemas[schema], registry=registry, format_checker=FormatChecker())
        errors = [
            f"{path.name}: {error.json_path}: {error.message}"
            for error in validator.iter_errors(json.loads(path.read_text()))
        ]
        assert errors == []

    validate(board / "api/v1/models.json", "models")
    validate(board / "api/v1/labs.json", "labs")
    labs = {lab["slug"]: lab for lab in json.loads((board / "api/v1/labs.json").read_text())}
    assert (labs["deepmind"]["part_of"], labs["google"]["part_of"]) == ("google", None)
    validate(board / "api/v1/events.json", "events")
    one_model_files = sorted((board / "api/v1/models").glob("*.json"))
    assert len(one_model_files) > 500
    for path in one_model_files:
        validate(path, "model")


def test_the_api_says_what_sunset_status_and_list_json_say(board, bundled_config):
    for slug in ("alphago", "gpt-2", "alexnet"):
        api = json.loads((board / f"api/v1/models/{slug}.json").read_text())
        cli = status_json(bundled_config, "status", slug, "--evidence")
        assert api.pop("pledges") == (2 if slug == "alphago" else 0)
        assert api == cli
    assert json.loads((board / "api/v1/models.json").read_text()) == status_json(bundled_config, "list")


def test_the_home_page_lists_the_overdue_most_notable_first_and_the_coming_sunsets(board, bundled_config):
    overdue = status_json(bundled_config, "list", "--status", "overdue")
    home = (board / "index.html").read_text()
    section = home.split('id="overdue"')[1].split("</section>")[0]
    positions = [section.index(f"models/{model['slug']}/index.html") for model in overdue[:10]]
    assert positions == sorted(positions)  # the CLI's notable-first order
    upcoming = home.split('id="upcoming-heading"')[1].split("</section>")[0]
    soon = [m for m in status_json(bundled_config, "list") if m["status"] in {"due_soon", "in_window"}]
    within_a_year = [m for m in soon if m["sunset_date"] <= str(date.fromisoformat(ON) + timedelta(days=365))]
    assert within_a_year and all(f"models/{m['slug']}/index.html" in upcoming for m in within_a_year[:50])


def test_a_model_page_shows_every_fact_with_its_source_pledges_and_the_disagreement(board):
    page = (board / "models/alphago/index.html").read_text()
    assert "overdue by 10 months" in page and "2026-01-27" in page
    assert "2 people want it opened" in page
    assert 'href="https://www.nature.com/articles/nature16961"' in page
    assert "Where sources disagree" in page and "2015-10-01" in page  # Epoch's date, kept visible at rank 0
    assert "retired" in page and "2017-05-27" in page  # the openness timeline's dated change


def test_the_atom_feeds_parse_with_feedparser_with_one_entry_per_event_and_stable_ids(board, bundled_config, tmp_path):
    feed = feedparser.parse(str(board / "feeds/events.atom"))
    assert not feed.bozo, feed.get("bozo_exception")
    ids = [entry.id for entry in feed.entries]
    assert 0 < len(ids) <= 200 and len(set(ids)) == len(ids)
    events = json.loads((board / "api/v1/events.json").read_text())
    assert ids == [event["id"] for event in events[: len(ids)]]  # newest first, the same ids as the API
    kinds = {event["kind"] for event in events}
    assert {"new_model", "sunset_passed", "sunset_approaching", "openness_changed"} <= kinds
    alphago = [e for e in events if e["model"] == "alphago" and e["kind"] == "sunset_passed"]
    assert alphago and alphago[0]["on"] == "2026-01-28"
    lab = feedparser.parse(str(board / "feeds/labs/deepmind.atom"))
    assert not lab.bozo and lab.entries
    lab_of = {event["id"]: event["lab"] for event in events}
    assert {lab_of[entry.id] for entry in lab.entries} == {"deepmind"}
    again = tmp_path / "again"
    sunset(bundled_config, "site", "build", str(again), "--on", ON)
    assert [e.id for e in feedparser.parse(str(again / "feeds/events.atom")).entries] == ids


def test_the_calendars_parse_with_one_all_day_event_per_sunset(board):
    calendar = Calendar.from_ical((board / "calendar/sunsets.ics").read_bytes())
    events = list(calendar.walk("VEVENT"))
    uids = [str(event["UID"]) for event in events]
    assert len(uids) == len(set(uids)) > 100
    for event in events:
        start, end = event.decoded("DTSTART"), event.decoded("DTEND")
        assert type(start) is date and end == start + timedelta(days=1)  # all-day
    alphago = [e for e in events if "AlphaGo" in str(e["SUMMARY"])]
    assert alphago[0].decoded("DTSTART") == date(2026, 1, 27)
    models = {m["slug"]: m for m in json.loads((board / "api/v1/models.json").read_text())}
    assert len(events) == sum(m["sunset_date"] is not None and m["status"] != "open" for m in models.values())
    lab = Calendar.from_ical((board / "calendar/labs/deepmind.ics").read_bytes())
    assert {str(e["UID"]) for e in lab.walk("VEVENT")} <= set(uids)


def test_no_internal_link_is_broken_and_every_model_page_is_reachable_from_home(board):
    pages = {path: read_page(path) for path in html_pages(board)}
    broken = []
    for path, page in pages.items():
        for link in page.links:
            if urlparse(link).scheme in {"http", "https", "mailto"}:
                continue
            target, fragment = urldefrag(link)
            resolved = (path.parent / unquote(target)).resolve() if target else path
            if not resolved.is_file():
                broken.append(f"{path.relative_to(board)} → {link}")
            elif fragment and resolved.suffix == ".html" and fragment not in pages[resolved].ids:
                broken.append(f"{path.relative_to(board)} → {link} (no such id)")
    assert broken == []
    seen, frontier = set(), [board / "index.html"]
    while frontier:
        path = frontier.pop()
        if path in seen or path.suffix != ".html":
            continue
        seen.add(path)
        for link in pages[path].links:
            target = urldefrag(link)[0]
            if target and not urlparse(target).scheme:
                frontier.append((path.parent / unquote(target)).resolve())
    assert set(pages) == seen


def test_every_page_is_light_accessible_basics_and_has_one_h1(board):
    for path in html_pages(board):
        assert path.stat().st_size < 100_000, path
        page = read_page(path)
        assert page.lang == "en"
        assert page.headings.count(1) == 1, path
        assert all(later - earlier <= 1 for earlier, later in zip(page.headings, page.headings[1:], strict=False)), path
        assert all(image.get("alt") for image in page.images), path


def test_badges_say_how_overdue_or_how_open(board):
    assert ">overdue 10 months<" in (board / "badges/alphago.svg").read_text()
    models = json.loads((board / "api/v1/models.json").read_text())
    open_weights = next(m for m in models if m["status"] == "open" and m["level"] == "L2")
    assert ">open weights<" in (board / f"badges/{open_weights['slug']}.svg").read_text()


def test_the_sitemap_and_robots_and_feeds_use_the_base_url_when_given(bundled_config, tmp_path):
    folder = tmp_path / "published"
    sunset(bundled_config, "site", "build", str(folder), "--on", ON, "--base-url", "https://sunset.example.org")
    sitemap = (folder / "sitemap.xml").read_text()
    assert "<loc>https://sunset.example.org/models/alphago/</loc>" in sitemap
    assert "Sitemap: https://sunset.example.org/sitemap.xml" in (folder / "robots.txt").read_text()
    feed = feedparser.parse(str(folder / "feeds/events.atom"))
    assert feed.entries[0].link.startswith("https://sunset.example.org/models/")
    assert (
        '<link rel="canonical" href="https://sunset.example.org/models/alphago/">'
        in (folder / "models/alphago/index.html").read_text()
    )


@pytest.mark.parametrize("url", ["ftp://x", "sunset.example.org"])
def test_a_base_url_that_is_not_http_is_one_line_and_exit_2(bundled_config, tmp_path, url):
    result = runner.invoke(app, ["--config", str(bundled_config), "site", "build", str(tmp_path), "--base-url", url])
    assert result.exit_code == 2 and "--base-url" in result.output


def test_a_fresh_install_builds_the_board_from_the_bundled_catalog_with_no_set_up(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SUNSET_", "XDG_"))}
    env |= {"HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path / "data")}
    result = subprocess.run(
        [sys.executable, "-m", "bot", "site", "build", "site/"],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("built site")
    assert (tmp_path / "site/models/alphago/index.html").is_file()
    assert len(json.loads((tmp_path / "site/api/v1/models.json").read_text())) > 500
