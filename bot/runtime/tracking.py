"""The trackers wired to the application: settings → Tracker, one cycle with fan-out, and the job `sunset run` runs."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlmodel import Session

from bot.outbox.delivery import fan_out
from bot.runtime.app import App
from bot.runtime.config import Settings, SourceSettings
from bot.store.deliveries import events_by_id
from bot.store.sources import source_rows
from db.models import Source, utcnow
from trackers.cycle import CycleReport, ProgressCallback, Tracker, TrackerConfig
from trackers.http import HttpPolicy, make_client
from trackers.sources import SourceSpec, source_kind

log = logging.getLogger(__name__)

SHUTDOWN_GRACE_SECONDS = 10.0
TICK_SECONDS = 60  # a cycle in flight at shutdown gets this long to finish before it is abandoned


def tracker_config(settings: Settings) -> TrackerConfig:
    """What the trackers need from the settings (the HF token included, never logged)."""
    trackers = settings.trackers
    return TrackerConfig(
        http=HttpPolicy(
            user_agent=trackers.user_agent,
            connect_timeout=trackers.connect_timeout_seconds,
            read_timeout=trackers.read_timeout_seconds,
            max_body_bytes=trackers.max_body_bytes,
            max_redirects=trackers.max_redirects,
            allow_private_addresses=trackers.allow_private_addresses,
        ),
        concurrency=trackers.concurrency,
        max_failures=trackers.max_failures,
        default_interval=timedelta(minutes=trackers.default_interval_minutes),
        claim_seconds=trackers.claim_seconds,
        hf_token=settings.hf_token.get_secret_value() if settings.hf_token else None,
    )


def source_specs(settings: Settings) -> list[SourceSpec]:
    """The configured sources as the trackers' records."""
    return [source.spec() for source in settings.sources]


def build_tracker(app: App, client: httpx.AsyncClient) -> Tracker:
    """A Tracker over the app's database and the given HTTP client."""
    return Tracker(
        engine=app.engine,
        client=client,
        specs=source_specs(app.settings),
        config=tracker_config(app.settings),
        policy=app.settings.sunset.policy(),
    )


def build_client(app: App) -> httpx.AsyncClient:
    """The trackers' one HTTP client (the caller closes it)."""
    config = tracker_config(app.settings)
    return make_client(config.http, max_connections=config.concurrency)


@asynccontextmanager
async def open_tracker(app: App) -> AsyncIterator[Tracker]:
    """A Tracker with its own HTTP client, closed on exit."""
    async with build_client(app) as client:
        yield build_tracker(app, client)


def start_tracking(
    app: App,
    scheduler: AsyncIOScheduler,
    *,
    say: Callable[[str], None] | None = None,
    after_cycle: Callable[[CycleReport], Awaitable[None]] | None = None,
) -> TrackingJob:
    """Schedule the tracking job (a tick a minute, the first at once); `close()` it at shutdown.

    With `say`, each cycle ends with a summary (counts, the next poll, failures by cause); `after_cycle`
    runs after each cycle (the board's rebuild).
    """
    job = TrackingJob(app, build_client(app), say=say, after_cycle=after_cycle)
    scheduler.add_job(
        job.tick,
        "interval",
        seconds=TICK_SECONDS,
        id="track",
        coalesce=True,
        max_instances=1,
        next_run_time=utcnow(),
    )
    return job


async def track(
    app: App,
    tracker: Tracker,
    *,
    names: Sequence[str] | None = None,
    now: datetime | None = None,
    on_done: ProgressCallback | None = None,
    stop: asyncio.Event | None = None,
) -> CycleReport:
    """One cycle, then the news it found queued for delivery (in the gateway's writer thread)."""
    report = await tracker.run_cycle(now or utcnow(), names=names, on_done=on_done, stop=stop)
    if report.announced:
        await app.gateway.write(queue_news, ids=report.announced)
    return report


def queue_news(session: Session, *, ids: Sequence[int]) -> int:
    """Queue the deliveries of the events with these ids; returns how many were created."""
    return fan_out(session, events_by_id(session, ids=ids))


FAILED = ("error", "paused", "disabled")


def failure_causes(report: CycleReport) -> list[tuple[str, list[str]]]:
    """The failed sources grouped by their error, the commonest cause first (pure)."""
    causes: dict[str, list[str]] = {}
    for source in sorted(report.sources, key=lambda source: source.name):
        if source.status in FAILED:
            causes.setdefault((source.error or source.status).splitlines()[0][:160], []).append(source.name)
    return sorted(causes.items(), key=lambda item: (-len(item[1]), item[0]))


def cycle_summary(report: CycleReport, next_poll: datetime | None) -> str:
    """After a cycle: sources by outcome and the next poll, then one line per cause of failure (pure)."""
    counts = {status: sum(s.status == status for s in report.sources) for status in ("ok", "not_modified")}
    failed = sum(source.status in FAILED for source in report.sources)
    lines = [
        f"Tracked {len(report.sources)} sources: {counts['ok']} ok, {counts['not_modified']} unchanged, "
        f"{failed} failed; {len(report.announced)} new events. Next poll: {when_text(next_poll)}."
    ]
    for cause, names in failure_causes(report):
        shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
        lines.append(f"  {len(names)} × {cause} ({shown})")
    return "\n".join(lines)


