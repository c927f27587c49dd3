"""What `sunset track`, `sources`, `review` and `status --evidence` print: tables and a progress bar (rich)."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from bot.app import App
from bot.tracking import SourceView, open_tracker, track
from db.models import utcnow
from trackers.cycle import CycleReport, SourceReport
from trackers.review import Evidence, Pending

POLL_SECONDS = 60
STATUS_STYLE = {"ok": "green", "not_modified": "cyan", "error": "red", "paused": "bold red", "disabled": "magenta"}


async def track_with_progress(app: App, *, names: Sequence[str] | None, console: Console) -> CycleReport:
    """One cycle over the named sources (default: every active one) with a progress bar."""
    async with open_tracker(app) as tracker:
        selected = list(names) if names else tracker.active()
        with Progress(
            TextColumn("[bold]tracking"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        ) as progress:
            task = progress.add_task("", total=len(selected))

            def done(report: SourceReport) -> None:
                progress.update(task, advance=1, description=escape(report.name))

            return await track(app, tracker, names=selected, on_done=done)


async def track_until_stopped(app: App, *, console: Console) -> None:
    """Poll each source whenever it is due until Ctrl-C (the polling part of `sunset run`, without delivery)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    console.print("Tracking: each source is polled when due. Press Ctrl-C to stop.")
    async with open_tracker(app) as tracker:
        while not stop.is_set():
            if tracker.due(utcnow()):
                report = await track(app, tracker, stop=stop)
                console.print(cycle_table(report))
            try:
                await asyncio.wait_for(stop.wait(), POLL_SECONDS)
            except TimeoutError:
                continue
    console.print("Stopped.")


def cycle_table(report: CycleReport) -> Table:
    """The per-source table that ends a cycle: status, new models, changed models, items read, error."""
    table = Table(title=f"{len(report.sources)} sources polled, {len(report.announced)} new events")
    for column in ("Source", "Kind", "Status", "New", "Changed", "Items", "Error"):
        table.add_column(column, justify="right" if column in ("New", "Changed", "Items") else "left")
    for source in sorted(report.sources, key=lambda source: source.name):
        style = STATUS_STYLE.get(source.status, "")
        table.add_row(
            escape(source.name),
            source.kind,
            f"[{style}]{source.status}[/]" if style else source.status,
            str(source.new),
            str(source.changed),
            str(source.items),
            escape(_short(source.error)),
        )
    return table


def sources_table(views: Sequence[SourceView]) -> Table:
    """`sunset sources` as a table."""
    table = Table(title=f"{len(views)} sources")
    for column in ("Source", "Kind", "Lab", "Status", "Failures", "Last OK", "Next due", "Items", "Last error"):
        table.add_column(column)
    for view in views:
        style = STATUS_STYLE.get(view.status, "")
        table.add_row(
            escape(view.name),
            view.kind,
            view.lab or "—",
            f"[{style}]{view.status}[/]" if style else view.status,
            str(view.consecutive_failures),
            (view.last_ok_at or "—")[:16],
            (view.next_due_at or "—")[:16],
            str(view.items_seen),
            escape(_short(view.last_error)),
        )
    return table


def pending_dict(item: Pending) -> dict[str, Any]:
    """An unconfirmed model as JSON."""
    return {
        "slug": item.slug,
        "name": item.name,
        "lab": item.lab,
        "origin": item.origin,
        "first_seen": item.first_seen.isoformat(timespec="seconds"),
        "evidence": [{"fact": fact, "value": value, "url": url} for fact, value, url in item.evidence],
    }


def pending_table(items: Sequence[Pending]) -> Table:
    """`sunset review` as a table."""
    table = Table(title=f"{len(items)} unconfirmed models — sunset review confirm|merge|reject NAME")
    for column in ("Slug", "Name", "Lab", "Seen by", "First seen", "Evidence"):
        table.add_column(column)
    for item in items:
        facts = "; ".join(f"{fact}={value}" for fact, value, _ in item.evidence[:4])
        table.add_row(
            item.slug,
            escape(item.name),
            item.lab,
            escape(item.origin),
            item.first_seen.date().isoformat(),
            escape(_short(facts)),
        )
    return table


def evidence_dict(item: Evidence) -> dict[str, Any]:
    """One observation as JSON."""
    return {
        "fact": item.fact,
        "value": item.value,
        "source": item.origin,
        "rank": item.rank,
        "url": item.url,
        "seen_at": item.seen_at.isoformat(timespec="seconds"),
        "note": item.note,
    }


def evidence_table(items: Sequence[Evidence]) -> Table:
    """Every observation of a model, conflicts included (highest precedence first within each fact)."""
    table = Table(title="Evidence (rank: moderator 100, catalog 80, lab artefacts 60, announcements 40, datasets 20)")
    for column in ("Fact", "Value", "Source", "Rank", "URL", "Seen"):
        table.add_column(column, overflow="fold")
    for item in items:
        table.add_row(
            item.fact,
            escape(_short(item.value, 60)),
            escape(item.origin) + (f"\n[dim]{escape(_short(item.note, 120))}[/]" if item.note else ""),
            str(item.rank),
            escape(item.url),
            item.seen_at.date().isoformat(),
        )
    return table


def _short(text: str | None, limit: int = 80) -> str:
    if not text:
        return ""
    return text if len(text) <= limit else text[: limit - 1] + "…"
