"""`sunset run`: the long-running job. Schedules the trackers, the daily evaluation and the delivery of events."""

from __future__ import annotations

import asyncio
import functools
import logging
import signal
from collections import Counter
from collections.abc import Sequence
from datetime import UTC

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from rich.console import Console

from bot.app import App
from bot.console import ConsoleNotifier
from bot.delivery import CONSOLE_TARGET, Notifier, deliver_pending, ensure_console_subscription, fan_out
from bot.tracking import start_tracking
from trackers.assess import assess, released_by
from trackers.events import evaluate_all
from trackers.store import load_catalogue
from trackers.sunset import Status

log = logging.getLogger(__name__)

DELIVERY_INTERVAL_SECONDS = 30


def status_counts(app: App) -> Counter[Status]:
    """How many models are in each status today under the global policy."""
    on, policy = app.today(), app.settings.sunset.policy()
    with app.session() as session:
        catalogue = load_catalogue(session)
    return Counter(
        assess(record, policy, on).verdict.status for record in catalogue.records.values() if released_by(record, on)
    )


def evaluate_and_fan_out(app: App) -> int:
    """Reload changed catalog files, run the evaluation for today, and queue deliveries; returns new events."""
    app.load_catalog()
    with app.session() as session:
        catalogue = load_catalogue(session)
        announced = evaluate_all(session, catalogue.records.values(), app.settings.sunset.policy(), app.today())
        fan_out(session, announced)
    log.info("evaluation on=%s new_events=%d", app.today(), len(announced))
    return len(announced)


async def deliver_console(app: App, notifier: Notifier) -> int:
    """Send pending console deliveries."""
    with app.session() as session:
        return await deliver_pending(session, notifier, targets_prefix=CONSOLE_TARGET)


async def run(
    app: App,
    console: Console,
    stop: asyncio.Event,
    *,
    delivery_interval: float = DELIVERY_INTERVAL_SECONDS,
    discord_backoff: Sequence[float] | None = None,
) -> None:
    """Start-up summary, then the schedule (and Discord when a token is set), until `stop` is set."""
    notifier = ConsoleNotifier(console)
    with app.session() as session:
        ensure_console_subscription(session)
    evaluate_and_fan_out(app)
    counts, sunset = status_counts(app), app.settings.sunset
    console.print(
        f"Sunset Clause: {sum(counts.values())} models — {counts[Status.OVERDUE]} overdue, "
        f"{counts[Status.DUE_SOON]} due soon, {counts[Status.OPEN]} open, {counts[Status.IN_WINDOW]} in window, "
        f"{counts[Status.UNKNOWN]} unknown ({sunset.window_years}-year window, {sunset.profile} profile)."
    )
    if app.catalog_hint:
        console.print(f"Note: {app.catalog_hint}.", markup=False)
    await deliver_console(app, notifier)
    hour, minute = (int(part) for part in app.settings.trackers.evaluate_at.split(":"))
    scheduler = AsyncIOScheduler(timezone=UTC)
    scheduler.add_job(
        evaluate_and_fan_out,
        CronTrigger(hour=hour, minute=minute, timezone=UTC),
        args=[app],
        id="evaluate",
        coalesce=True,
        misfire_grace_time=3600,
    )
    scheduler.add_job(
        deliver_console,
        "interval",
        seconds=delivery_interval,
        args=[app, notifier],
        id="deliver",
        coalesce=True,
        max_instances=1,
    )
    tracking = start_tracking(app, scheduler)
    scheduler.start()  # tracking and evaluation run even while Discord cannot be reached
    discord_runtime = None
    try:
        if app.settings.discord_token is not None:
            from bot.discord.client import start_discord

            say = functools.partial(console.print, markup=False)
            discord_runtime = await start_discord(
                app, scheduler, delivery_interval=delivery_interval, stop=stop, say=say, backoff=discord_backoff
            )
            if discord_runtime is not None:
                console.print("Connected to Discord: slash commands ready, alerts go to subscribed channels and DMs.")
        if not stop.is_set():
            console.print("Running. Press Ctrl-C to stop.")
        await stop.wait()
    finally:
        scheduler.shutdown(wait=False)
        await tracking.close()
        if discord_runtime is not None:
            await discord_runtime.close()
        console.print("Stopped.")


def run_until_stopped(app: App, console: Console) -> None:
    """Run until SIGINT or SIGTERM, then stop cleanly."""

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await run(app, console, stop)

    asyncio.run(main())
