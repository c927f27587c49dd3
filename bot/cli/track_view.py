"""What `sunset track`, `sources`, `review` and `status --evidence` print: tables and a progress bar (rich)."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Sequence
from typing import Any

from rich.console import Console, JustifyMethod
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from bot.runtime.app import App
from bot.runtime.tracking import SourceView, open_tracker, track
from db.models import utcnow
from trackers import challenges
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
        justify: JustifyMethod = "right" if column in ("New", "Changed", "Items") else "left"
        table.add_column(column, justify=justify, no_wrap=column == "Status", overflow="fold")
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


# `sunset sources` columns: (title, shown on a terminal narrower than WIDE_COLUMNS).
WIDE_COLUMNS = 140
_SOURCE_COLUMNS = (
    ("Source", True), ("Kind", False), ("Lab", False), ("Status", True), ("Failures", True),
    ("Last OK", False), ("Next due", True), ("Items", False), ("Last error", True),
)  # fmt: skip


def sources_table(views: Sequence[SourceView], *, width: int = WIDE_COLUMNS) -> Table:
    """`sunset sources` as a table; on a narrow terminal only what tells a source's health."""
    shown = [narrow or width >= WIDE_COLUMNS for _, narrow in _SOURCE_COLUMNS]
    table = Table(title=f"{len(views)} sources" + ("" if all(shown) else " (wider terminal or --json: all fields)"))
    for (column, _), show in zip(_SOURCE_COLUMNS, shown, strict=True):
        if show:
            table.add_column(column, no_wrap=column in ("Status", "Failures", "Next due"), overflow="fold")
    for view in views:
        style = STATUS_STYLE.get(view.status, "")
        cells = (
            escape(view.name),
            view.kind,
            view.lab or "—",
            f"[{style}]{view.status}[/]" if style else view.status,
            str(view.consecutive_failures),
            (view.last_ok_at or "—")[:16],
            (view.next_due_at or "—")[:16] if all(shown) else _month_day_time(view.next_due_at),
            str(view.items_seen),
            escape(_short(view.last_error)),
        )
        table.add_row(*(cell for cell, show in zip(cells, shown, strict=True) if show))
    return table


def _month_day_time(moment: str | None) -> str:
    """'2026-11-28T15:25:00+00:00' → '11-28 15:25' (a narrow table's times are this year's or next)."""
    return f"{moment[5:10]} {moment[11:16]}" if moment else "—"


def pending_dict(item: Pending) -> dict[str, Any]:
    """An unconfirmed model as JSON."""
    return {
        "slug": item.slug,
        "name": item.name,
        "lab": item.lab,
        "origin": item.origin,
        "first_seen": item.first_seen.isoformat(timespec="seconds"),
        "evidence": [{"fact": fact, "value": value, "url": url} for fact, value, url in item.evidence],
        "similar": list(item.similar),
    }


def pending_table(items: Sequence[Pending]) -> Table:
    """`sunset review` as a table."""
    table = Table(title=f"{len(items)} unconfirmed models — sunset review confirm|merge|reject NAME")
    for column in ("Slug", "Name", "Lab", "Seen by", "First seen", "Evidence", "Close to (merge?)"):
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
            ", ".join(item.similar) or "—",
        )
    return table


def challenges_table(items: Sequence[challenges.Pending]) -> Table:
    """Open challenges beside the facts they dispute."""
    table = Table(title=f"{len(items)} open challenges — sunset review accept ID [--since DATE] | reject ID --reason …")
    for column in ("#", "Model", "Fact", "The record says", "Proposed", "Reporter"):
        table.add_column(column)
    for item in items:
        challenge = item.challenge
        current = "\n".join(f"{value} ({url})" for value, url in item.current) or "not recorded"
        proposed = f"{challenge.proposed} ({challenge.source_url})" + (f"\n{challenge.note}" if challenge.note else "")
        table.add_row(
            str(challenge.id),
            escape(item.name),
            challenge.fact,
            escape(current),
            escape(proposed),
            escape(challenge.reporter),
        )
    return table


def challenge_dict(item: challenges.Pending) -> dict[str, Any]:
    """An open challenge as JSON."""
    challenge = item.challenge
    return {
        "id": challenge.id,
        "model": item.slug,
        "name": item.name,
        "fact": challenge.fact,
        "current": [{"value": value, "url": url} for value, url in item.current],
        "proposed": challenge.proposed,
        "source": challenge.source_url,
        "note": challenge.note,
        "reporter": challenge.reporter,
        "created_at": challenge.created_at.isoformat(timespec="seconds"),
    }


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
