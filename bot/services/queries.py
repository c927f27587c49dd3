"""Read-side services for chat surfaces: each takes a session (and a policy and date) and returns small records.

Nothing here knows Discord: the slash commands call one of these and hand the result to a pure embed
builder. Names typed by people resolve exactly as in the CLI; a miss raises `NotFoundError` with suggestions.
"""

from __future__ import annotations

import array
import bisect
import functools
import heapq
import itertools
import json
import operator
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Literal

from rapidfuzz import fuzz, process
from sqlmodel import Session

from bot.present.assessment import Card as Card  # the card's type, for the surfaces that render it
from bot.present.assessment import card_of, notable_first
from bot.present.messages import event_text
from bot.runtime.config import SunsetSettings
from bot.store import guilds, pledges
from db.models import Observation
from trackers.assess import NOTABLE_CITATIONS_SPAN, Assessment, assess, released_by
from trackers.names import normalise_name, suggest
from trackers.records import Level, PartialDate
from trackers.store import assessments as stored
from trackers.store import reads
from trackers.store.labs import LabFamily, lab_and_children
from trackers.store.models import Catalogue, load_catalogue, resolve_name
from trackers.sunset import Policy, Profile, Status, evaluate, release_cutoff

ADD_MODEL_HINT = "Not tracked yet? docs/CATALOG.md says how to add a model (one entry, with its sources)"


class NotFoundError(Exception):
    """A name typed by a person matched nothing; carries the closest suggestions."""

    def __init__(self, what: str, query: str, suggestions: Iterable[str] = ()) -> None:
        self.what, self.query, self.suggestions = what, query, tuple(suggestions)
        hint = f" Did you mean: {', '.join(self.suggestions)}?" if self.suggestions else ""
        hint += f" {ADD_MODEL_HINT}." if what == "model" else ""
        super().__init__(f"No {what} called {query!r}.{hint}")


# ── per-server policy ────────────────────────────────────────────────────────────────────────────


def guild_policy(session: Session, guild_id: int | None, defaults: SunsetSettings) -> Policy:
    """The global policy with this server's window and profile overrides applied."""
    policy = defaults.policy()
    row = guilds.guild_settings(session, guild_id=guild_id) if guild_id is not None else None
    if row is None:
        return policy
    return Policy(
        window_years=row.window_years or policy.window_years,
        profile=Profile(row.profile) if row.profile else policy.profile,
        lead_days=policy.lead_days,
    )


# ── one model ────────────────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class ModelCard:
    """One model as every surface shows it (`card.to_json()` is the `sunset status --json` object) plus its pledges."""

    card: Card
    pledges: int


def resolve_model(session: Session, name: str) -> str:
    """The slug a typed name means (as the CLI resolves it); NotFoundError with suggestions on a miss."""
    resolution = resolve_name(session, name)
    if resolution.slug is None:
        raise NotFoundError("model", name, resolution.suggestions)
    return resolution.slug


def model_card(session: Session, name: str, policy: Policy, on: date) -> ModelCard:
    """A model's status card: release, openness grid, level, sunset under `policy`, sources, pledge count."""
    slug = resolve_model(session, name)
    catalogue = load_catalogue(session, slugs={slug})
    record = catalogue.records[slug]
    card = card_of(
        assess(record, policy, on), lab_name=catalogue.lab_name(record), sources=catalogue.sources.get(slug, ())
    )
    return ModelCard(card=card, pledges=pledge_count(session, slug))


@dataclass(frozen=True)
class HistoryEntry:
    """One dated line of a model's history."""

    on: date
    text: str
    url: str | None = None


@dataclass(frozen=True)
class ModelHistory:
    """A model's dated events and sourced observations, oldest first."""

    slug: str
    name: str
    events: tuple[HistoryEntry, ...]
    observations: tuple[HistoryEntry, ...]


def model_history(session: Session, name: str) -> ModelHistory:
    """The dated events and observations recorded for a model."""
    slug = resolve_model(session, name)
    model = reads.visible_model(session, slug=slug)
    if model is None or model.id is None:
        raise NotFoundError("model", name)
    events = reads.model_events(session, model_id=model.id)
    observations = reads.model_observations(session, model_id=model.id)
    return ModelHistory(
        slug=slug,
        name=model.name,
        events=tuple(
            HistoryEntry(event.occurred_on, event_text(event.kind, json.loads(event.payload))) for event in events
        ),
        observations=tuple(HistoryEntry(obs.seen_at.date(), _observed(obs), obs.url) for obs in observations),
    )


