"""One tracking cycle: poll the due sources concurrently; parse and store off the event loop, in short batches.

fetch (trackers.http, on the loop) → read (trackers.sources.*, in a worker thread) → reconcile + decide
+ events (short transactions of finished sources, one at a time in a worker thread). The loop only
moves bytes, so a bot sharing it stays responsive. A source's failure is recorded on its row and
never stops the others; a crash mid-cycle loses only the uncommitted batch, whose sources are simply
polled again next time.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import secrets
import socket
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Literal, TypeVar

import httpx
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlmodel import Session

from db.models import ETAG_MAX, LAST_MODIFIED_MAX, Source
from trackers.events import NEWS_FROM_TRACKERS, EventDraft, source_paused_draft, store_drafts, tracker_drafts
from trackers.http import Fetched, FetchError, HttpPolicy, Validators, fetch, same_host
from trackers.reconcile import Index, Touched, reconcile
from trackers.records import ModelRecord
from trackers.schedule import Decision, Outcome, decide, is_due
from trackers.sources import (
    Context,
    Document,
    FeedKind,
    FollowUp,
    LocalKind,
    Parsed,
    ParseError,
    Reader,
    Sighting,
    SourceSpec,
    kinds,
    source_kind,
    storable,
)
from trackers.store import claims, sources
from trackers.store.models import load_catalogue
from trackers.sunset import Policy

log = logging.getLogger(__name__)
_T = TypeVar("_T")

MAX_DOCUMENTS = 60  # per source and cycle: the first document plus pages and cards
WARNING = "warning: "  # how `last_error` starts when the source was read but had problems


@dataclass(frozen=True)
class TrackerConfig:
    """Settings the trackers need, passed down from the application's config."""

    http: HttpPolicy
    concurrency: int = 8
    max_failures: int = 10
    default_interval: timedelta = timedelta(hours=6)
    max_pages: int = 10
    hf_token: str | None = field(default=None, repr=False)
    claim_seconds: float = 300.0  # a claim not renewed for this long (its worker died) is taken by another worker


@dataclass(frozen=True)
class SourceReport:
    """One source's line in the cycle's table."""

    name: str
    kind: str
    status: str
    new: int = 0
    changed: int = 0
    items: int = 0
    error: str | None = None


@dataclass(frozen=True)
class CycleReport:
    """Every polled source's report, and the ids of the events to announce."""

    sources: tuple[SourceReport, ...]
    announced: tuple[int, ...]


@dataclass(frozen=True)
class _Polled:
    spec: SourceSpec
    outcome: Outcome
    validators: Validators | None = None
    sightings: tuple[Sighting, ...] = ()
    problems: tuple[str, ...] = ()
    items: int = 0
    local: LocalKind[Any] | None = None  # a local kind: nothing fetched, applied whole when stored


class Abandoned(Exception):
    """The cycle was asked to stop before this source was polled."""


ProgressCallback = Callable[[SourceReport], None]


