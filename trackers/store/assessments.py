"""The models' stored assessments: written by every evaluation, read by lists and counts under any policy.

Each row keeps its level (and the days between which it holds), its status and sunset under the default
policy, and the bounds of its release date. Any policy's status on any day is then a SQL expression over
those (`Cut`): "sunset before D" is "latest release day before release_cutoff(D, window)". Rows whose
stored level does not hold on the day asked (never assessed, or a dated change in between) are `stale`:
callers assess those few in memory.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import compress
from operator import ne
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, literal, or_
from sqlalchemy import select as sql_select
from sqlmodel import Session, SQLModel, col, select

from db.models import Lab, Model
from trackers.assess import Standing
from trackers.records import Level, ModelRecord
from trackers.store.events import change_scan_mark
from trackers.store.models import visible
from trackers.store.rows import VISIBLE_STATES
from trackers.store.rows import record_of as as_record
from trackers.sunset import Policy, Status, release_cutoff

LEVELS_BELOW = {required: tuple(level.value for level in Level if level.rank < required.rank) for required in Level}


def _visible_by_id() -> ColumnElement[bool]:
    """visible(), on a value no index offers: a batch then reads along the primary key from where the last one
    stopped, instead of walking every visible model's entry of a state index each time (quadratic at 1M)."""
    return func.coalesce(col(Model.state), col(Model.state)).in_(VISIBLE_STATES)


EVALUATION_CACHE_KIB = 65_536  # SQLite's page cache while an evaluation runs (its default is 2 MiB)
DEFAULT_CACHE_KIB = 2_000


def page_cache(session: Session, *, kib: int) -> None:
    """On SQLite, this connection's page cache: an evaluation's index updates at a million models run a third
    faster with 64 MiB than with the default 2 MiB (set back afterwards). Nothing on PostgreSQL."""
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql(f"PRAGMA cache_size = -{int(kib)}")


def next_batch(session: Session, *, after_id: int, limit: int) -> list[int]:
    """Ids of the next `limit` visible models after `after_id`, in id order (how evaluations stream)."""
    statement = sql_select(col(Model.id)).where(col(Model.id) > after_id, _visible_by_id()).order_by(col(Model.id))
    found = session.connection().execute(statement.limit(limit)).scalars()  # Core: no ORM work per row
    return [model_id for model_id in found if model_id is not None]


STANDING_COLUMNS = ("level", "level_since", "level_until", "status", "sunset_on", "release_earliest",
                    "release_latest", "notable_order", "sort_name")  # fmt: skip
_RECORD_COLUMNS = ("id", "slug", "name", "base_id", "first_release", "verified_on", "verified_sources",
                   "notability", "citations")  # fmt: skip
_STANDING = slice(len(_RECORD_COLUMNS), len(_RECORD_COLUMNS) + len(STANDING_COLUMNS))  # where a read row has them


@dataclass(frozen=True)
class Batch:
    """Models read for an evaluation: their records (bases included) and their stored assessments."""

    records: dict[int, ModelRecord]
    stored: dict[int, tuple[Any, ...]]  # model id → its STANDING_COLUMNS as stored