def _observed(obs: Observation) -> str:
    """An observation as a line; its note too (a dataset's attribution, which CC-BY requires wherever shown)."""
    text = f"{obs.fact}: {obs.value} ({obs.origin}{', disputed' * (obs.rank == 0)})"
    return f"{text} — {obs.note}" if obs.note else text


# ── lists ────────────────────────────────────────────────────────────────────────────────────────
#
# Lists and counts read the models' stored assessments (trackers/store/assessments.py) with indexed SQL,
# for any policy and day. The models whose stored level does not hold on the day asked (never assessed
# yet, a dated change in between, changed since the last change scan) are assessed in memory and merged in:
# up to STALE_MAX of them looked up at once, more (a database never evaluated, a date long past, a bulk import)
# read and assessed STALE_BATCH at a time along the primary key, each batch reduced before the next is read
# (a page kept, counts summed), so memory stays bounded whatever their number.

STALE_MAX = 2_000
STALE_BATCH = 2_000


@dataclass(frozen=True)
class ListRow:
    """One model in a list: enough for one line."""

    slug: str
    name: str
    lab: str
    released: str
    level: str
    sunset: date | None
    summary: str


def _row(assessment: Assessment, lab_names: Mapping[str, str]) -> ListRow:
    record, verdict = assessment.record, assessment.verdict
    return ListRow(
        slug=record.slug,
        name=record.name,
        lab=lab_names.get(record.lab, record.lab),
        released=str(record.first_release or "unknown"),
        level=assessment.level.value,
        sunset=verdict.sunset_date,
        summary=verdict.summary,
    )


def _stored_row(row: stored.Row, policy: Policy, on: date) -> ListRow:
    release = PartialDate.parse(row.first_release) if row.first_release else None
    verdict = evaluate(Level(row.level), release, policy, on)
    return ListRow(row.slug, row.name, row.lab_name, str(release or "unknown"), row.level, verdict.sunset_date,
                   verdict.summary)  # fmt: skip


@dataclass(frozen=True)
class _Split:
    """A policy on a day as SQL bounds over the stored assessments, and the stale models assessed in memory."""

    session: Session
    policy: Policy
    cut: stored.Cut
    few: list[Assessment] | None  # the stale models when at most STALE_MAX; None: more, read in batches

    def stale(self) -> Iterator[Assessment]:
        """The stale models released by the cut's day, assessed: at once when few, else a batch at a time."""
        if self.few is not None:
            yield from self.few
            return
        on, after = self.cut.on, 0
        while ids := stored.stale_batch(self.session, cut=self.cut, after_id=after, limit=STALE_BATCH):
            after = ids[-1]
            records = stored.read_batch(self.session, ids=ids).records
            yield from (assess(record, self.policy, on) for record in records.values() if released_by(record, on))

    @functools.cached_property
    def lab_names(self) -> dict[str, str]:
        """Every lab's display name by slug (for the stale models' lines)."""
        return {lab.slug: lab.name for lab in reads.labs(self.session)}


def _split(session: Session, policy: Policy, on: date) -> _Split:
    cut = stored.cut_of(session, policy=policy, on=on)
    slugs = stored.stale(session, cut=cut, limit=STALE_MAX)
    if slugs is None:
        return _Split(session, policy, cut, None)
    records = load_catalogue(session, slugs=set(slugs), with_sources=False).records if slugs else {}
    chosen = [records[slug] for slug in slugs if slug in records]
    return _Split(session, policy, cut, [assess(record, policy, on) for record in chosen if released_by(record, on)])


def _first(items: Iterable[tuple[Any, ListRow]], limit: int | None) -> list[ListRow]:
    """The rows of the `limit` smallest keys, in key order (all when None); holds at most `limit` at a time."""
    key: Callable[[tuple[Any, ListRow]], Any] = operator.itemgetter(0)
    chosen = sorted(items, key=key) if limit is None else heapq.nsmallest(limit, items, key=key)
    return [row for _, row in chosen]


def _order(assessment: Assessment) -> tuple[int, date, str]:
    """The stored list order of an assessment: notability, then latest release day (longest overdue), then name."""
    rank = assessment.record.notability.rank if assessment.record.notability else (0, 0)
    release = assessment.record.first_release
    notable = -(rank[0] * NOTABLE_CITATIONS_SPAN + min(rank[1], NOTABLE_CITATIONS_SPAN - 1))
    return (notable, release.latest if release else date.max, assessment.record.name.casefold())


