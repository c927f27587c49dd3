"""`sunset run`: the long-running service, as two roles.

The **bot** role (this process) answers commands and owns everything a person waits on or the record
announces: slash commands, delivery, digests, the daily evaluation, the change scan and the board. The
**tracker** role polls the sources. `--role all` (the default) runs the bot here and the tracker in a
child process it supervises, so no tracking work — name lookups, parsing, bulk writes — shares the
bot's event loop, threads or GIL.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import signal
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from apscheduler.executors.asyncio import AsyncIOExecutor
from apscheduler.executors.pool import ThreadPoolExecutor as JobThreadPool
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from rich.console import Console
from sqlmodel import Session

from bot.outbox.apprise_notifier import AppriseNotifier, build_targets
from bot.outbox.console import ConsoleNotifier
from bot.outbox.delivery import (
    CONSOLE_TARGET,
    Notifier,
    deliver_pending,
    ensure_console_subscription,
    fan_out,
    recover_undelivered,
)
from bot.outbox.lease import DeliveryLease
from bot.outbox.notifications import deliver_notifications, queue_weekly_posts, sync_targets
from bot.runtime.app import App
from bot.runtime.config import USER_AGENT_NOTE
from bot.runtime.gateway import forbid_sessions_on_loop, loop_code
from bot.runtime.health import start_health
from bot.runtime.memory import release_freed_memory
from bot.runtime.tracking import SHUTDOWN_GRACE_SECONDS, TrackingJob, next_poll, start_tracking, when_text
from bot.services.queries import stats
from bot.site.build import SiteBuilder
from bot.store.sources import last_poll
from db.models import Event, utcnow
from trackers.cycle import CycleReport
from trackers.events import evaluate_all, evaluate_changed
from trackers.sunset import Status

log = logging.getLogger(__name__)

DELIVERY_INTERVAL_SECONDS = 30
CHANGE_INTERVAL_SECONDS = 20  # a change anywhere reaches subscribers within this plus a delivery tick

Role = Literal["all", "bot", "tracker"]
ROLES: tuple[Role, ...] = ("all", "bot", "tracker")
BOT_THREADS = 4  # the bot loop's default executor: name lookups, Apprise; queries use the gateway's pools
JOB_THREADS = 2  # the bot role's scheduled bulk work: evaluation, change scan, board builds
TRACKER_EXTRA_THREADS = 2  # beyond [trackers] concurrency: parsing and the short writes of a cycle
RESTART_BACKOFF_SECONDS = (1.0, 2.0, 5.0, 15.0, 30.0, 60.0)
STABLE_SECONDS = 60.0  # a tracker process that ran this long before dying restarts at the shortest back-off
CHILD_STOP_SECONDS = SHUTDOWN_GRACE_SECONDS + 10.0  # its cycle's grace, then its own clean-up; killed after
SUPERVISED = "SUNSET_SUPERVISED"  # set in the child's environment: stop when the parent's pipe closes


def status_counts(app: App) -> Counter[Status]:
    """How many models are in each status today under the global policy."""
    with app.session() as session:
        counts = stats(session, app.settings.sunset.policy(), app.today())
    return Counter({Status(status): count for status, count in counts.by_status.items()})


def evaluate_and_fan_out(app: App) -> int:
    """Reload changed catalog files, run the evaluation for today, and queue deliveries; returns new events."""
    app.load_catalog()
    with app.session() as session:

        def settle(news: list[Event]) -> None:
            """Each batch's events and their deliveries are committed together."""
            if news:
                fan_out(session, news)  # commits
            else:
                session.commit()

        announced = evaluate_all(session, app.settings.sunset.policy(), app.today(), settle=settle)
        session.commit()  # the day's mark
    release_freed_memory()  # the evaluation's page cache and batches: not kept at their peak
    log.info("evaluation on=%s new_events=%d", app.today(), len(announced))
    return len(announced)


def announce_changes(app: App) -> int:
    """Load changed catalog files, then evaluate the models anyone changed since the last scan and queue their
    events' deliveries in the same transaction; returns how many events were announced."""
    app.load_catalog()
    with app.session() as session:
        announced = evaluate_changed(session, app.settings.sunset.policy(), app.today(), utcnow())
        fan_out(session, announced)  # commits the events and their deliveries together
    if announced:
        log.info("changes new_events=%d", len(announced))
    return len(announced)