def read_batch(session: Session, *, ids: Sequence[int]) -> Batch:
    """Visible models (by id) as records, their bases included, with what their rows store of their assessment:
    read as plain rows by id range, no ORM objects (how evaluations read models in bulk)."""
    model, change, alias = (SQLModel.metadata.tables[name] for name in ("model", "opennesschange", "alias"))
    columns = [model.c[name] for name in _RECORD_COLUMNS + STANDING_COLUMNS]
    statement = sql_select(*columns, col(Lab.slug).label("lab_slug")).join(Lab, col(Lab.id) == model.c.lab_id)
    statement = statement.where(_visible_by_id())
    execute = session.connection().execute  # Core rows: the ORM's per-row loading would cost a third of the read
    rows: dict[int, Any] = {}
    low, high = min(ids, default=0), max(ids, default=-1)
    wanted = set(ids)
    # Ids close together (an evaluation's batch) are read as a range: no list to bind. Scattered ones (a few
    # changed models, a stale set) by their ids: a range would read every model between them.
    dense = high - low < 4 * len(wanted) + 100
    selected = model.c.id.between(low, high) if dense else model.c.id.in_(sorted(wanted))
    found: Sequence[Any] = [row for row in execute(statement.where(selected)).all() if row.id in wanted]
    while found:  # the models, then their bases a generation at a time
        rows |= {row.id: row for row in found}
        bases = list({row.base_id for row in found if row.base_id is not None} - set(rows))
        found = execute(statement.where(model.c.id.in_(bases))).all() if bases else []
    outside = [model_id for model_id in rows if not (dense and low <= model_id <= high)]

    def of_models(table: Any, *columns: Any) -> Any:
        if not dense:
            return sql_select(*(columns or (table,))).where(table.c.model_id.in_(outside))
        within = table.c.model_id.between(low, high)
        return sql_select(*(columns or (table,))).where(
            or_(within, table.c.model_id.in_(outside)) if outside else within
        )

    changes: dict[int, list[Any]] = defaultdict(list)
    for row in execute(of_models(change)).all():  # fetched at once: row by row costs a fifth of an evaluation
        if row.model_id in rows:
            changes[row.model_id].append(row)
    aliases: dict[int, list[str]] = defaultdict(list)
    named = of_models(alias, alias.c.model_id, alias.c.name).where(alias.c.kind.not_in(("slug", "name")))
    for model_id, name in execute(named).all():
        if model_id in rows:
            aliases[model_id].append(name)
    records: dict[int, ModelRecord] = {}

    def build(model_id: int) -> ModelRecord:
        if model_id not in records:
            row = rows[model_id]
            base = build(row.base_id) if row.base_id in rows else None
            records[model_id] = as_record(row, row.lab_slug, changes[model_id], aliases[model_id], base)
        return records[model_id]

    chosen = [model_id for model_id in ids if model_id in rows]
    return Batch(
        records={model_id: build(model_id) for model_id in chosen},
        stored={model_id: tuple(rows[model_id][_STANDING]) for model_id in chosen},
    )


def standing_values(standing: Standing) -> tuple[Any, ...]:
    """A standing as its row stores it (STANDING_COLUMNS)."""
    s = standing
    return (s.level.value, s.level_since, s.level_until, s.status.value, s.sunset_on, s.release_earliest,
            s.release_latest, s.notable_order, s.sort_name)  # fmt: skip


def write_standings(
    session: Session,
    *,
    on: date,
    standings: Iterable[tuple[int, tuple[Any, ...]]],
    stored: Mapping[int, tuple[Any, ...]] | None = None,
) -> int:
    """Store each (model id, standing_values) computed on `on`; `updated_at` untouched; returns rows written.

    With `stored` (what the rows hold, as `read_batch` gives it) a row is written only when its standing changed,
    and only its changed columns: an index none of them is in is left alone (a first evaluation at a million
    models then skips the level-date indexes of every model without a dated change). One executemany on the
    driver's cursor per set of columns: per-row parameter handling in the ORM would cost more than the
    evaluation itself."""
    connection = session.connection()
    mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    as_text = connection.dialect.name == "sqlite"  # SQLite keeps dates as ISO text, as SQLAlchemy writes them
    day = on.isoformat() if as_text else on
    every = tuple(range(len(STANDING_COLUMNS)))
    groups: dict[tuple[int, ...], list[tuple[Any, ...]]] = defaultdict(list)
    for model_id, values in standings:
        before = stored.get(model_id) if stored is not None else None
        if before is None:
            changed = every
        elif values == before:
            continue
        else:
            changed = tuple(compress(every, map(ne, values, before)))
        chosen = values if before is None else tuple(compress(values, map(ne, values, before)))
        if as_text:
            chosen = tuple(value.isoformat() if type(value) is date else value for value in chosen)
        groups[changed].append((day, *chosen, model_id))
    for changed, rows in groups.items():
        names = ("assessed_on", *(STANDING_COLUMNS[i] for i in changed))
        assignments = ", ".join(f"{name} = {mark}" for name in names)
        connection.exec_driver_sql(f"UPDATE model SET {assignments} WHERE id = {mark}", rows)
    return sum(len(rows) for rows in groups.values())