def overdue(
    session: Session,
    policy: Policy,
    on: date,
    *,
    lab: str | None = None,
    notable_only: bool = False,
    limit: int | None = None,
) -> list[ListRow]:
    """Models past their sunset and still not open, most notable first (at most `limit`); optionally one lab's (with
    the labs that are part of it), or notable ones only."""
    labs = lab_family(session, lab).slugs if lab else None  # a lab takes in the labs that are part of it
    split = _split(session, policy, on)
    found = stored.overdue_rows(session, cut=split.cut, lab_slugs=labs, notable_only=notable_only, limit=limit)
    merged = (((row.notable_order, row.release_latest or date.max, row.sort_name), _stored_row(row, policy, on))
              for row in found)  # fmt: skip
    late = (
        (_order(a), _row(a, split.lab_names))
        for a in split.stale()
        if a.verdict.status is Status.OVERDUE
        and (a.record.notability or not notable_only)
        and (labs is None or a.record.lab in labs)
    )
    return _first(itertools.chain(merged, late), limit)


def overdue_of(
    assessments: Iterable[Assessment], *, lab_slug: str | None = None, notable_only: bool = False
) -> list[Assessment]:
    """The overdue ones among assessments, most notable first (pure)."""
    rows = [
        a
        for a in assessments
        if a.verdict.status is Status.OVERDUE
        and (lab_slug is None or a.record.lab == lab_slug)
        and (a.record.notability or not notable_only)
    ]
    rows.sort(key=notable_first)
    return rows


def _sunsets(
    session: Session, split: _Split, policy: Policy, start: date, end: date, *, latest_first: bool, limit: int | None
) -> list[ListRow]:
    """Not-open models whose sunset falls in [start, end], from stored rows and stale ones, by sunset then name."""
    rows = stored.sunset_rows(
        session,
        cut=split.cut,
        released_from=release_cutoff(start, policy.window_years),
        released_before=release_cutoff(end + timedelta(days=1), policy.window_years),
        latest_first=latest_first,
        limit=limit,
    )
    sign = -1 if latest_first else 1

    def keyed(row: ListRow) -> tuple[tuple[int, str], ListRow]:
        return (sign * (row.sunset or date.max).toordinal(), row.name.casefold()), row

    listed = (keyed(_stored_row(row, policy, split.cut.on)) for row in rows)
    due = (
        keyed(_row(a, split.lab_names))
        for a in split.stale()
        if not a.verdict.meets_requirement and a.verdict.sunset_date and start <= a.verdict.sunset_date <= end
    )
    return _first(itertools.chain(listed, due), limit)


def upcoming(session: Session, policy: Policy, on: date, *, days: int, limit: int | None = None) -> list[ListRow]:
    """Models not open whose sunset falls in the next `days` days, soonest first (at most `limit`)."""
    split = _split(session, policy, on)
    return _sunsets(session, split, policy, on, on + timedelta(days=days), latest_first=False, limit=limit)


def upcoming_of(assessments: Iterable[Assessment], on: date, *, days: int) -> list[Assessment]:
    """The not-open ones whose sunset falls in the next `days` days, soonest first (pure)."""
    end = on + timedelta(days=days)
    rows = [
        a
        for a in assessments
        if not a.verdict.meets_requirement and a.verdict.sunset_date and on <= a.verdict.sunset_date <= end
    ]
    rows.sort(key=lambda a: (a.verdict.sunset_date or date.max, a.record.name.casefold()))
    return rows


def recent(session: Session, policy: Policy, on: date, *, days: int, limit: int | None = None) -> list[ListRow]:
    """Models whose sunset passed in the last `days` days while still not open, most recent first (at most `limit`)."""
    start = on - timedelta(days=days)
    split = _split(session, policy, on)
    return _sunsets(session, split, policy, start, on - timedelta(days=1), latest_first=True, limit=limit)


@dataclass(frozen=True)
class Stats:
    """Counts by status and level, and (release year, level) per model for the chart."""

    models: int
    by_status: dict[str, int]
    by_level: dict[str, int]
    by_year_level: dict[int, dict[str, int]]
    window_years: int
    profile: str
    on: date