class Tracker:
    """Polls configured sources through one HTTP client and stores what they say."""

    def __init__(
        self,
        *,
        engine: Engine,
        client: httpx.AsyncClient,
        specs: Sequence[SourceSpec],
        config: TrackerConfig,
        policy: Policy,
        rng: random.Random | None = None,
        worker: str | None = None,
    ) -> None:
        self._engine = engine
        self._worker = worker or f"{socket.gethostname()[:50]}:{os.getpid()}:{secrets.token_hex(3)}"
        self._rows_ensured = False
        self._client = client
        self._specs = {spec.name: spec for spec in specs}
        self._config = config
        self._policy = policy
        self._rng = rng or random.Random()
        self._write_lock = asyncio.Lock()
        self._index: Index | None = None  # built at the first batch with sightings, kept for the cycle

    @property
    def names(self) -> list[str]:
        """Configured source names, in config order."""
        return list(self._specs)

    def due(self, now: datetime) -> list[str]:
        """Sources whose time has come (never polled, or next_due_at passed), skipping paused and disabled ones
        and those another worker has claimed (until its claim expires)."""
        rows = self._rows()
        return [
            name
            for name in self._specs
            if name not in rows
            or (is_due(rows[name].next_due_at, rows[name].status, now) and not self._claimed_by_other(rows[name], now))
        ]

    def _claimed_by_other(self, row: Source, now: datetime) -> bool:
        return row.claimed_by not in (None, self._worker) and row.claimed_until is not None and row.claimed_until > now

    def active(self) -> list[str]:
        """Sources that are neither paused nor disabled (what `sunset track --once` polls)."""
        rows = self._rows()
        return [name for name in self._specs if name not in rows or rows[name].status not in ("paused", "disabled")]

    async def run_cycle(
        self,
        now: datetime,
        *,
        names: Sequence[str] | None = None,
        on_done: ProgressCallback | None = None,
        stop: asyncio.Event | None = None,
    ) -> CycleReport:
        """Poll `names` (default: every due source) once; returns each source's report and the news to announce.

        Without `names`, due sources are claimed a batch at a time (`trackers.store.claims`), so several
        workers share them and none is polled twice for one due time; the claims are renewed while the
        cycle runs and released as each source's outcome is stored (or at the end, when abandoned).
        """
        self._index = None  # models may have changed since the last cycle (the catalog, a moderator)
        # Reads in a worker thread, like the writes: the event loop never waits on the database.
        known = await asyncio.to_thread(self._known_repos)
        if names is not None:
            return await self._run(now, list(names), await asyncio.to_thread(self._rows), known, on_done, stop)
        reports: list[SourceReport] = []
        announced: list[int] = []
        started = time.monotonic()
        renewing = asyncio.create_task(self._renew_claims(now, started))
        try:
            while stop is None or not stop.is_set():
                claimed = await asyncio.to_thread(self._claim, now, time.monotonic() - started)
                if not claimed:
                    break
                part = await self._run(
                    now, [row.name for row in claimed], {row.name: row for row in claimed}, known, on_done, stop
                )
                reports += part.sources
                announced += part.announced
        finally:
            renewing.cancel()
            await asyncio.gather(renewing, return_exceptions=True)
            try:
                await asyncio.to_thread(self._release)  # what was claimed but not stored (a stop) is due at once
            except SQLAlchemyError as error:  # the database is away: the claims expire on their own
                log.warning("could not release this worker's claims (%s); they expire", _first_line(error))
        return CycleReport(tuple(reports), tuple(announced))

    async def _run(
        self,
        now: datetime,
        selected: list[str],
        rows: dict[str, Source],
        known: frozenset[str],
        on_done: ProgressCallback | None,
        stop: asyncio.Event | None,
    ) -> CycleReport:
        """Poll `selected` concurrently and store their outcomes in short transactions, as they finish."""
        slots = asyncio.Semaphore(self._config.concurrency)
        queue: asyncio.Queue[_Polled | None] = asyncio.Queue()

        async def poll(spec: SourceSpec) -> None:
            polled: _Polled | None
            try:
                polled = await self._poll(spec, rows.get(spec.name), now, known, slots, stop)
            except Abandoned:
                polled = None
            except Exception as error:  # our bug, not the source's: record it on the source, never hang the cycle
                log.exception("source=%s polling failed unexpectedly", spec.name)
                polled = _Polled(spec, Outcome("error", f"internal error: {type(error).__name__}: {error}"[:500]))
            await queue.put(polled)

        tasks = [asyncio.create_task(poll(self._specs[name])) for name in selected]
        reports: list[SourceReport] = []
        announced: list[int] = []
        try:
            remaining = len(tasks)
            while remaining:
                batch = [await queue.get()]
                while not queue.empty():
                    batch.append(queue.get_nowait())
                remaining -= len(batch)
                for done in _transactions([polled for polled in batch if polled is not None]):
                    batch_reports, batch_events = await self._store(done, now)
                    reports += batch_reports
                    announced += batch_events
                    for report in batch_reports:
                        if on_done is not None:
                            on_done(report)
                    await asyncio.sleep(0)  # let waiting fetches run between transactions
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        return CycleReport(tuple(reports), tuple(announced))

    # --- polling (network, no database) -------------------------------------------------------

    async def _poll(
        self,
        spec: SourceSpec,
        row: Source | None,
        now: datetime,
        known: frozenset[str],
        slots: asyncio.Semaphore,
        stop: asyncio.Event | None,
    ) -> _Polled:
        try:
            kind = source_kind(spec.kind)
            url = kind.location(spec)
        except (KeyError, ValueError) as error:
            return _Polled(spec, Outcome("error", f"bad source options: {error}"))
        if isinstance(kind, LocalKind):
            return _Polled(spec, Outcome("ok"), local=kind)
        reader = kind.read
        token = self._config.hf_token if kind.hub_token else None
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        validators = Validators(row.etag, row.last_modified) if row else None
        try:
            fetched = await self._fetch(url, now, slots, stop, validators=validators, headers=headers)
        except FetchError as error:
            status: Literal["gone", "error"] = "gone" if error.gone else "error"
            return _Polled(spec, Outcome(status, str(error), error.retry_after, rate_limited=error.rate_limited))
        if fetched.not_modified:
            return _Polled(spec, Outcome("not_modified", None, fetched.retry_after, fetched.max_age), validators)
        context = Context(spec, now.date(), known)
        document = Document(
            fetched.url,
            fetched.body,
            fetched.content_type,
            next_url=fetched.next_url,
            content_location=fetched.content_location,
        )
        try:
            parsed = await _read(reader, document, context)
        except ParseError as error:
            return _Polled(spec, Outcome("error", str(error)))
        sightings, problems, items = list(parsed.sightings), list(parsed.problems), parsed.items
        items += await self._follow(
            parsed.follow, reader, context, now, slots, stop, (url, headers), sightings, problems
        )
        outcome = Outcome("ok", None, fetched.retry_after, fetched.max_age)
        return _Polled(spec, outcome, fetched.validators, tuple(sightings), tuple(problems), items)

    async def _follow(
        self,
        pending: Sequence[FollowUp],
        reader: Reader,
        context: Context,
        now: datetime,
        slots: asyncio.Semaphore,
        stop: asyncio.Event | None,
        secrets: tuple[str, dict[str, str]],
        sightings: list[Sighting],
        problems: list[str],
    ) -> int:
        """Fetch a source's further documents (pages, cards); their failures are problems, not the source's.

        `secrets` is the source's start URL and the headers that carry its token: they go only to that host.
        Returns how many more items they held.
        """
        origin, headers = secrets
        queue, documents, pages, items = list(pending), 1, 1, 0
        while queue:
            follow = queue.pop(0)
            if documents >= MAX_DOCUMENTS:
                problems.append(f"stopped after {MAX_DOCUMENTS} documents")
                break
            if follow.role == "listing":
                if pages >= self._config.max_pages:
                    problems.append(f"stopped after {pages} pages")
                    continue
                pages += 1
            documents += 1
            label = follow.subject or follow.url
            scoped = headers if same_host(follow.url, origin) else {}  # a secret stays with its host
            try:
                fetched = await self._fetch(follow.url, now, slots, stop, headers=scoped)
                document = Document(
                    fetched.url,
                    fetched.body,
                    fetched.content_type,
                    follow.role,
                    follow.subject,
                    fetched.next_url,
                    fetched.content_location,
                )
                parsed = await _read(reader, document, context)
            except (FetchError, ParseError) as error:
                problems.append(f"{label}: {error}")
                continue
            sightings += parsed.sightings
            problems += parsed.problems
            queue += parsed.follow
            items += parsed.items
        return items

    async def _fetch(
        self,
        url: str,
        now: datetime,
        slots: asyncio.Semaphore,
        stop: asyncio.Event | None,
        *,
        validators: Validators | None = None,
        headers: dict[str, str] | None = None,
    ) -> Fetched:
        async with slots:
            if stop is not None and stop.is_set():
                raise Abandoned
            return await fetch(
                self._client, url, policy=self._config.http, now=now, validators=validators, headers=headers
            )

    # --- storing (database, no network) -------------------------------------------------------

    async def _store(self, done: list[_Polled], now: datetime) -> tuple[list[SourceReport], list[int]]:
        """Store one transaction's results; one that collided with another worker's (a deadlock, or both
        creating the same model) is tried again, with a fresh index that sees what the other stored."""
        for attempt in range(1, STORE_ATTEMPTS + 1):
            async with self._write_lock:
                try:
                    return await _to_the_end(self._persist, done, now)
                except DBAPIError as error:
                    self._index = None  # the batch was rolled back: the index may name models that are gone
                    if attempt == STORE_ATTEMPTS or _sqlstate(error) not in WORKER_COLLISIONS:
                        raise
                    log.warning(
                        "storing %d sources collided with another worker (%s); again", len(done), _first_line(error)
                    )
                except BaseException:
                    self._index = None
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _claim(self, now: datetime, elapsed: float) -> list[Source]:
        """Claim the next batch of sources due at `now` for this worker (creating the rows of sources never seen)."""
        with Session(self._engine, expire_on_commit=False) as session:
            if not self._rows_ensured:
                claims.ensure_rows(session, sources=[(s.name, s.kind, s.lab) for s in self._specs.values()])
                self._rows_ensured = True
            until = now + timedelta(seconds=elapsed + self._config.claim_seconds)
            limit = self._config.concurrency * CLAIM_BATCH_PER_SLOT
            rows = claims.claim_due(session, names=self.names, worker=self._worker, now=now, until=until, limit=limit)
            session.commit()
            return rows

    async def _renew_claims(self, now: datetime, started: float) -> None:
        """The heartbeat: push this worker's claims back a claim period, three times per period."""
        while True:
            await asyncio.sleep(self._config.claim_seconds / 3)
            until = now + timedelta(seconds=time.monotonic() - started + self._config.claim_seconds)
            try:
                await asyncio.to_thread(self._extend, until)
            except SQLAlchemyError as error:  # a blip: the next beat renews them, well before they expire
                log.warning("could not renew this worker's claims (%s); retrying", _first_line(error))

    def _extend(self, until: datetime) -> None:
        with Session(self._engine) as session:
            claims.extend(session, worker=self._worker, until=until)
            session.commit()

    def _release(self) -> None:
        with Session(self._engine) as session:
            claims.release(session, worker=self._worker)
            session.commit()

    def _rows(self) -> dict[str, Source]:
        with Session(self._engine, expire_on_commit=False) as session:
            return sources.source_rows(session)

    def _known_repos(self) -> frozenset[str]:
        if not any(kind.known_repos for kind in map(_feed_kind, self._specs.values()) if kind is not None):
            return frozenset()
        with Session(self._engine) as session:
            return sources.known_hub_repos(session)

    def _persist(self, results: list[_Polled], now: datetime) -> tuple[list[SourceReport], list[int]]:
        """One transaction: each result's sightings reconciled, its row updated, the implied events stored."""
        polled = [result.spec.name for result in results]
        reports = [self._persist_local(result, now) for result in results if result.local is not None]
        if reports:
            self._index = None  # a local source (the catalog) may have added or renamed models
        fresh = [result for result in results if result.outcome.status == "not_modified"]
        results = [r for r in results if r.local is None and r.outcome.status != "not_modified"]
        befores: dict[str, ModelRecord | None] = {}
        quiet_slugs: set[str] = set()
        drafts: list[EventDraft] = []
        with Session(self._engine, expire_on_commit=False) as session:
            reports += self._record_not_modified(session, fresh, now)
            rows = sources.source_rows(session, names=[result.spec.name for result in results])
            if self._index is None and any(result.sightings for result in results):
                self._index = Index.load(session)
            index = self._index
            for result in results:
                spec = result.spec
                row = rows.get(spec.name) or Source(name=spec.name, kind=spec.kind)
                report, touched = self._apply(session, result, index, now)
                for item in touched:
                    befores.setdefault(item.slug, item.before)
                if row.last_ok_at is None:  # a source's first successful run finds history, not news
                    quiet_slugs |= {item.slug for item in touched}
                reports.append(self._record_outcome(session, row, result, report, now, drafts))
            after = load_catalogue(session, slugs=set(befores)).records if befores else {}
            for slug, before in befores.items():
                if slug in after:
                    drafts += tracker_drafts(before, after[slug], self._policy, now.date())
            loud = store_drafts(session, drafts, lambda draft: _announce(draft, quiet_slugs))
            claims.release(session, worker=self._worker, names=polled)  # with the next poll: due again only then
            session.commit()
            return reports, [event.id for event in loud if event.id is not None]

    def _record_not_modified(self, session: Session, results: list[_Polled], now: datetime) -> list[SourceReport]:
        """The common case in one statement: a 304 resets failures and moves the next poll out.

        An error is cleared; a warning about the document's content stays, since the document is the same.
        """
        next_due: dict[str, datetime | None] = {}
        for result in results:
            decision = decide(
                result.outcome,
                failures_before=0,
                now=now,
                interval=self._interval(result.spec),
                max_failures=self._config.max_failures,
                rng=self._rng,
            )
            next_due[result.spec.name] = decision.next_due_at
            log.info("source=%s status=not_modified new=0 changed=0 items=0", result.spec.name)
        sources.record_not_modified(session, next_due=next_due, now=now, keep_errors_starting=WARNING)
        return [SourceReport(result.spec.name, result.spec.kind, "not_modified") for result in results]

    def _record_outcome(
        self,
        session: Session,
        row: Source,
        result: _Polled,
        report: SourceReport,
        now: datetime,
        drafts: list[EventDraft],
    ) -> SourceReport:
        """Decide the source's health and next poll, write its row, and raise `source_paused` when due."""
        spec, outcome = result.spec, result.outcome
        decision = decide(
            outcome,
            failures_before=row.consecutive_failures,
            now=now,
            interval=self._interval(spec),
            max_failures=self._config.max_failures,
            rng=self._rng,
        )
        _update_row(row, spec, decision, outcome, result, now)
        sources.save_source(session, row=row)
        if decision.paused_now:
            key = now.isoformat(timespec="seconds")
            drafts.append(source_paused_draft(spec.name, decision.consecutive_failures, outcome.error, now.date(), key))
        log.info(
            "source=%s status=%s new=%d changed=%d items=%d%s",
            spec.name, decision.status, report.new, report.changed, report.items,
            f" error={outcome.error}" if outcome.error else "",
        )  # fmt: skip
        return replace(report, status=decision.status, error=row.last_error)

    def _persist_local(self, result: _Polled, now: datetime) -> SourceReport:
        """A local source (the catalog) in a transaction of its own: applied whole, then its outcome recorded.

        A malformed document rolls back everything the source applied; the error is recorded on its row.
        """
        spec, kind = result.spec, result.local
        assert kind is not None
        with Session(self._engine, expire_on_commit=False) as session:
            try:
                applied = kind.apply(session, spec)
            except ParseError as error:
                session.rollback()
                result = replace(result, outcome=Outcome("error", str(error)))
                report = SourceReport(spec.name, spec.kind, "error")
            else:
                status: Literal["ok", "not_modified"] = "ok" if applied.changed else "not_modified"
                result = replace(result, outcome=Outcome(status), items=applied.items)
                report = SourceReport(spec.name, spec.kind, status, changed=applied.changed, items=applied.items)
            row = sources.source_rows(session, names=[spec.name]).get(spec.name)
            row = row or Source(name=spec.name, kind=spec.kind)
            drafts: list[EventDraft] = []
            report = self._record_outcome(session, row, result, report, now, drafts)
            store_drafts(session, drafts, lambda draft: True)
            session.commit()
            return report

    def _apply(
        self, session: Session, result: _Polled, index: Index | None, now: datetime
    ) -> tuple[SourceReport, list[Touched]]:
        spec, outcome = result.spec, result.outcome
        report = SourceReport(spec.name, spec.kind, outcome.status, items=result.items, error=outcome.error)
        if outcome.status != "ok" or not result.sightings or index is None:
            return report, []
        reconciled = reconcile(session, spec, result.sightings, index=index, now=now)
        new = reconciled.created + reconciled.unconfirmed
        return replace(report, new=new, changed=reconciled.changed), reconciled.touched

    def _interval(self, spec: SourceSpec) -> timedelta:
        if spec.interval_minutes:
            return timedelta(minutes=spec.interval_minutes)
        return self._config.default_interval