def site_builder(app: App) -> SiteBuilder | None:
    """The board's builder when `[site] output_dir` is set, else None."""
    site = app.settings.site
    return SiteBuilder(Path(site.output_dir), base_url=site.base_url) if site.output_dir else None


def publish_site(app: App, builder: SiteBuilder) -> None:
    """Rebuild the board (only what changed is rendered and written); a disk error is logged, the bot goes on."""
    try:
        with app.session() as session:
            builder.build(session, policy=app.settings.sunset.policy(), on=app.today())
    except OSError as error:  # a full disk or a folder we may not write: expected, retried at the next change
        log.error("site folder=%s error=%s", builder.folder, error)


class PollMark:
    """Whether the tracker role (perhaps another process) has polled since the board was last built."""

    def __init__(self, app: App, seen: datetime | None) -> None:
        self._app = app
        self._seen = seen

    def _latest(self) -> datetime | None:
        with self._app.session() as session:
            return last_poll(session)

    def advanced(self) -> bool:
        """True once after each new poll."""
        latest = self._latest()
        moved = latest is not None and (self._seen is None or latest > self._seen)
        self._seen = latest
        return moved


def announce_and_publish(app: App, builder: SiteBuilder | None, polled: PollMark | None = None) -> int:
    """The change scan: announce what changed, then rebuild the board when anything was announced or, with
    `polled`, when the trackers have polled since the last scan."""
    announced = announce_changes(app)
    if builder is not None and (announced or (polled is not None and polled.advanced())):
        publish_site(app, builder)
    return announced


def evaluate_and_publish(app: App, builder: SiteBuilder | None) -> int:
    """The daily job: evaluate and fan out, then rebuild the board when one is configured."""
    announced = evaluate_and_fan_out(app)
    if builder is not None:
        publish_site(app, builder)
    return announced


async def deliver_console(app: App, notifier: Notifier) -> int:
    """Send pending console deliveries."""
    return await deliver_pending(app.gateway, notifier, targets_prefix=CONSOLE_TARGET)


async def notify_targets(app: App, notifier: AppriseNotifier) -> int:
    """Queue the weekly posts that are due, then send pending deliveries to the notification targets."""
    await app.gateway.write(queue_weekly_posts, app.settings.notifications, utcnow(), app.settings.sunset.policy())
    return await deliver_notifications(app, notifier)