@dataclass(frozen=True)
class _Counts:
    """Counts of released models by lab, status, level and release year: stored rows plus stale ones."""

    rows: list[tuple[str, str, str, int | None, int]]  # (lab slug, status, level, year, count)


def _counts(
    session: Session,
    policy: Policy,
    on: date,
    *,
    labs: Sequence[reads.LabRow] | None = None,
    by_lab: bool = False,
    split: _Split | None = None,
) -> _Counts:
    """Counts by (lab, status, level, release year): stored tallies plus the stale models assessed afresh. With
    `labs`, of those labs' models only; with `by_lab`, by lab and status only (the lab column is read only then)."""
    split = split or _split(session, policy, on)
    kept = {lab.slug for lab in labs} if labs is not None else None
    cut = split.cut
    rows: list[tuple[str, str, str, int | None, int]]
    if by_lab:
        slugs = {row.id: row.slug for row in reads.labs(session)}
        tallied = stored.lab_tallies(session, cut=cut)
        rows = [(slugs.get(lab_id, ""), status, "", None, n) for lab_id, status, n in tallied]
    else:
        rows = [
            ("", cut.status_of(t.level, t.release_latest).value, t.level,
             t.release_latest.year if t.release_latest else None, t.count)
            for t in stored.tallies(session, cut=cut, lab_ids=[lab.id for lab in labs] if labs is not None else None)
        ]  # fmt: skip
    stale = Counter(
        (a.record.lab, a.verdict.status.value, a.level.value, a.record.first_release.year if a.record.first_release
         else None)
        for a in split.stale()
        if kept is None or a.record.lab in kept
    )  # fmt: skip
    rows += [(*key, n) for key, n in stale.items()]
    return _Counts(rows)


def stats(session: Session, policy: Policy, on: date) -> Stats:
    """Counts of models by status and level, plus the release-year chart data."""
    counts = _counts(session, policy, on)
    by_status: Counter[str] = Counter()
    by_level: Counter[str] = Counter()
    by_year: dict[int, Counter[str]] = {}
    for _, status, level, year, n in counts.rows:
        by_status[status] += n
        by_level[level] += n
        if year is not None:
            by_year.setdefault(year, Counter())[level] += n
    return Stats(
        models=sum(by_status.values()),
        by_status=dict(by_status.most_common()),
        by_level=dict(sorted(by_level.items())),
        by_year_level={year: dict(sorted(levels.items())) for year, levels in sorted(by_year.items())},
        window_years=policy.window_years,
        profile=policy.profile.value,
        on=on,
    )


def stats_of(assessments: Iterable[Assessment], policy: Policy, on: date) -> Stats:
    """Stats from assessments (pure)."""
    items = list(assessments)
    by_year: dict[int, Counter[str]] = {}
    for a in items:
        if a.record.first_release is not None:
            by_year.setdefault(a.record.first_release.year, Counter())[a.level.value] += 1
    return Stats(
        models=len(items),
        by_status=dict(Counter(a.verdict.status.value for a in items).most_common()),
        by_level=dict(sorted(Counter(a.level.value for a in items).items())),
        by_year_level={year: dict(sorted(counts.items())) for year, counts in sorted(by_year.items())},
        window_years=policy.window_years,
        profile=policy.profile.value,
        on=on,
    )


ListSort = Literal["notable", "sunset", "name"]


def _by_sunset(assessment: Assessment) -> tuple[date, str]:
    return (assessment.verdict.sunset_date or date.max, assessment.record.name.casefold())


LIST_SORTS: dict[ListSort, Callable[[Assessment], Any]] = {
    "notable": notable_first,
    "sunset": _by_sunset,
    "name": lambda assessment: assessment.record.name.casefold(),
}