# Results are stored in short transactions, one at a time (the write lock), in a worker thread: a
# transaction holds at most STORE_BATCH changed sources (plus any number of one-statement 304s), so a
# crash loses little and what finished early is committed early. In the polling benchmark (1,000
# feeds, 100 changed, 2 cores) cycle 2 took 1.09-1.12 s this way, against 1.11-1.15 s with the writes
# inline on the loop, and 1.13-1.14 s with no bound on the batch.
STORE_BATCH = 8
STORE_ATTEMPTS = 3
WORKER_COLLISIONS = {"40P01", "40001", "23505"}  # PostgreSQL: deadlock, serialization failure, unique violation
CLAIM_BATCH_PER_SLOT = 4  # a worker claims 4 × its concurrency at a time: enough to keep busy, small to share


async def _to_the_end(function: Callable[..., _T], *args: object) -> _T:
    """Run `function` in a worker thread; cancelled meanwhile, wait for it to end, then pass the cancellation on.

    A transaction in a thread cannot be interrupted: a cancelled cycle ends only after its batch has
    committed or rolled back, so nothing writes to the database once the cycle is over.
    """
    running = asyncio.ensure_future(asyncio.to_thread(function, *args))
    try:
        return await asyncio.shield(running)
    except asyncio.CancelledError:
        await asyncio.wait([running])
        if not running.cancelled() and running.exception() is not None:
            log.error("the transaction in flight failed as the cycle was cancelled", exc_info=running.exception())
        raise