# ── reading: any policy, any day ────────────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class Cut:
    """A policy on a day as release-day bounds: the SQL form of trackers.sunset.evaluate."""

    on: date
    below: tuple[str, ...]  # levels that do not meet the requirement
    overdue_before: date  # latest release before this: sunset passed
    due_soon_before: date  # … before this: sunset within the lead time
    changed_after: datetime | None = None  # models changed after this are stale (see `stale`)

    @classmethod
    def of(cls, policy: Policy, on: date, *, changed_after: datetime | None = None) -> Cut:
        """The bounds of `policy` on `on`."""
        return cls(
            on=on,
            below=LEVELS_BELOW[policy.profile.required_level],
            overdue_before=release_cutoff(on, policy.window_years),
            due_soon_before=release_cutoff(on + timedelta(days=policy.lead_time + 1), policy.window_years),
            changed_after=changed_after,
        )

    def status_of(self, level: str, release_latest: date | None) -> Status:
        """The status of a model with this level and latest release day (what `_status` says in SQL)."""
        if level not in self.below:
            return Status.OPEN
        if release_latest is None:
            return Status.UNKNOWN
        if release_latest < self.overdue_before:
            return Status.OVERDUE
        return Status.DUE_SOON if release_latest < self.due_soon_before else Status.IN_WINDOW


def _not_open(cut: Cut) -> ColumnElement[bool]:
    return col(Model.level).in_(cut.below)


def _status(cut: Cut) -> Any:
    """The status as a SQL expression (the same decision as trackers.sunset.evaluate)."""
    return case(
        (~_not_open(cut), literal(Status.OPEN.value)),
        (col(Model.release_latest).is_(None), literal(Status.UNKNOWN.value)),
        (col(Model.release_latest) < cut.overdue_before, literal(Status.OVERDUE.value)),
        (col(Model.release_latest) < cut.due_soon_before, literal(Status.DUE_SOON.value)),
        else_=literal(Status.IN_WINDOW.value),
    )


def _fresh(cut: Cut) -> ColumnElement[bool]:
    """Rows whose stored assessment holds on the cut's day: assessed, its level valid then, not changed since the
    last change scan (the complement of `stale`)."""
    conditions = [
        col(Model.level).is_not(None),
        or_(col(Model.level_since).is_(None), col(Model.level_since) <= cut.on),
        or_(col(Model.level_until).is_(None), col(Model.level_until) > cut.on),
    ]
    if cut.changed_after is not None:
        conditions.append(col(Model.updated_at) <= cut.changed_after)
    return and_(*conditions)


def _released(on: date) -> ColumnElement[bool]:
    return or_(col(Model.release_earliest).is_(None), col(Model.release_earliest) <= on)


def _unindexed(column: Any) -> Any:
    """The column's value, hidden from index selection (on SQLite): the overdue list then walks its list-order
    index and stops at the page, rather than reading a third of the table by a range and sorting it."""
    return func.coalesce(column, column)


def cut_of(session: Session, *, policy: Policy, on: date) -> Cut:
    """The cut of `policy` on `on`, with the time after which a change has not been scanned yet."""
    mark = change_scan_mark(session)
    # A model changed after the last scan is stale. Not the scan's overlap: a bulk import made minutes before a
    # scan would make every model stale (and every list fall back to assessing all in memory); a change whose
    # transaction committed after the scan read is caught by the next scan's overlap, within one interval.
    return Cut.of(policy, on, changed_after=mark.at if mark else None)


def stale(session: Session, *, cut: Cut, limit: int) -> list[str] | None:
    """Slugs of the visible models whose stored assessment may not hold on the cut's day; None when there are
    more than `limit`: never assessed, a level from a later day or ended by a change since, or the model changed
    after the last change scan (which stores the assessment of what changed). Indexed look-ups, one each."""
    conditions = [col(Model.level).is_(None), col(Model.level_since) > cut.on, col(Model.level_until) <= cut.on]
    if cut.changed_after is not None:
        conditions.append(col(Model.updated_at) > cut.changed_after)
    slugs: set[str] = set()
    for condition in conditions:
        slugs |= set(session.exec(select(Model.slug).where(visible(), condition).limit(limit + 1)).all())
        if len(slugs) > limit:
            return None
    return sorted(slugs)


def stale_batch(session: Session, *, cut: Cut, after_id: int, limit: int) -> list[int]:
    """Ids of the next `limit` stale visible models after `after_id`, in id order: however many there are, the stale
    set is read a batch at a time in one walk of the primary key."""
    statement = (
        sql_select(col(Model.id))
        .where(col(Model.id) > after_id, _visible_by_id(), ~_fresh(cut))
        .order_by(col(Model.id))
        .limit(limit)
    )
    found = session.connection().execute(statement).scalars()
    return [model_id for model_id in found if model_id is not None]


