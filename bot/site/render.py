"""The board as files: {path: bytes} from a Board (pure). Pages by Jinja2, Atom by feedgen, iCal by icalendar."""

from __future__ import annotations

import functools
import itertools
import json
import xml.etree.ElementTree as ET
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from importlib import resources
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from bot.present.assessment import STATUS_WORDS, notable_first
from bot.present.chart import LEVEL_COLOURS, LEVEL_LABELS, window_cutoff
from bot.services.queries import overdue_of, stats_of, upcoming_of
from bot.site.badges import badge_for
from bot.site.board import Board
from bot.site.calendar import sunset_calendar
from bot.site.events import KIND_WORDS, BoardEvent, model_events, newest_first
from bot.site.feeds import FEED_LIMIT, atom_feed
from bot.site.paths import lab_page, model_page, path_slug
from trackers.assess import Assessment
from trackers.catalog import epoch
from trackers.openness import level_as_of
from trackers.records import Level
from trackers.sunset import Status

HOME_LIMIT = 50  # rows per list on the home page; the lab pages list every model
LAB_PAGE_MODELS = 200  # models per lab page, so a page stays under 100 KB however big a lab grows
RECENT_DAYS = 365
SCHEMAS = ("model", "models", "labs", "events")
PAGES = ("index.html", "about/index.html")