class TrackerProcess:
    """The tracker role as a child process: started, restarted with back-off when it dies, stopped with us.

    The child gets a pipe as its stdin and `SUNSET_SUPERVISED=1`: when this process dies without
    stopping it (SIGKILL, a crash), the pipe closes and the child stops on its own.
    """

    def __init__(
        self,
        command: Sequence[str],
        *,
        backoff: Sequence[float] = RESTART_BACKOFF_SECONDS,
        stable: float = STABLE_SECONDS,
        stop_timeout: float = CHILD_STOP_SECONDS,
        output: int | None = None,
    ) -> None:
        self.command = list(command)
        self._output = output  # where the child's stdout goes (None: ours)
        self.starts = 0
        self.process: asyncio.subprocess.Process | None = None
        self._backoff, self._stable, self._stop_timeout = backoff, stable, stop_timeout
        self._stopping = asyncio.Event()
        self._started = asyncio.Condition()
        self._task: asyncio.Task[None] | None = None

    @property
    def pid(self) -> int | None:
        """The running child's process id (None between a death and its restart)."""
        running = self.process is not None and self.process.returncode is None
        return self.process.pid if running and self.process is not None else None

    def start(self) -> None:
        """Start the child and keep it running until `stop()`."""
        self._task = asyncio.create_task(self._supervise(), name="tracker-process")

    async def wait_started(self, count: int = 1) -> int:
        """Wait until the child has been started `count` times in all; returns its pid."""
        async with self._started:
            await self._started.wait_for(lambda: self.starts >= count and self.pid is not None)
        assert self.pid is not None
        return self.pid

    async def _supervise(self) -> None:
        attempt = 0
        env = {**os.environ, SUPERVISED: "1"}
        while not self._stopping.is_set():
            began = time.monotonic()
            try:
                # Its own session: a Ctrl-C in the terminal reaches only us, and we stop the child in order.
                process = await asyncio.create_subprocess_exec(
                    *self.command, stdin=asyncio.subprocess.PIPE, stdout=self._output, env=env, start_new_session=True
                )
            except OSError as error:  # no such interpreter, out of processes: expected, retried
                delay = self._backoff[min(attempt, len(self._backoff) - 1)]
                attempt += 1
                log.error("tracker role could not start (%s); retrying in %g s", error, delay)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), timeout=delay)
                continue
            self.process = process
            async with self._started:
                self.starts += 1
                self._started.notify_all()
            log.info("tracker role started pid=%d", process.pid)
            stopping = asyncio.ensure_future(self._stopping.wait())
            exited = asyncio.ensure_future(process.wait())
            await asyncio.wait({stopping, exited}, return_when=asyncio.FIRST_COMPLETED)
            stopping.cancel()
            if self._stopping.is_set():
                await self._end(process)
                exited.cancel()
                return
            if time.monotonic() - began >= self._stable:
                attempt = 0  # it had run well: a new failure starts the back-off afresh
            delay = self._backoff[min(attempt, len(self._backoff) - 1)]
            attempt += 1
            log.warning("tracker role exited code=%s; restarting in %g s", exited.result(), delay)
            self._close_pipe(process)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=delay)

    async def _end(self, process: asyncio.subprocess.Process) -> None:
        """SIGTERM (the cycle in flight gets its grace), then SIGKILL if the child overstays."""
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.terminate()
            try:
                await asyncio.wait_for(process.wait(), timeout=self._stop_timeout)
            except TimeoutError:
                log.warning("tracker role pid=%d did not stop in %g s; killed", process.pid, self._stop_timeout)
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await process.wait()
        self._close_pipe(process)

    @staticmethod
    def _close_pipe(process: asyncio.subprocess.Process) -> None:
        if process.stdin is not None:
            process.stdin.close()

    async def stop(self) -> None:
        """Stop the child and wait until it has exited."""
        self._stopping.set()
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)


def tracker_command(config: Path | None) -> list[str]:
    """The command line of the tracker role's child process (the same interpreter and config file)."""
    return [sys.executable, "-m", "bot", *(["--config", str(config)] if config else []), "run", "--role", "tracker"]


def bot_scheduler() -> tuple[AsyncIOScheduler, JobThreadPool]:
    """The bot role's scheduler (coroutines on the loop) and its "bulk" executor (jobs on their own threads)."""
    bulk = JobThreadPool(JOB_THREADS)
    return AsyncIOScheduler(timezone=UTC, executors={"default": AsyncIOExecutor(), "bulk": bulk}), bulk


async def stop_scheduler(scheduler: AsyncIOScheduler, bulk: JobThreadPool) -> None:
    """Start no more jobs, and let a bulk job in flight (an evaluation, a change scan) finish its transaction
    before the app closes its database, without blocking the loop meanwhile."""
    if scheduler.running:
        scheduler.shutdown(wait=False)
    await asyncio.to_thread(bulk.shutdown, True)


async def run(
    app: App,
    console: Console,
    stop: asyncio.Event,
    *,
    role: Role = "all",
    tracker: Sequence[str] | TrackerProcess | None = None,
    delivery_interval: float = DELIVERY_INTERVAL_SECONDS,
    change_interval: float = CHANGE_INTERVAL_SECONDS,
    discord_backoff: Sequence[float] | None = None,
) -> None:
    """Run a role until `stop` is set.

    `bot` and `all`: the start-up summary, then the schedule (and Discord when a token is set). With
    `all`, `tracker` is the tracker role's child process (or its command line); without one, the
    trackers run in this process (tests and embedding). `tracker`: only the tracking job.

    Everything it starts is event-loop code: its database work goes through `app.gateway`, and a session
    opened on the loop's thread fails (`SessionOnLoopError`).
    """
    forbid_sessions_on_loop()
    # Whole lines however narrow the terminal, and literal text: piped into a log, nothing wraps. (A closed
    # pipe, `sunset run | head`, makes Rich raise SystemExit(1); `_run` stops what it started on the way out.)
    say = functools.partial(console.print, soft_wrap=True, markup=False, highlight=False)
    with loop_code():
        if role == "tracker":
            await run_tracker(app, stop, say=say)
            return
        await _run(
            app,
            console,
            stop,
            say=say,
            role=role,
            tracker=tracker,
            delivery_interval=delivery_interval,
            change_interval=change_interval,
            discord_backoff=discord_backoff,
        )