def model_list(
    session: Session,
    policy: Policy,
    on: date,
    *,
    status: Status | None = None,
    labs: Collection[str] = (),
    notable_only: bool = False,
    level: Level | None = None,
    sort: ListSort = "notable",
    limit: int | None = None,
) -> list[Card]:
    """Released models as cards, filtered (status, lab slugs, notable, level) and sorted as `sunset list` shows them.

    The models are read and assessed STALE_BATCH at a time along the primary key and only the first `limit`
    (by the sort, then slug) are kept between batches, so memory holds a batch and the page, whatever the
    catalogue's size; the cards' sources are read for the page alone. Without a limit every match is the
    output, and is held."""
    order = LIST_SORTS[sort]

    def key(assessment: Assessment) -> tuple[Any, str]:
        return order(assessment), assessment.record.slug

    def wanted(assessment: Assessment) -> bool:
        return (status is None or assessment.verdict.status is status) and (level is None or assessment.level is level)

    chosen: list[Assessment] = []
    after = 0
    while ids := stored.next_batch(session, after_id=after, limit=STALE_BATCH):
        after = ids[-1]
        records = stored.read_batch(session, ids=ids).records
        matches = (
            assessment
            for record in records.values()
            if released_by(record, on)
            and not (labs and record.lab not in labs)
            and not (notable_only and record.notability is None)
            and wanted(assessment := assess(record, policy, on))
        )
        chosen = [*chosen, *matches] if limit is None else heapq.nsmallest(limit, [*chosen, *matches], key=key)
    chosen.sort(key=key)
    catalogue = _catalogue_of(session, [assessment.record.slug for assessment in chosen])
    return [
        card_of(a, lab_name=catalogue.lab_name(a.record), sources=catalogue.sources.get(a.record.slug, ()))
        for a in chosen
    ]


def _catalogue_of(session: Session, slugs: list[str]) -> Catalogue:
    """The lab names and sources of these models, read STALE_BATCH models at a time (never one huge IN list)."""
    parts = [
        load_catalogue(session, slugs=set(slugs[start : start + STALE_BATCH]))
        for start in range(0, len(slugs), STALE_BATCH)
    ]
    return Catalogue(
        records={},
        lab_names={slug: name for part in parts for slug, name in part.lab_names.items()},
        sources={slug: urls for part in parts for slug, urls in part.sources.items()},
    )


# ── labs ─────────────────────────────────────────────────────────────────────────────────────────


def resolve_lab(session: Session, text: str) -> str:
    """A lab's slug from its slug, name or official Hub organisation (ignoring case and punctuation).

    A miss raises NotFoundError suggesting labs whose name holds the text as a word ('fair' → Meta AI
    (FAIR)) and then labs of a close name.
    """
    labs = [(lab.slug, lab.name, lab.hf_orgs) for lab in reads.labs(session)]
    key = normalise_name(text)
    for slug, name, hf_orgs in labs:
        if key in {normalise_name(slug), normalise_name(name), *(normalise_name(org) for org in hf_orgs.split(","))}:
            return slug
    by_word = [slug for slug, name, _ in labs if key and key in map(normalise_name, name.split())]
    close = suggest(text, [(slug, name) for slug, name, _ in labs] + [(slug, slug) for slug, _, _ in labs])
    raise NotFoundError("lab", text, dict.fromkeys(by_word + close).keys())


def lab_family(session: Session, text: str) -> LabFamily:
    """The lab a user named (slug, name or Hub organisation) with the labs that are part of it."""
    return lab_and_children(session, slug=resolve_lab(session, text))


def labs_also_named(session: Session, text: str, slug: str) -> list[tuple[str, str]]:
    """Other labs whose name contains the text ('google' → Google DeepMind): separate labs a user may also mean."""
    key = normalise_name(text)
    rows = [(lab.slug, lab.name) for lab in reads.labs(session)]
    return [(other, name) for other, name in rows if other != slug and key and key in normalise_name(name)]


@dataclass(frozen=True)
class LabSummary:
    """One line of `sunset labs`: a lab, its models and how many are overdue."""

    slug: str
    name: str
    url: str | None
    hf_orgs: tuple[str, ...]
    models: int
    overdue: int
    open: int


def lab_summaries(session: Session, policy: Policy, on: date) -> list[LabSummary]:
    """Every lab with its number of models (released by `on`), overdue and open, by name."""
    models: Counter[str] = Counter()
    overdue: Counter[str] = Counter()
    opened: Counter[str] = Counter()
    counts = _counts(session, policy, on, by_lab=True)
    for lab_slug, status, _, _, n in counts.rows:
        models[lab_slug] += n
        overdue[lab_slug] += n * (status == Status.OVERDUE.value)
        opened[lab_slug] += n * (status == Status.OPEN.value)
    summaries = []
    for lab in reads.labs(session):
        orgs = tuple(filter(None, lab.hf_orgs.split(",")))
        summaries.append(
            LabSummary(lab.slug, lab.name, lab.url, orgs, models[lab.slug], overdue[lab.slug], opened[lab.slug])
        )
    return summaries