@dataclass(frozen=True)
class Row:
    """One model as lists show it: the stored facts a line needs."""

    slug: str
    name: str
    lab_slug: str
    lab_name: str
    first_release: str | None
    level: str
    notable_order: int
    release_latest: date | None
    sort_name: str


def _rows() -> Any:
    return sql_select(*_ROW).join(Lab, col(Lab.id) == col(Model.lab_id))


_ROW = tuple(
    col(c)
    for c in (
        Model.slug,
        Model.name,
        Lab.slug,
        Lab.name,
        Model.first_release,
        Model.level,
        Model.notable_order,
        Model.release_latest,
        Model.sort_name,
    )
)


def _listed(session: Session, statement: Any) -> list[Row]:
    return [Row(*values) for values in session.execute(statement).all()]


def overdue_rows(
    session: Session,
    *,
    cut: Cut,
    lab_slugs: Collection[str] | None,
    notable_only: bool,
    limit: int | None,
    longest: bool = False,
) -> list[Row]:
    """Fresh overdue models, at most `limit`: most notable, then longest overdue, then by name (or longest first)."""
    statement = _rows().where(
        visible(),
        _fresh(cut),
        _released(cut.on),
        _unindexed(col(Model.level)).in_(cut.below),
        _unindexed(col(Model.release_latest)) < cut.overdue_before,
    )
    if lab_slugs is not None:
        statement = statement.where(col(Lab.slug).in_(lab_slugs))
    if notable_only:
        statement = statement.where(col(Model.notable_order) < 0)
    order = (col(Model.notable_order), col(Model.release_latest), col(Model.sort_name))
    statement = statement.order_by(*order[1 if longest else 0 :])
    return _listed(session, statement if limit is None else statement.limit(limit))


def opened_candidates(session: Session, *, cut: Cut, lab_slugs: Collection[str], since: date) -> list[str]:
    """Slugs of these labs' fresh models that meet the requirement and were released or changed on or after
    `since`."""
    statement = (
        select(Model.slug)
        .join(Lab, col(Lab.id) == col(Model.lab_id))
        .where(visible(), _fresh(cut), ~_not_open(cut), col(Lab.slug).in_(list(lab_slugs)))
        .where(or_(col(Model.level_since) >= since, col(Model.release_latest) >= since))
    )
    return list(session.exec(statement).all())


def sunset_rows(
    session: Session, *, cut: Cut, released_from: date, released_before: date, latest_first: bool, limit: int | None
) -> list[Row]:
    """Fresh models not open whose latest release day is in [released_from, released_before), by sunset."""
    statement = _rows().where(
        visible(),
        _fresh(cut),
        _released(cut.on),
        _not_open(cut),
        col(Model.release_latest) >= released_from,
        col(Model.release_latest) < released_before,
    )
    order = col(Model.release_latest).desc() if latest_first else col(Model.release_latest)
    statement = statement.order_by(order, col(Model.sort_name))
    return _listed(session, statement if limit is None else statement.limit(limit))


@dataclass(frozen=True)
class Tally:
    """How many fresh released models share a level and latest release day (a lab's, or all)."""

    level: str
    release_latest: date | None
    count: int


def tallies(session: Session, *, cut: Cut, lab_ids: Collection[int] | None = None) -> list[Tally]:
    """Counts of fresh released models by level and latest release day: one scan of a covering index, from
    which any policy's counts by status, level and year follow (`Cut.status_of`)."""
    statement = (
        sql_select(col(Model.level), col(Model.release_latest), func.count())
        .where(visible(), _fresh(cut), _released(cut.on))
        .group_by(col(Model.level), col(Model.release_latest))
    )
    if lab_ids is not None:
        statement = statement.where(col(Model.lab_id).in_(list(lab_ids)))
    return [Tally(str(level), latest, int(n)) for level, latest, n in session.execute(statement).all()]


def lab_tallies(session: Session, *, cut: Cut) -> list[tuple[int, str, int]]:
    """(lab id, status, count) of fresh released models under `cut`'s policy."""
    status = _status(cut)
    statement = (
        sql_select(col(Model.lab_id), status, func.count())
        .where(visible(), _fresh(cut), _released(cut.on))
        .group_by(col(Model.lab_id), status)
    )
    return [(int(lab), str(status_), int(n)) for lab, status_, n in session.execute(statement).all()]