def _start_up(session: Session, app: App) -> int:
    """The console's subscription, the notification targets as configured, and the recovery of lost deliveries."""
    ensure_console_subscription(session)
    sync_targets(session, app.settings.notifications)
    return recover_undelivered(session)


async def _run(
    app: App,
    console: Console,
    stop: asyncio.Event,
    *,
    say: Callable[[str], None],
    role: Role,
    tracker: Sequence[str] | TrackerProcess | None,
    delivery_interval: float,
    change_interval: float,
    discord_backoff: Sequence[float] | None,
) -> None:
    notifier = ConsoleNotifier(console)
    lease = DeliveryLease(app.engine, app.gateway)  # on PostgreSQL one process at a time delivers; others wait
    deliver_console_round, notify_targets_round = lease.gated(deliver_console), lease.gated(notify_targets)
    targets = build_targets(app.settings.notifications)  # ConfigError for a URL Apprise rejects
    recovered = await app.gateway.write(_start_up, app)
    if recovered:
        log.warning("recovered %d deliveries of events a crash had left undelivered", recovered)
    builder = site_builder(app)
    await app.gateway.job(evaluate_and_publish, app, builder)
    await app.gateway.job(announce_changes, app)  # sets the mark from which changes are announced
    counts, sunset = await app.gateway.job(status_counts, app), app.settings.sunset
    say(
        f"Sunset Clause: {sum(counts.values())} models — {counts[Status.OVERDUE]} overdue, "
        f"{counts[Status.DUE_SOON]} due soon, {counts[Status.OPEN]} open, {counts[Status.IN_WINDOW]} in window, "
        f"{counts[Status.UNKNOWN]} unknown ({sunset.window_years}-year window, {sunset.profile} profile)."
    )
    if app.catalog_hint:
        say(f"Note: {app.catalog_hint}.")
    if not app.settings.trackers.operator_contact_set and role == "all":
        say(f"Note: {USER_AGENT_NOTE}.")
    if app.settings.discord_token is None:
        say("Console mode: DISCORD_TOKEN is not set, so events are printed here (set it to run the Discord bot).")
    if builder is not None:
        say(f"The Sunset Board is in {builder.folder}, rebuilt after each evaluation and tracking cycle.")
    await deliver_console_round(app, notifier)
    outside = AppriseNotifier(targets, board_url=app.settings.site.base_url)
    if targets:
        shown = ", ".join(f"{name} ({target.shown})" for name, target in targets.items())
        say(f"Notification targets: {shown}.")
        await notify_targets_round(app, outside)
    hour, minute = (int(part) for part in app.settings.trackers.evaluate_at.split(":"))
    scheduler, bulk = bot_scheduler()
    evaluation = CronTrigger(hour=hour, minute=minute, timezone=UTC)
    scheduler.add_job(
        evaluate_and_publish,
        evaluation,
        args=[app, builder],
        id="evaluate",
        executor="bulk",
        coalesce=True,
        misfire_grace_time=3600,
    )

    def every(seconds: float, job: Any, *args: Any, executor: str = "default") -> None:
        """A repeating job that never overlaps itself and runs once after a missed stretch."""
        scheduler.add_job(
            job, "interval", seconds=seconds, args=args, id=job.__name__, executor=executor, coalesce=True,
            max_instances=1,
        )  # fmt: skip

    # The board follows the trackers' cycles: right after one in this process, or at the next change scan
    # after the tracker role (another process) has polled.
    in_process = role == "all" and tracker is None
    polled = PollMark(app, await app.gateway.read(last_poll)) if builder is not None and not in_process else None
    every(change_interval, announce_and_publish, app, builder, polled, executor="bulk")
    every(delivery_interval, deliver_console_round, app, notifier)
    if targets:
        every(delivery_interval, notify_targets_round, app, outside)

    async def after_cycle(report: CycleReport) -> None:
        if builder is not None:
            await app.gateway.job(publish_site, app, builder)

    tracking: TrackingJob | None = None
    child: TrackerProcess | None = None
    discord_runtime = None
    try:  # from the first thing started on: whatever fails below, everything started is stopped
        if role == "all" and tracker is not None:
            child = tracker if isinstance(tracker, TrackerProcess) else TrackerProcess(tracker)
            child.start()
        elif role == "all":
            tracking = start_tracking(app, scheduler, say=say, after_cycle=after_cycle)
        now = utcnow()
        first_poll = await app.gateway.job(next_poll, app, now)
        polling = (
            f"{len(app.settings.sources)} sources, each polled when due (next poll: {when_text(first_poll)})"
            + (" by the tracker process" if child is not None else "")
            if role == "all"
            else "sources polled by the tracker role (sunset run --role tracker)"
        )
        say(
            f"Schedule: {polling}; evaluation daily at {app.settings.trackers.evaluate_at} UTC "
            f"(next: {when_text(evaluation.get_next_fire_time(None, now))}); events delivered every "
            f"{delivery_interval:g} s; changes anywhere are announced within {change_interval:g} s."
        )
        scheduler.start()  # tracking and evaluation run even while Discord cannot be reached
        await start_health(app, stop, say=say, discord=lambda: discord_runtime)  # GET /healthz if [health] port
        if app.settings.discord_token is not None:
            from bot.discord.client import start_discord

            discord_runtime = await start_discord(
                app,
                scheduler,
                delivery_interval=delivery_interval,
                stop=stop,
                say=say,
                backoff=discord_backoff,
                may_deliver=lease.held,
            )
            if discord_runtime is not None:
                say("Connected to Discord: slash commands ready, alerts go to subscribed channels and DMs.")
        if not stop.is_set():
            say("Running. Press Ctrl-C to stop.")
        await stop.wait()
    finally:
        await stop_scheduler(scheduler, bulk)
        if tracking is not None:
            await tracking.close()
        if child is not None:
            await child.stop()
        if discord_runtime is not None:
            await discord_runtime.close()
        await lease.close()
        say("Stopped.")