@dataclass(frozen=True)
class Scorecard:
    """A lab's record against the sunset clause."""

    slug: str
    name: str
    models: int
    by_level: dict[str, int]
    overdue: int
    longest_overdue: tuple[str, str] | None
    recently_opened: tuple[tuple[str, date, str], ...]
    policy: Policy = field(default_factory=Policy)
    children: tuple[str, ...] = ()  # the names of the labs below it, whose models it counts too


def lab_scorecard(session: Session, name: str, policy: Policy, on: date, *, recent_days: int = 730) -> Scorecard:
    """Models by level, overdue count, the longest overdue, and models opened recently (L2+ in the last two
    years), of the lab and the labs below it (Google with Google DeepMind), as `--lab` filters."""
    family = lab_family(session, name)
    slug, slugs = family.slug, family.slugs
    labs = [row for row in reads.labs(session) if row.slug in slugs]
    since = on - timedelta(days=recent_days)
    split = _split(session, policy, on)
    counts = _counts(session, policy, on, labs=labs, split=split)
    by_level: Counter[str] = Counter()
    overdue_count = 0
    for _, status, level, _, n in counts.rows:
        by_level[level] += n
        overdue_count += n * (status == Status.OVERDUE.value)
    found = stored.overdue_rows(session, cut=split.cut, lab_slugs=slugs, notable_only=False, limit=1, longest=True)
    longest = _stored_row(found[0], policy, on) if found else None
    opened_slugs = set(stored.opened_candidates(session, cut=split.cut, lab_slugs=slugs, since=since))
    fresh = load_catalogue(session, slugs=opened_slugs, with_sources=False).records if opened_slugs else {}
    opened = []
    for a in split.stale():  # a batch at a time: only the longest overdue and the recently opened are kept
        if a.record.lab not in slugs or a.record.slug in opened_slugs:
            continue
        if a.verdict.status is Status.OVERDUE:
            row = _row(a, split.lab_names)
            longest = row if longest is None or _by_sunset_row(row) < _by_sunset_row(longest) else longest
        if entry := _opened(a, since):
            opened.append(entry)
    opened += [entry for s in opened_slugs if s in fresh and (entry := _opened(assess(fresh[s], policy, on), since))]
    opened.sort(key=lambda item: (-item[1].toordinal(), item[0].casefold()))  # latest first, ties by name
    return Scorecard(
        slug=slug,
        name=family.name,
        models=sum(by_level.values()),
        by_level=dict(sorted(by_level.items())),
        overdue=overdue_count,
        longest_overdue=(longest.name, longest.summary) if longest else None,
        recently_opened=tuple(opened[:10]),
        policy=policy,
        children=tuple(name for _, name in family.children),
    )


def _by_sunset_row(row: ListRow) -> tuple[date, str]:
    return (row.sunset or date.max, row.name.casefold())


def _opened(assessment: Assessment, since: date) -> tuple[str, date, str] | None:
    """(name, day its weights came out, level) of a model that meets the requirement and opened since `since`."""
    weights_on = assessment.weights_released_on
    meets = assessment.level.rank >= assessment.policy.profile.required_level.rank
    if not meets or not weights_on or not since <= weights_on <= assessment.on:
        return None
    return (assessment.record.name, weights_on, assessment.level.value)


def lab_choices(session: Session) -> list[tuple[str, str]]:
    """(slug, name) of every lab, for autocomplete."""
    return [(lab.slug, lab.name) for lab in reads.labs(session)]


# ── pledges ──────────────────────────────────────────────────────────────────────────────────────


def pledge_count(session: Session, slug: str) -> int:
    """How many people pledged for a model, across all servers."""
    return pledges.pledge_count(session, slug=slug)


def pledge_counts(session: Session) -> dict[str, int]:
    """How many people pledged for each model (slug → count; models without pledges left out), in one query."""
    return pledges.pledge_counts(session)


def top_pledges(session: Session, limit: int = 10) -> list[tuple[str, int]]:
    """The most-pledged models (name, count) across all servers."""
    return pledges.top_pledges(session, limit=limit)


# ── tracker health ───────────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class SourceHealth:
    """One source's health, as `sunset sources` shows it."""

    name: str
    kind: str
    status: str
    failures: int
    last_ok: str | None
    last_error: str | None