def _transactions(results: list[_Polled]) -> Iterator[list[_Polled]]:
    """The finished results in transactions: every 304 in the first (one statement), at most STORE_BATCH others each."""
    light = [result for result in results if result.outcome.status == "not_modified"]
    heavy = [result for result in results if result.outcome.status != "not_modified"]
    if light or heavy:
        yield light + heavy[:STORE_BATCH]
    for start in range(STORE_BATCH, len(heavy), STORE_BATCH):
        yield heavy[start : start + STORE_BATCH]


def _sqlstate(error: DBAPIError) -> str | None:
    """The SQLSTATE of a driver error (psycopg's `sqlstate`), None when the driver gives none (SQLite)."""
    return getattr(error.orig, "sqlstate", None)


def _first_line(error: BaseException) -> str:
    """The first line of a database error's message (the driver's, without SQLAlchemy's statement dump)."""
    cause = getattr(error, "orig", None) or error
    return (str(cause).strip().splitlines() or [type(cause).__name__])[0][:200]


def _announce(draft: EventDraft, quiet_slugs: set[str]) -> bool:
    """News from trackers is told at once, except what a source finds on its first run (its history)."""
    if draft.kind not in NEWS_FROM_TRACKERS:
        return False
    return draft.subject.removeprefix("model:") not in quiet_slugs