async def run_tracker(app: App, stop: asyncio.Event, *, say: Callable[[str], None]) -> None:
    """The tracker role: poll the due sources every tick until `stop`; a cycle in flight gets its grace."""
    if os.environ.get(SUPERVISED) == "1":
        watch = asyncio.create_task(stop_when_parent_goes(stop), name="parent-watch")
    else:
        watch = None
    scheduler = AsyncIOScheduler(timezone=UTC)
    tracking = start_tracking(app, scheduler, say=say)
    if not app.settings.trackers.operator_contact_set:
        say(f"Note: {USER_AGENT_NOTE}.")
    say(
        f"Tracker role (pid {os.getpid()}): {len(app.settings.sources)} sources, each polled when due "
        f"(next poll: {when_text(await app.gateway.job(next_poll, app, utcnow()))})."
    )
    scheduler.start()
    try:
        await stop.wait()
    finally:
        scheduler.shutdown(wait=False)
        await tracking.close()
        if watch is not None:
            watch.cancel()
        say("Tracker role stopped.")


async def stop_when_parent_goes(stop: asyncio.Event) -> None:
    """Set `stop` when stdin (the supervising parent's pipe) reaches its end: the parent is gone."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    transport, _ = await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    try:
        while await reader.read(4096):
            pass
    finally:
        transport.close()
    log.warning("the supervising process is gone; the tracker role stops")
    stop.set()


def role_executor(app: App, role: Role) -> ThreadPoolExecutor:
    """The loop's default executor for a role: bounded, named after the role."""
    threads = app.settings.trackers.concurrency + TRACKER_EXTRA_THREADS if role == "tracker" else BOT_THREADS
    return ThreadPoolExecutor(max_workers=threads, thread_name_prefix=f"sunset-{role}")


def run_until_stopped(app: App, console: Console, *, role: Role = "all", tracker: Sequence[str] | None = None) -> None:
    """Run a role until SIGINT or SIGTERM, then stop cleanly."""

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        loop.set_default_executor(role_executor(app, role))
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await run(app, console, stop, role=role, tracker=tracker)

    asyncio.run(main())
