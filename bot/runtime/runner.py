"""`sunset run`: the long-running job. Schedules the trackers, the daily evaluation and the delivery of events."""

from __future__ import annotations

import asyncio
import functools
import logging
import signal
from collections import Counter
from collections.abc import Sequence
from datetime import UTC
from pathlib import Path
from typing import Any

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
from bot.runtime.tracking import next_poll, start_tracking, when_text
from bot.services.queries import stats
from bot.site.build import SiteBuilder
from db.models import Event, utcnow
from trackers.cycle import CycleReport
from trackers.events import evaluate_all, evaluate_changed
from trackers.sunset import Status

log = logging.getLogger(__name__)

DELIVERY_INTERVAL_SECONDS = 30
CHANGE_INTERVAL_SECONDS = 20  # a change anywhere reaches subscribers within this plus a delivery tick


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


def announce_and_publish(app: App, builder: SiteBuilder | None) -> int:
    """The change scan: announce what changed, then rebuild the board when anything was announced."""
    announced = announce_changes(app)
    if announced and builder is not None:
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


async def run(
    app: App,
    console: Console,
    stop: asyncio.Event,
    *,
    delivery_interval: float = DELIVERY_INTERVAL_SECONDS,
    change_interval: float = CHANGE_INTERVAL_SECONDS,
    discord_backoff: Sequence[float] | None = None,
) -> None:
    """Start-up summary, then the schedule (and Discord when a token is set), until `stop` is set.

    Everything it starts is event-loop code: its database work goes through `app.gateway`, and a session
    opened on the loop's thread fails (`SessionOnLoopError`).
    """
    forbid_sessions_on_loop()
    with loop_code():
        await _run(
            app,
            console,
            stop,
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
    delivery_interval: float,
    change_interval: float,
    discord_backoff: Sequence[float] | None,
) -> None:
    notifier = ConsoleNotifier(console)
    lease = DeliveryLease(app.engine, app.gateway)  # on PostgreSQL one process at a time delivers; others wait
    deliver_console_round, notify_targets_round = lease.gated(deliver_console), lease.gated(notify_targets)
    # Whole lines however narrow the terminal, and literal text: piped into a log, nothing wraps.
    say = functools.partial(console.print, soft_wrap=True, markup=False, highlight=False)
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
    if not app.settings.trackers.operator_contact_set:
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
    scheduler = AsyncIOScheduler(timezone=UTC)
    evaluation = CronTrigger(hour=hour, minute=minute, timezone=UTC)
    scheduler.add_job(
        evaluate_and_publish, evaluation, args=[app, builder], id="evaluate", coalesce=True, misfire_grace_time=3600
    )

    def every(seconds: float, job: Any, *args: Any) -> None:
        """A repeating job that never overlaps itself and runs once after a missed stretch."""
        scheduler.add_job(job, "interval", seconds=seconds, args=args, id=job.__name__, coalesce=True, max_instances=1)

    every(change_interval, announce_and_publish, app, builder)
    every(delivery_interval, deliver_console_round, app, notifier)
    if targets:
        every(delivery_interval, notify_targets_round, app, outside)

    async def after_cycle(report: CycleReport) -> None:
        if builder is not None:
            await app.gateway.job(publish_site, app, builder)

    tracking = start_tracking(app, scheduler, say=say, after_cycle=after_cycle)
    now = utcnow()
    first_poll = await app.gateway.job(next_poll, app, now)
    say(
        f"Schedule: {len(app.settings.sources)} sources, each polled when due (next poll: "
        f"{when_text(first_poll)}); evaluation daily at {app.settings.trackers.evaluate_at} UTC "
        f"(next: {when_text(evaluation.get_next_fire_time(None, now))}); events delivered every "
        f"{delivery_interval:g} s; changes anywhere are announced within {change_interval:g} s."
    )
    scheduler.start()  # tracking and evaluation run even while Discord cannot be reached
    discord_runtime = None
    try:
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
        scheduler.shutdown(wait=False)
        await tracking.close()
        if discord_runtime is not None:
            await discord_runtime.close()
        await lease.close()
        say("Stopped.")


def run_until_stopped(app: App, console: Console) -> None:
    """Run until SIGINT or SIGTERM, then stop cleanly."""

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await run(app, console, stop)

    asyncio.run(main())