@functools.cache
def environment() -> Environment:
    """The Jinja2 environment, built once: package templates, HTML and SVG escaped, undefined names an error."""
    env = Environment(
        loader=PackageLoader("bot.site", "templates"),
        autoescape=select_autoescape(["html", "svg", "xml"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.globals.update(
        model_page=model_page,
        lab_page=lab_page,
        path_slug=path_slug,
        kind_words=KIND_WORDS,
        level_labels=LEVEL_LABELS,
        level_words={level.value: level.label for level in Level},
        level_colours=LEVEL_COLOURS,
    )
    return env


@dataclass(frozen=True)
class LabRow:
    """A lab in the home page's list."""

    slug: str
    name: str
    models: int
    overdue: int
    open: int
    part_of: tuple[str, str] | None = None  # (slug, name) of the lab it is part of, when that lab has a page
    parts: tuple[tuple[str, str], ...] = ()  # the labs part of it that have a page, by name


@dataclass(frozen=True)
class Bar:
    """One rectangle of the release-year chart."""

    x: float
    y: float
    width: float
    height: float
    colour: str
    title: str


@dataclass(frozen=True)
class Chart:
    """The release-year chart as rectangles, year labels and the window line (drawn as inline SVG)."""

    width: int
    height: int
    bars: tuple[Bar, ...]
    years: tuple[tuple[float, int], ...]
    window_x: float | None
    cutoff_year: int
    summary: str
    table: tuple[tuple[int, dict[str, int]], ...]


def release_chart(by_year_level: dict[int, dict[str, int]], *, window_years: int, on: Any) -> Chart:
    """Models by release year stacked by level, with the sunset window line (pure geometry)."""
    # Every year from the first to the last, empty ones too, so the x axis (and the window line) is linear.
    years = list(range(min(by_year_level), max(by_year_level) + 1)) if by_year_level else []
    top, plot_height, step = 20.0, 160.0, 18.0
    width = int(40 + step * max(len(years), 1))
    highest = max((sum(counts.values()) for counts in by_year_level.values()), default=1)
    bars: list[Bar] = []
    labels: list[tuple[float, int]] = []
    for index, year in enumerate(years):
        x, y = 30 + index * step, top + plot_height
        counts = by_year_level.get(year, {})
        for level in sorted(counts):
            count = counts[level]
            height = plot_height * count / highest
            y -= height
            title = f"{year}: {count} {LEVEL_LABELS.get(level, level)}"
            bars.append(Bar(x, round(y, 1), step - 3, round(height, 1), LEVEL_COLOURS.get(level, "#777"), title))
        if year % 5 == 0 or index == 0 or index == len(years) - 1:
            labels.append((x + (step - 3) / 2, year))
    cutoff = window_cutoff(on, window_years)
    window_x = None
    if years and years[0] <= cutoff <= years[-1] + 1:
        window_x = round(30 + (cutoff - years[0]) * step, 1)
    total = sum(sum(counts.values()) for counts in by_year_level.values())
    summary = (
        f"{total} models by year of first release, {years[0]}–{years[-1]}, coloured by level; models released "
        f"before {int(cutoff)} are past a {window_years}-year window."
        if years
        else "No models with a known release year."
    )
    table = tuple((year, by_year_level[year]) for year in years if year in by_year_level)
    return Chart(width, int(top + plot_height + 30), tuple(bars), tuple(labels), window_x, int(cutoff), summary, table)


@dataclass
class RenderCache:
    """Files of the previous render per model and per lab, keyed by what they were made from.

    Held by a long-running builder (`sunset run`): a model whose record and JSON object are unchanged keeps its
    files, and a lab whose models are all unchanged keeps its page, feed and calendar; the rest is rendered.
    """

    models: dict[str, tuple[str, dict[str, bytes]]] = field(default_factory=dict)
    labs: dict[str, tuple[str, dict[str, bytes]]] = field(default_factory=dict)
    whole: dict[str, tuple[str, dict[str, bytes]]] = field(default_factory=dict)
    reused: set[str] = field(default_factory=set)

    def recall(
        self, group: dict[str, tuple[str, dict[str, bytes]]], key: str, fingerprint: str
    ) -> dict[str, bytes] | None:
        """The files rendered last time for `key` if they were made from the same inputs."""
        found = group.get(key)
        if found is None or found[0] != fingerprint:
            return None
        self.reused.update(found[1])
        return found[1]


def model_fingerprint(board: Board, assessment: Assessment, base_url: str) -> str:
    """What a model's files are made from: its record (history, base), its JSON object, its evidence, the URL."""
    slug = assessment.record.slug
    result = json.dumps(board.results[slug], sort_keys=True, default=str)
    return f"{base_url}\n{assessment.record!r}\n{result}\n{_base_name(board, assessment)}"


def _root(path: str) -> str:
    return "../" * path.count("/")


def _json(data: Any) -> bytes:
    return (json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n").encode()


def render_board(board: Board, *, base_url: str = "", cache: RenderCache | None = None) -> dict[str, bytes]:
    """Every file of the board: pages, API, feeds, calendars, badges, sitemap, robots.txt (pure but for `cache`)."""
    env = environment()
    cache = cache if cache is not None else RenderCache()
    cache.reused = set()
    files: dict[str, bytes] = {}
    policy, on = board.policy, board.on
    assessments = list(board.assessments.values())
    by_lab: dict[str, list[Assessment]] = defaultdict(list)
    for assessment in assessments:
        by_lab[assessment.record.lab].append(assessment)
    lab_slugs = sorted(by_lab, key=lambda slug: board.lab_name(slug).casefold())
    events_by_model = {a.record.slug: model_events(a, board.lab_name(a.record.lab)) for a in assessments}
    all_events = newest_first(event for found in events_by_model.values() for event in found)
    base = {
        "on": on,
        "policy": policy,
        "base_url": base_url,
        "status_words": STATUS_WORDS,
        "lab_names": board.catalogue.lab_names,
    }

    def page(path: str, template: str, *, into: dict[str, bytes] | None = None, **context: Any) -> None:
        root = _root(path)
        canonical = f"{base_url}{path.removesuffix('index.html')}" if base_url else None
        html = env.get_template(template).render(**base, **context, root=root, path=path, canonical=canonical)
        (files if into is None else into)[path] = html.encode()

    stats = stats_of(assessments, policy, on)
    overdue = overdue_of(assessments)
    upcoming = upcoming_of(assessments, on, days=365)
    required = policy.profile.required_level.rank
    opened = sorted(
        (
            a
            for a in assessments
            if a.level.rank >= required
            and a.weights_released_on
            and a.weights_released_on > on - timedelta(RECENT_DAYS)
        ),
        key=lambda a: (-(a.weights_released_on or on).toordinal(), a.record.name.casefold()),
    )
    lab_rows = [
        LabRow(
            slug=slug,
            name=board.lab_name(slug),
            models=len(by_lab[slug]),
            overdue=sum(a.verdict.status is Status.OVERDUE for a in by_lab[slug]),
            open=sum(a.verdict.status is Status.OPEN for a in by_lab[slug]),
            part_of=(parent, board.lab_name(parent)) if (parent := board.parents.get(slug)) in by_lab else None,
            parts=tuple((child, board.lab_name(child)) for child in lab_slugs if board.parents.get(child) == slug),
        )
        for slug in lab_slugs
    ]
    page(
        "index.html",
        "index.html",
        stats=stats,
        overdue=overdue[:HOME_LIMIT],
        overdue_total=len(overdue),
        upcoming=upcoming[:HOME_LIMIT],
        upcoming_total=len(upcoming),
        opened=opened[:HOME_LIMIT],
        opened_total=len(opened),
        chart=release_chart(stats.by_year_level, window_years=policy.window_years, on=on),
        labs=lab_rows,
        recent_events=all_events[:10],
        lab_name=board.lab_name,
    )
    page("about/index.html", "about.html", schemas=SCHEMAS, levels=list(Level), attribution=epoch.ATTRIBUTION)
    fingerprints = {slug: model_fingerprint(board, a, base_url) for slug, a in board.assessments.items()}
    for gone in set(cache.models) - set(fingerprints):  # merged, rejected or removed since the last build
        del cache.models[gone]
    for gone in set(cache.labs) - set(by_lab):
        del cache.labs[gone]
    for slug, assessment in board.assessments.items():
        remembered = cache.recall(cache.models, slug, fingerprints[slug])
        if remembered is not None:
            files.update(remembered)
            continue
        made: dict[str, bytes] = {}
        record = assessment.record
        timeline = [
            {"on": change.on, "kind": change.kind, "level": level_as_of(record, change.on), "change": change}
            for change in record.changes
            if change.on <= on
        ]
        evidence = board.evidence.get(slug, [])
        facts: dict[str, set[str]] = defaultdict(set)
        for item in evidence:
            facts[item.fact].add(item.value)
        disputed = [item for item in evidence if len(facts[item.fact]) > 1 or item.rank == 0]
        page(
            model_page(slug),
            "model.html",
            into=made,
            a=assessment,
            r=board.results[slug],
            timeline=timeline,
            initial_level=level_as_of(record, record.first_release.latest) if record.first_release else None,
            evidence=evidence,
            disputed=disputed,
            events=events_by_model[slug],
            base_name=_base_name(board, assessment),
        )
        made[f"api/v1/models/{path_slug(slug)}.json"] = _json(board.results[slug])
        made[f"badges/{path_slug(slug)}.svg"] = (
            env.get_template("badge.svg").render(badge=badge_for(assessment), name=record.name).encode()
        )
        cache.models[slug] = (fingerprints[slug], made)
        files.update(made)
    labs_json = []
    for row in lab_rows:
        slug = row.slug
        mine = by_lab[slug]
        late = overdue_of(mine)
        labs_json.append(_lab_dict(row, mine, late))
        lab_print = f"{row}\n" + "\n".join(fingerprints[a.record.slug] for a in mine)
        remembered = cache.recall(cache.labs, slug, lab_print)
        if remembered is not None:
            files.update(remembered)
            continue
        made = {}
        late_slugs = {a.record.slug for a in late}  # overdue first, then the rest by level, most notable first
        rest = sorted(
            (a for a in mine if a.record.slug not in late_slugs),
            key=lambda a: (-a.level.rank, notable_first(a)),
        )
        ordered = [("overdue", a) for a in late] + [
            (level.value, a) for level in reversed(Level) for a in rest if a.level is level
        ]
        chunks = [ordered[start : start + LAB_PAGE_MODELS] for start in range(0, len(ordered), LAB_PAGE_MODELS)]
        paths = [lab_page(slug, number) for number in range(1, len(chunks) + 1)]
        for number, chunk in enumerate(chunks, start=1):
            sections = [(key, [a for _, a in group]) for key, group in itertools.groupby(chunk, key=lambda x: x[0])]
            page(
                paths[number - 1],
                "lab.html",
                into=made,
                lab=row,
                sections=sections,
                level_counts=Counter(a.level.value for a in mine),
                number=number,
                pages=paths,
            )
        lab_events = newest_first(event for a in mine for event in events_by_model[a.record.slug])
        root = base_url or "../../"
        made[f"feeds/labs/{path_slug(slug)}.atom"] = atom_feed(
            lab_events[:FEED_LIMIT],
            feed_id=f"tag:sunset-clause.github.io,2026:feed/labs/{slug}",
            title=f"Sunset Clause: {row.name}",
            self_href=f"{root}feeds/labs/{path_slug(slug)}.atom",
            home_href=f"{root}{lab_page(slug)}",
            root=root,
        )
        made[f"calendar/labs/{path_slug(slug)}.ics"] = sunset_calendar(
            mine, name=f"Sunsets: {row.name}", root=root, lab_names=board.catalogue.lab_names
        )
        cache.labs[slug] = (lab_print, made)
        files.update(made)
    root = base_url or "../"
    files["feeds/events.atom"] = atom_feed(
        all_events[:FEED_LIMIT],
        feed_id="tag:sunset-clause.github.io,2026:feed/events",
        title="Sunset Clause: every event",
        self_href=f"{root}feeds/events.atom",
        home_href=f"{root}index.html",
        root=root,
    )
    # The whole-record calendar is the slowest file to serialise; it changes only when a sunset or its words do.
    calendar_print = f"{root}\n" + "\n".join(
        f"{a.record.slug} {a.record.name} {board.lab_name(a.record.lab)} {a.verdict} {a.on} {a.policy}"
        for a in assessments
    )
    calendar = cache.recall(cache.whole, "calendar", calendar_print)
    if calendar is None:
        calendar = {
            "calendar/sunsets.ics": sunset_calendar(
                assessments, name="Sunset Clause: sunsets", root=root, lab_names=board.catalogue.lab_names
            )
        }
        cache.whole["calendar"] = (calendar_print, calendar)
    files.update(calendar)
    ranked = sorted(assessments, key=notable_first)
    files["api/v1/models.json"] = _json([_without_extras(board.results[a.record.slug]) for a in ranked])
    files["api/v1/labs.json"] = _json(labs_json)
    files["api/v1/events.json"] = _json([_event_dict(event) for event in all_events])
    for name in SCHEMAS:
        files[f"api/v1/schema/{name}.schema.json"] = _resource(f"schemas/{name}.schema.json")
    files["assets/style.css"] = _resource("static/style.css")
    files["assets/search.js"] = _resource("static/search.js")
    files["assets/search-index.js"] = search_index(board)
    files["sitemap.xml"] = sitemap([path for path in files if path.endswith(".html")], base_url)
    robots = "User-agent: *\nAllow: /\n" + (f"Sitemap: {base_url}sitemap.xml\n" if base_url else "")
    files["robots.txt"] = robots.encode()
    return files


def _lab_dict(row: LabRow, mine: list[Assessment], late: list[Assessment]) -> dict[str, Any]:
    return {
        "slug": row.slug,
        "name": row.name,
        "models": row.models,
        "by_level": dict(sorted(Counter(a.level.value for a in mine).items())),
        "by_status": dict(sorted(Counter(a.verdict.status.value for a in mine).items())),
        "overdue": [a.record.slug for a in late],
        "part_of": row.part_of[0] if row.part_of else None,
        "page": lab_page(row.slug),
        "feed": f"feeds/labs/{path_slug(row.slug)}.atom",
        "calendar": f"calendar/labs/{path_slug(row.slug)}.ics",
    }


def _base_name(board: Board, assessment: Assessment) -> str | None:
    base = assessment.record.base
    return str(board.results[base.slug]["name"]) if base and base.slug in board.results else None


def _without_extras(result: dict[str, Any]) -> dict[str, Any]:
    """The `sunset list --json` object: the one-model file's without evidence and pledges."""
    return {key: value for key, value in result.items() if key not in {"evidence", "pledges"}}


def _event_dict(event: BoardEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "kind": event.kind,
        "on": event.on.isoformat(),
        "model": event.slug,
        "name": event.name,
        "lab": event.lab,
        "text": event.text,
        "url": event.url,
    }


def _resource(name: str) -> bytes:
    return bytes(resources.files("bot.site").joinpath(name).read_bytes())


def search_index(board: Board) -> bytes:
    """The search box's data as a script (a script loads from file:// too, where fetching JSON is refused)."""
    rows = [
        [r["name"], slug, r["lab"], " ".join(r["aliases"]), r["status_text"], r["level"]]
        for slug, r in sorted(board.results.items(), key=lambda item: item[1]["name"].casefold())
    ]
    body = json.dumps(rows, ensure_ascii=False, separators=(",", ":"))
    return f"window.SUNSET_INDEX={body};\n".encode()


def sitemap(pages: list[str], base_url: str) -> bytes:
    """sitemap.xml (sitemaps.org 0.9) of every page; absolute when the board has a base URL."""
    urlset = ET.Element("urlset", xmlns="http://www.sitemaps.org/schemas/sitemap/0.9")
    for path in sorted(pages):
        location = f"{base_url}{path.removesuffix('index.html')}" if base_url else path
        ET.SubElement(ET.SubElement(urlset, "url"), "loc").text = location
    ET.indent(urlset)
    return bytes(ET.tostring(urlset, encoding="utf-8", xml_declaration=True)) + b"\n"