@dataclass(frozen=True)
class TrackerStatus:
    """Source health, this server's paused subscriptions, and recent operator events."""

    sources: tuple[SourceHealth, ...]
    paused_subscriptions: tuple[tuple[int, str, str], ...]
    operator_events: tuple[HistoryEntry, ...]


def tracker_status(session: Session, guild_id: int | None, *, events: int = 10) -> TrackerStatus:
    """Health of every source (problems first), paused subscriptions of this server, recent source pauses."""
    sources = reads.sources(session)
    order = {"paused": 0, "error": 1, "disabled": 2, "never": 3, "not_modified": 4, "ok": 5}
    health = sorted(
        (
            SourceHealth(
                name=s.name,
                kind=s.kind,
                status=s.status,
                failures=s.consecutive_failures,
                last_ok=s.last_ok_at.strftime("%Y-%m-%d %H:%M UTC") if s.last_ok_at else None,
                last_error=s.last_error,
            )
            for s in sources
        ),
        key=lambda h: (order.get(h.status, 9), h.name),
    )
    paused = guilds.paused_subscriptions(session, guild_id=guild_id)
    operator = reads.recent_events(session, kind="source_paused", limit=events)
    return TrackerStatus(
        sources=tuple(health),
        paused_subscriptions=tuple((s.id or 0, s.target, s.pause_reason or "") for s in paused),
        operator_events=tuple(HistoryEntry(e.occurred_on, event_text(e.kind, json.loads(e.payload))) for e in operator),
    )


# ── autocomplete ─────────────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class Choice:
    """One autocomplete suggestion: what to show and the value to submit."""

    name: str
    value: str