def when_text(moment: datetime | None) -> str:
    """'2026-12-05 18:10 UTC', or 'none due' for no moment."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if moment else "none due (all paused or disabled)"


def next_poll(app: App, now: datetime) -> datetime | None:
    """When the next source is due: now for one never polled, else the earliest next poll of active sources."""
    with app.session() as session:
        rows = source_rows(session)
    return earliest_poll(app.settings.sources, rows, now)


def earliest_poll(sources: Sequence[SourceSettings], rows: dict[str, Source], now: datetime) -> datetime | None:
    """When the next of these sources is due, given their stored rows (pure)."""
    moments = []
    for spec in sources:
        row = rows.get(spec.name)
        if row is None or row.next_due_at is None:
            moments.append(now)
        elif row.status not in ("paused", "disabled"):
            moments.append(max(row.next_due_at, now))
    return min(moments, default=None)


@dataclass(frozen=True)
class SourceView:
    """One line of `sunset sources`."""

    name: str
    kind: str
    url: str | None
    lab: str | None
    status: str
    last_error: str | None
    consecutive_failures: int
    last_ok_at: str | None
    next_due_at: str | None
    items_seen: int

    def as_dict(self) -> dict[str, Any]:
        """The JSON object of `sunset sources --json`."""
        return dict(self.__dict__)


def source_views(app: App) -> list[SourceView]:
    """Every configured source with its stored health ('never' until first polled)."""
    with app.session() as session:
        rows = source_rows(session)
    views = []
    for spec in source_specs(app.settings):
        row = rows.get(spec.name)
        url = row.url if row and row.url else _url(spec)
        views.append(
            SourceView(
                name=spec.name,
                kind=spec.kind,
                url=url,
                lab=spec.lab,
                status=row.status if row else "never",
                last_error=row.last_error if row else None,
                consecutive_failures=row.consecutive_failures if row else 0,
                last_ok_at=_iso(row.last_ok_at) if row else None,
                next_due_at=_iso(row.next_due_at) if row else None,
                items_seen=row.items_seen if row else 0,
            )
        )
    return views


def _url(spec: SourceSpec) -> str | None:
    try:
        return source_kind(spec.kind).location(spec)
    except (KeyError, ValueError):
        return None


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") if moment else None


class TrackingJob:
    """The scheduler's tracking job: every tick polls the due sources; stopping finishes or abandons a cycle."""

    def __init__(
        self,
        app: App,
        client: httpx.AsyncClient,
        *,
        say: Callable[[str], None] | None = None,
        after_cycle: Callable[[CycleReport], Awaitable[None]] | None = None,
    ) -> None:
        self._app = app
        self._after_cycle = after_cycle
        self._client = client
        self._say = say
        self._tracker = build_tracker(app, client)
        self._stop = asyncio.Event()
        self._running: asyncio.Task[CycleReport] | None = None

    async def tick(self) -> None:
        """Run one cycle of the sources that are due (skipped while the previous one still runs)."""
        if self._stop.is_set() or (self._running is not None and not self._running.done()):
            return
        now = utcnow()
        try:
            if not await self._app.gateway.job(self._tracker.due, now):
                return
        except asyncio.CancelledError:  # the scheduler is shutting down before a cycle started
            return
        self._running = asyncio.create_task(track(self._app, self._tracker, now=now, stop=self._stop))
        # Shielded: the scheduler cancels its job at shutdown, and the cycle must get its chance to finish.
        try:
            report = await asyncio.shield(self._running)
        except asyncio.CancelledError:  # the scheduler is shutting down: close() finishes or abandons the cycle
            return
        failed = [source.name for source in report.sources if source.status in FAILED]
        log.info("tracking cycle: %d sources, %d failed %s", len(report.sources), len(failed), ", ".join(failed))
        try:
            if self._say is not None:
                rows = await self._app.gateway.read(source_rows)
                self._say(cycle_summary(report, earliest_poll(self._app.settings.sources, rows, utcnow())))
            if self._after_cycle is not None:
                await self._after_cycle(report)
        except asyncio.CancelledError:  # shutting down: the summary and the board's rebuild are not needed
            return

    async def close(self, grace: float = SHUTDOWN_GRACE_SECONDS) -> None:
        """Let a cycle in flight finish (no new fetch starts) for `grace` seconds, abandon it after; close HTTP."""
        self._stop.set()
        running = self._running
        try:
            if running is not None and not running.done():
                done, _ = await asyncio.wait({running}, timeout=grace)
                if not done:
                    running.cancel()
                    await asyncio.wait({running})
                    log.warning("tracking cycle abandoned at shutdown; its unsaved sources are polled next time")
            if running is not None and running.done() and not running.cancelled() and running.exception():
                log.debug("the last tracking cycle had failed", exc_info=running.exception())
        finally:
            await self._client.aclose()