def _update_row(
    row: Source, spec: SourceSpec, decision: Decision, outcome: Outcome, result: _Polled, now: datetime
) -> None:
    row.kind, row.lab = spec.kind, spec.lab
    location = _location(spec)
    if location is not None:
        row.url = location[:1000]
    row.status, row.consecutive_failures = decision.status, decision.consecutive_failures
    row.next_due_at, row.last_attempt_at = decision.next_due_at, now
    if outcome.status in ("ok", "not_modified"):
        row.last_ok_at = now
        row.last_error = storable(WARNING + "; ".join(result.problems))[:2000] if result.problems else None
        if result.validators is not None:  # a validator too long for its column is dropped, never cut
            row.etag = _kept(result.validators.etag, ETAG_MAX)
            row.last_modified = _kept(result.validators.last_modified, LAST_MODIFIED_MAX)
        if outcome.status == "ok":
            row.items_seen = result.items
    else:
        row.last_error = storable(outcome.error)[:2000] if outcome.error else None


def _kept(value: str | None, limit: int) -> str | None:
    return value if value is not None and len(value) <= limit else None


def _location(spec: SourceSpec) -> str | None:
    """Where the source is read from (a URL or a folder); None when its kind or options are invalid."""
    try:
        return source_kind(spec.kind).location(spec)
    except (KeyError, ValueError):
        return None


def _feed_kind(spec: SourceSpec) -> FeedKind[Any] | None:
    """The source's kind when it is fetched (None for a local or unknown kind)."""
    kind = source_kind(spec.kind) if spec.kind in kinds() else None
    return kind if isinstance(kind, FeedKind) else None


async def _read(reader: Reader, document: Document, context: Context) -> Parsed:
    """Parse in a worker thread (feedparser and YAML are CPU-bound); unexpected parser exceptions become ParseError."""
    return await asyncio.to_thread(_safe_read, reader, document, context)


def _safe_read(reader: Reader, document: Document, context: Context) -> Parsed:
    try:
        return reader(document, context)
    except ParseError:
        raise
    except Exception as error:  # input a parser was not written for: record it on the source, log the bug loudly
        log.exception("source=%s reader failed on %s", context.spec.name, document.url)
        raise ParseError(f"unexpected {type(error).__name__} while reading: {error}") from error