class NameIndex:
    """Every model name and alias, normalised and sorted, for autocomplete without touching the database.

    A lookup tries, in order: keys starting with the query (bisection), keys containing it (one C-level
    scan of all keys joined), then typo-tolerant matches. Fuzzy matching every key costs about a second
    at 100,000 models, so above `FULL_FUZZY_MAX` keys it only compares the start of keys that begin with
    the query's first letter (or its first two letters swapped) — where typing mistakes happen.

    Compact, for a million models: the keys are one ASCII buffer (normalised keys are ASCII) with an array of
    offsets and an array of owners (model numbers); each model's slug and name are UTF-8 in one buffer, found
    by one array of starts — no object per name or alias, and no second copy of a buffer while it is built.
    Built without its texts (`load_name_index(texts=False)`, what the bot keeps) it holds only the keys and
    model ids, and `search` reads the names of the few models it answers by id (`search_names`).
    """

    FULL_FUZZY_MAX = 20_000
    FIRST_NAMES = 100  # the names an empty query shows, in order
    _SEPARATOR = b"\n"
    _END = b"\0"  # ends a model's slug and its name (text PostgreSQL stores holds no NUL)

    def __init__(self, entries: Iterable[tuple[str, str, str]]) -> None:
        """`entries` are (slug, display name, alias text) triples."""
        numbers: dict[str, int] = {}
        rows = sorted({(normalise_name(alias), slug, name) for slug, name, alias in entries if normalise_name(alias)})
        self._build((key, numbers.setdefault(slug, len(numbers)), slug, name) for key, slug, name in rows)

    @classmethod
    def from_sorted(cls, rows: Iterable[tuple[str, int, str, str]], *, texts: bool = True) -> NameIndex:
        """From (key, model number, slug, name) rows already sorted by key (as the database streams them); without
        `texts`, the numbers must be model ids (`search` is then given the names of those it answers)."""
        index = cls.__new__(cls)
        index._build(rows, texts=texts)
        return index

    def _build(self, rows: Iterable[tuple[str, int, str, str]], *, texts: bool = True) -> None:
        self._joined = bytearray()  # every key followed by the separator, in key order
        self._offsets = array.array("i")
        self._owners = array.array("i")
        self._texts = bytearray()  # each model's slug and name, each ended by _END, UTF-8
        self._starts = array.array("i")  # by model number: where its slug starts (+1; 0 = not seen)
        self._with_texts = texts
        seen = array.array("b")  # without texts, by model number: 1 once seen
        self._count = 0
        first: list[tuple[str, str, str]] = []
        last = ("", -1)
        for key, number, slug, name in rows:
            if (key, number) == last:
                continue
            last = (key, number)
            self._offsets.append(len(self._joined))
            self._owners.append(number)
            self._joined += key.encode("ascii", "replace")
            self._joined += self._SEPARATOR
            column = self._starts if texts else seen
            if number >= len(column):
                column.frombytes(bytes(column.itemsize * (number + 1 - len(column))))
            if not column[number]:
                self._count += 1
                if texts:
                    self._starts[number] = len(self._texts) + 1
                    self._texts += slug.encode()
                    self._texts += self._END
                    self._texts += name.encode()
                    self._texts += self._END
                else:
                    seen[number] = 1
                first.append((name.casefold(), name, slug))
                if len(first) >= 2 * self.FIRST_NAMES:
                    first = sorted(first)[: self.FIRST_NAMES]
        self._first = [(name, slug) for _, name, slug in sorted(first)[: self.FIRST_NAMES]]

    def _key(self, index: int) -> bytes:
        start = self._offsets[index]
        return bytes(self._joined[start : self._joined.index(self._SEPARATOR, start)])

    def _model(self, number: int) -> tuple[str, str]:
        start = self._starts[number] - 1
        split = self._texts.index(self._END, start)
        return self._texts[start:split].decode(), self._texts[
            split + 1 : self._texts.index(self._END, split + 1)
        ].decode()

    def __len__(self) -> int:
        return self._count

    def search(
        self, query: str, limit: int = 25, *, names: Callable[[list[int]], Mapping[int, tuple[str, str]]] | None = None
    ) -> list[Choice]:
        """Up to `limit` models for `query`: names/aliases starting with it, containing it, then near misses.

        An index without texts needs `names`: (slug, name) by model id for the models found."""
        key = normalise_name(query).encode("ascii")
        if not key:
            return [Choice(name, slug) for name, slug in self._first[:limit]]
        found: dict[int, None] = {}  # model numbers, in the order found
        for index in itertools.chain(self._prefixed(key), self._containing(key)):
            found.setdefault(self._owners[index])
            if len(found) >= limit:
                break
        else:
            for index in self._near(key.decode(), limit * 3):
                found.setdefault(self._owners[index])
                if len(found) >= limit:
                    break
        if self._with_texts:
            return [Choice(name, slug) for slug, name in map(self._model, found)]
        if names is None:
            raise ValueError("an index built without texts needs `names` to answer")
        texts = names(list(found))
        return [Choice(texts[number][1], texts[number][0]) for number in found if number in texts]

    def _first_at_or_after(self, key: bytes) -> int:
        low, high = 0, len(self._offsets)
        while low < high:  # bisection over the joined keys, without a list of them
            middle = (low + high) // 2
            if self._key(middle) < key:
                low = middle + 1
            else:
                high = middle
        return low

    def _prefixed(self, key: bytes) -> Iterator[int]:
        index = self._first_at_or_after(key)
        while index < len(self._offsets) and self._joined.startswith(key, self._offsets[index]):
            yield index
            index += 1

    def _containing(self, key: bytes) -> Iterator[int]:
        position = self._joined.find(key)
        while position != -1:
            yield bisect.bisect_right(self._offsets, position) - 1
            position = self._joined.find(key, position + 1)

    def _near(self, key: str, limit: int) -> list[int]:
        if len(self._offsets) <= self.FULL_FUZZY_MAX:
            keys = self._joined.decode("ascii").split(self._SEPARATOR.decode())[:-1]
            matches = process.extract(key, keys, scorer=fuzz.WRatio, processor=None, limit=limit, score_cutoff=70)
            return [index for _, _, index in matches]
        starts = {key[0]} | ({key[1]} if len(key) > 1 else set())
        candidates = [index for start in starts for index in self._prefixed(start.encode())]
        width = len(key) + 1
        heads = [self._joined[self._offsets[index] : self._offsets[index] + width].decode().split("\n")[0]
                 for index in candidates]  # fmt: skip
        matches = process.extract(key, heads, scorer=fuzz.ratio, processor=None, limit=limit, score_cutoff=70)
        return [candidates[position] for _, _, position in matches]


def load_name_index(session: Session, *, texts: bool = True) -> NameIndex:
    """Build the autocomplete index from every visible model's names and aliases (`texts`: with the names)."""
    return NameIndex.from_sorted(reads.name_keys(session), texts=texts)


def search_names(session: Session, index: NameIndex, query: str, limit: int) -> list[Choice]:
    """Autocomplete from an index (with or without its texts): the names of the models found read by id."""
    return index.search(query, limit, names=lambda ids: reads.model_names(session, ids=ids))
