"""The `sunset` command line. Each command parses, calls one service function, and renders."""

from __future__ import annotations

import json
import logging
import os
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from trackers.records import Level
from trackers.sunset import WINDOW_MAX, WINDOW_MIN, Policy, Profile, Status

# Each command imports what it needs in its body: `sunset --help` and the quick commands must not pay for
# SQLAlchemy, Alembic, aiohttp or discord.py (tests/bot/test_cli_startup.py checks it).
if TYPE_CHECKING:
    from sqlmodel import Session

    from bot.runtime.app import App
    from bot.runtime.config import Settings
    from bot.services import queries
    from trackers.assess import Assessment
    from trackers.catalog import epoch
    from trackers.cycle import CycleReport
    from trackers.store.models import Catalogue

app = typer.Typer(
    name="sunset",
    help="Sunset Clause: a sourced record of AI models, and when each should be opened.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)
db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True)
catalog_app = typer.Typer(help="The bundled catalog of models.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(catalog_app, name="catalog")
site_app = typer.Typer(help="The Sunset Board: the record as a static website, JSON API, feeds and calendars.")
app.add_typer(site_app, name="site", no_args_is_help=True)

out = Console(highlight=False, soft_wrap=False)
log = logging.getLogger("bot")

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
OnOption = Annotated[str | None, typer.Option("--on", help="Evaluate as of this date (YYYY-MM-DD); default today.")]
WindowOption = Annotated[int | None, typer.Option("--window", help=f"Window in years ({WINDOW_MIN}-{WINDOW_MAX}).")]
ProfileOption = Annotated[str | None, typer.Option("--profile", help="What counts as opened: weights | strict.")]


def fail(message: str, code: int = 2) -> NoReturn:
    """End the program with one clear line on stderr."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def _print_version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"sunset-clause {version('sunset-clause')}")
        raise typer.Exit()


@app.callback()
def main_options(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option("--config", help="Config file (default: $SUNSET_CONFIG, ./config.toml, the user config file)."),
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log more.")] = False,
    version: Annotated[
        bool, typer.Option("--version", help="Print the version and exit.", is_eager=True, callback=_print_version)
    ] = False,
) -> None:
    """Sunset Clause: a sourced record of AI models, and when each should be opened."""
    from bot.runtime.config import ConfigError, config_path, load_settings

    try:
        settings = load_settings(config)
    except ConfigError as error:
        fail(str(error))
    ctx.meta["config_path"] = config_path(config, os.environ)
    ctx.meta["config_option"] = config
    logging.basicConfig(
        # One-shot commands stay quiet unless asked; `sunset run` raises this to the configured level.
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # urllib3 logs request paths at DEBUG and Apprise its URLs: webhook paths carry tokens.
    for noisy in ("alembic", "apscheduler", "httpx", "urllib3", "apprise"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    logging.getLogger("discord.client").addFilter(_no_voice_warning)
    ctx.obj = settings


def _no_voice_warning(record: logging.LogRecord) -> bool:
    """The bot never joins voice, so discord.py's 'PyNaCl/davey is not installed' warnings are noise."""
    return "voice will NOT be supported" not in record.getMessage()


def _policy(settings: Settings, window: int | None, profile: str | None) -> Policy:
    if window is not None and not WINDOW_MIN <= window <= WINDOW_MAX:
        fail(f"--window must be a whole number of years from {WINDOW_MIN} to {WINDOW_MAX} (got {window})")
    if profile is not None and profile not in {p.value for p in Profile}:
        fail(f"--profile must be one of: {', '.join(p.value for p in Profile)} (got {profile!r})")
    return Policy(
        window_years=window or settings.sunset.window_years,
        profile=Profile(profile) if profile else settings.sunset.profile,
        lead_days=tuple(settings.sunset.lead_days),
    )


def _on(text: str | None) -> date:
    from bot.runtime.app import today_utc

    if text is None:
        return today_utc()
    try:
        return date.fromisoformat(text)
    except ValueError:
        fail(f"--on must be a date as YYYY-MM-DD (got {text!r})")


def _emit_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False))


def _complete_model(ctx: typer.Context, incomplete: str) -> list[str]:
    """Shell completion of model names: the slugs of the closest matches in the database."""
    from sqlmodel import Session

    from bot.runtime.config import load_settings
    from bot.services import queries
    from db.engine import make_engine

    try:
        settings = load_settings(ctx.find_root().params.get("config"))
        engine = make_engine(settings.database.resolved_url())
        try:
            with Session(engine) as session:
                choices = queries.load_name_index(session).search(incomplete, 25)
        finally:
            engine.dispose()
    except Exception:  # a completion must never print a traceback into the user's shell
        return []
    return [choice.value for choice in choices]


ModelArgument = Annotated[
    str, typer.Argument(help="Model name, slug or alias (e.g. 'GPT-3').", autocompletion=_complete_model)
]


@app.command()
def status(
    ctx: typer.Context,
    name: ModelArgument,
    as_json: JsonOption = False,
    on: OnOption = None,
    window: WindowOption = None,
    profile: ProfileOption = None,
    show_evidence: Annotated[
        bool, typer.Option("--evidence", help="Also list every observation: value, source, URL, when seen.")
    ] = False,
) -> None:
    """Show one model: release, openness, sunset date and status, with sources."""
    from bot.cli import quick
    from bot.services import queries
    from trackers import review

    policy, when = _policy(ctx.obj, window, profile), _on(on)
    with _app_context(ctx) as application, application.session() as session:
        try:
            found = queries.model_card(session, name, policy, when)
        except queries.NotFoundError as error:
            _unknown_model(name, error.suggestions, as_json, application.catalog_hint)
        observations = review.evidence(session, found.card.slug) if show_evidence else []
        if ctx.meta.get("config_option") is None:  # the quick path never reads a `--config` file
            quick.remember(ctx.obj, application.catalog_dirs())  # the next `sunset status NAME` may skip all this
    result = found.card.to_json()
    if show_evidence:
        from bot.cli.track_view import evidence_dict, evidence_table  # the rich tables of `track` and `review`

        result["evidence"] = [evidence_dict(item) for item in observations]
    if as_json:
        _emit_json(result)
    else:
        from bot.cli.status_view import print_status

        print_status(found.card, out)
        if show_evidence:
            out.print(evidence_table(observations))


def _unknown_model(name: str, suggestions: tuple[str, ...], as_json: bool, catalog_hint: str | None) -> NoReturn:
    from bot.services import queries

    if as_json:
        hint = catalog_hint or queries.ADD_MODEL_HINT
        _emit_json({"error": "unknown model", "query": name, "suggestions": list(suggestions), "hint": hint})
    else:
        hint = f" Did you mean: {', '.join(suggestions)}?" if suggestions else ""
        hint += f" (Note: {catalog_hint}.)" if catalog_hint else f" {queries.ADD_MODEL_HINT}."
        typer.echo(f"error: no model called {name!r}.{hint}", err=True)
    raise typer.Exit(1)


@app.command("list")
def list_models(
    ctx: typer.Context,
    status_filter: Annotated[
        str | None, typer.Option("--status", help="open | in_window | due_soon | overdue | unknown")
    ] = None,
    lab: Annotated[
        list[str] | None, typer.Option("--lab", help="Only this lab: slug, name or Hub organisation (repeatable).")
    ] = None,
    notable: Annotated[bool, typer.Option("--notable", help="Only models in Epoch AI's notable-models data.")] = False,
    sort: Annotated[
        str, typer.Option("--sort", help="notable (most notable, then longest overdue) | sunset | name")
    ] = "notable",
    level: Annotated[str | None, typer.Option("--level", help="Only this openness level: L0 … L4.")] = None,
    limit: LimitOption = None,
    as_json: JsonOption = False,
    on: OnOption = None,
    window: WindowOption = None,
    profile: ProfileOption = None,
) -> None:
    """List models with their status, the most notable first (Epoch AI's criteria, then citations)."""
    from bot.services import queries

    if sort not in SORTS:
        fail(f"--sort must be one of: {', '.join(SORTS)} (got {sort!r})")
    if status_filter is not None and status_filter not in {s.value for s in Status}:
        fail(f"--status must be one of: {', '.join(s.value for s in Status)} (got {status_filter!r})")
    levels = [item.value for item in Level]
    if level is not None and level.upper() not in levels:
        fail(f"--level must be one of: {', '.join(levels)} (got {level!r})")
    policy, when = _policy(ctx.obj, window, profile), _on(on)
    with _app_context(ctx) as application, application.session() as session:
        cards = queries.model_list(
            session,
            policy,
            when,
            status=Status(status_filter) if status_filter else None,
            labs=_resolve_labs(session, lab or []),
            notable_only=notable,
            level=Level(level.upper()) if level else None,
            sort=sort,  # type: ignore[arg-type]  # checked against SORTS above
            limit=limit,
        )
    if as_json:
        _emit_json([card.to_json() for card in cards])
        return
    table = Table(title=f"{len(cards)} models — {policy.window_years}-year window, {policy.profile} profile, on {when}")
    for column in ("Model", "Lab", "Released", "Level", "Sunset", "Status"):
        table.add_column(column)
    for card in cards:
        sunset = card.sunset_date.isoformat() if card.sunset_date else "—"
        table.add_row(card.name, card.lab, card.first_release or "unknown", card.level.value, sunset, card.status_text)
    out.print(table)


def _resolve_labs(session: Session, texts: list[str]) -> set[str]:
    """The slugs `--lab` names, with the labs below each (said on stderr); one that matches nothing ends the
    program with suggestions (exit 2)."""
    from bot.services import queries
    from trackers.store.labs import lab_and_children

    slugs: set[str] = set()
    for text in texts:
        try:
            slug = queries.resolve_lab(session, text)
        except queries.NotFoundError as error:
            hint = f"; did you mean: {', '.join(error.suggestions)}?" if error.suggestions else ""
            fail(f"--lab: no lab called {text!r}{hint} (see `sunset labs`)")
        family = lab_and_children(session, slug=slug)
        slugs |= family.slugs
        if family.children:
            below = ", ".join(f"{name} ({child})" for child, name in family.children)
            typer.echo(f"note: --lab {text} includes its child labs (see `sunset labs`): {below}", err=True)
        for other, name in queries.labs_also_named(session, text, slug):
            if other not in slugs and other not in texts:
                typer.echo(f"note: {name} is a separate lab; add --lab {other} to include it", err=True)
    return slugs


@app.command()
def labs(ctx: typer.Context, as_json: JsonOption = False, on: OnOption = None) -> None:
    """List the labs as a tree (a lab under the one it is part of): slug (for --lab), name, Hub organisations,
    models, overdue and open."""
    from bot.services import queries
    from trackers.store.labs import lab_parents

    policy, when = _policy(ctx.obj, None, None), _on(on)
    with _app_context(ctx) as application, application.session() as session:
        summaries = queries.lab_summaries(session, policy, when)
        parents = lab_parents(session)
    tree = _as_tree(summaries, parents)
    if as_json:
        _emit_json(
            [asdict(item) | {"hf_orgs": list(item.hf_orgs), "parent": parents.get(item.slug)} for _, item in tree]
        )
        return
    table = Table(title=f"{len(summaries)} labs — {policy.window_years}-year window, on {when}")
    for column in ("Slug", "Name", "Hub organisations", "Models", "Overdue", "Open"):
        table.add_column(column, justify="right" if column in ("Models", "Overdue", "Open") else "left")
    for depth, item in tree:
        name = f"{'  ' * (depth - 1)}└ {escape(item.name)}" if depth else escape(item.name)
        cells = (item.slug, name, ", ".join(item.hf_orgs) or "—", item.models, item.overdue, item.open)
        table.add_row(*map(str, cells))
    out.print(table)


def _as_tree(summaries: list[queries.LabSummary], parents: dict[str, str]) -> list[tuple[int, queries.LabSummary]]:
    """Labs in their given order, each followed by the labs that are part of it (depth first, with depths)."""
    known = {item.slug for item in summaries}
    children: dict[str | None, list[queries.LabSummary]] = {}
    for item in summaries:
        parent = parents.get(item.slug)
        children.setdefault(parent if parent in known and parent != item.slug else None, []).append(item)
    tree: list[tuple[int, queries.LabSummary]] = []
    placed: set[str] = set()

    def place(parent: str | None, depth: int) -> None:
        for item in children.get(parent, []):
            if item.slug not in placed:  # a loop in the data is shown once, never followed forever
                placed.add(item.slug)
                tree.append((depth, item))
                place(item.slug, depth + 1)

    place(None, 0)
    tree += [(0, item) for item in summaries if item.slug not in placed]  # labs caught in a loop of parents
    return tree


def _by_sunset(assessment: Assessment) -> tuple[date, str]:
    return (assessment.verdict.sunset_date or date.max, assessment.record.name.casefold())


def _by_name(assessment: Assessment) -> str:
    return assessment.record.name.casefold()


SORTS = ("notable", "sunset", "name")


def _sort_key(sort: str) -> Callable[[Assessment], Any]:
    """The key of `--sort`: most notable first (then longest overdue), by sunset date, or by name."""
    from bot.present.assessment import notable_first

    return {"notable": notable_first, "sunset": _by_sunset, "name": _by_name}[sort]


@contextmanager
def _app_context(ctx: typer.Context) -> Iterator[App]:
    """Open the app; a broken catalog file becomes one line and exit 2."""
    from bot.runtime.app import open_app
    from trackers.catalog import CatalogError

    try:
        with open_app(ctx.obj) as application:
            yield application
    except CatalogError as error:
        fail(f"catalog: {error}")


@db_app.command("upgrade")
def db_upgrade(ctx: typer.Context) -> None:
    """Apply database migrations (also done automatically at start-up)."""
    from bot.runtime.app import open_app
    from db.engine import redacted
    from db.migrate import current_revision

    settings: Settings = ctx.obj
    with open_app(settings, load_catalog=False) as application:
        revision = current_revision(application.engine)
    typer.echo(f"database {redacted(settings.database.resolved_url())} is at revision {revision}")


@catalog_app.command("check")
def catalog_check(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="Only these lab files (checked against the whole catalog).")
    ] = None,
) -> None:
    """Validate every catalog file (or the ones named) and report missing or inconsistent facts."""
    from bot.runtime.app import today_utc
    from trackers.catalog import CatalogError, epoch
    from trackers.catalog.lab_files import check_catalog, load_catalog, read_lab_file

    try:
        files = load_catalog()
        named = {read_lab_file(path).path.name for path in paths or []}
    except CatalogError as error:
        fail(str(error), code=1)
    problems = check_catalog(files, today_utc())
    if named:
        problems = [problem for problem in problems if problem.file in named]
    else:
        problems += epoch.epoch_problems(files, epoch.read_snapshot(), _exclusions())
    for problem in sorted(problems, key=lambda problem: problem.warning):
        typer.echo(str(problem))
    checked = [f for f in files if not named or f.path.name in named]
    models = sum(len(f.content.models) for f in checked)
    errors = sum(not problem.warning for problem in problems)
    typer.echo(f"{len(checked)} files, {models} models: {errors} errors, {len(problems) - errors} warnings")
    if errors:
        raise typer.Exit(1)


def _exclusions() -> list[epoch.Exclusion]:
    from trackers.catalog import CatalogError, epoch

    try:
        return epoch.read_exclusions()
    except CatalogError as error:
        fail(str(error), code=1)


@app.command()
def run(
    ctx: typer.Context,
    role: Annotated[
        str,
        typer.Option(
            "--role",
            help="all: the bot here and the trackers in a child process it supervises (default); "
            "bot: commands, delivery, evaluation and the board only; tracker: only the trackers.",
        ),
    ] = "all",
) -> None:
    """Run the bot: load the catalog, evaluate daily, and announce new events (Ctrl-C stops it)."""
    from bot.runtime.app import DiscordLoginError, open_app
    from bot.runtime.config import ConfigError
    from bot.runtime.runner import ROLES, run_until_stopped, tracker_command
    from trackers.catalog import CatalogError

    if role not in ROLES:
        fail(f"--role must be one of {', '.join(ROLES)} (got {role!r})")
    settings: Settings = ctx.obj
    root = logging.getLogger()
    root.setLevel(min(root.level, getattr(logging, settings.logging.level)))
    # The bot role loads the catalog; the tracker role leaves that to it (and to its catalog source).
    try:
        with open_app(settings, load_catalog=role != "tracker") as application:
            child = tracker_command(ctx.meta.get("config_path")) if role == "all" else None
            run_until_stopped(application, out, role=role, tracker=child)
    except CatalogError as error:
        fail(f"catalog: {error}")
    except (ConfigError, DiscordLoginError) as error:
        fail(str(error))


@catalog_app.command("stats")
def catalog_stats(ctx: typer.Context, as_json: JsonOption = False, on: OnOption = None) -> None:
    """Coverage of the catalog: models by lab, decade, level and status."""
    from bot.present.assessment import coverage
    from trackers.store.models import load_catalogue

    policy, when = _policy(ctx.obj, None, None), _on(on)
    with _app_context(ctx) as application, application.session() as session:
        catalogue = load_catalogue(session)
    stats = coverage(catalogue, policy, when)
    stats["epoch"] = _epoch_coverage(catalogue)
    if as_json:
        _emit_json(stats)
        return
    out.print(
        f"{stats['models']} models from {len(stats['by_lab'])} labs, on {when} ({policy.window_years}-year window)"
    )
    for title in ("by_status", "by_level", "by_decade", "by_lab"):
        table = Table(title=title.replace("_", " "), title_justify="left")
        table.add_column("")
        table.add_column("models", justify="right")
        for key, count in stats[title].items():
            table.add_row(str(key), str(count))
        out.print(table)
    _print_epoch_coverage(stats["epoch"])


def _epoch_coverage(catalogue: Catalogue) -> dict[str, Any]:
    """Per release year: catalog models, and Epoch's notable rows covered, excluded and unaccounted."""
    from trackers.catalog import epoch

    names = epoch.names_of((r.slug, (r.name, *r.aliases)) for r in catalogue.records.values())
    accounts = epoch.account(epoch.read_snapshot(), names, _exclusions())
    models = Counter(record.first_release.year for record in catalogue.records.values() if record.first_release)
    years = epoch.coverage_by_year(accounts)
    rows = {
        year: {"models": models.get(year, 0), "epoch_rows": sum(counts.values())}
        | {state: counts.get(state, 0) for state in ("covered", "excluded", "unaccounted")}
        for year, counts in sorted(years.items())
    }
    cohort = [rows[year] for year in epoch.COHORT if year in rows]
    summary = {
        key: sum(row[key] for row in cohort) for key in ("models", "epoch_rows", "covered", "excluded", "unaccounted")
    }
    return {
        "snapshot": epoch.SNAPSHOT_TAKEN,
        "attribution": epoch.ATTRIBUTION,
        "cohort_2012_2017": summary,
        "by_year": rows,
    }


def _print_epoch_coverage(coverage_: dict[str, Any]) -> None:
    table = Table(
        title=f"Epoch AI notable models (snapshot {coverage_['snapshot']}) by release year", title_justify="left"
    )
    for column in ("year", "catalog models", "Epoch rows", "covered", "excluded", "unaccounted"):
        table.add_column(column, justify="right")
    for year, row in coverage_["by_year"].items():
        if int(year) >= 2010:
            cells = (row["models"], row["epoch_rows"], row["covered"], row["excluded"], row["unaccounted"])
            table.add_row(str(year), *map(str, cells))
    cohort = coverage_["cohort_2012_2017"]
    table.add_row(
        "2012–2017",
        *map(str, (cohort[key] for key in ("models", "epoch_rows", "covered", "excluded", "unaccounted"))),
        style="bold",
    )
    out.print(table)
    out.print(f"Data: {coverage_['attribution']}", soft_wrap=True)


SourceOption = Annotated[list[str] | None, typer.Option("--source", help="Only this source (repeatable).")]


@app.command()
def track(
    ctx: typer.Context,
    once: Annotated[bool, typer.Option("--once", help="One cycle over every active source now, then exit.")] = False,
    source: SourceOption = None,
    allow_failures: Annotated[
        bool, typer.Option("--allow-failures", help="With --once or --source: exit 0 even when a source failed.")
    ] = False,
) -> None:
    """Poll the sources: one cycle now with --once (or --source), else whenever each is due until Ctrl-C.

    A one-shot cycle exits 1 when any polled source failed (so cron can tell), unless --allow-failures.
    """
    import asyncio

    from bot.cli.track_view import cycle_table, track_until_stopped, track_with_progress
    from bot.runtime.config import USER_AGENT_NOTE

    settings: Settings = ctx.obj
    known = {spec.name for spec in settings.sources}
    unknown = [name for name in source or [] if name not in known]
    if unknown:
        fail(f"no source called {', '.join(map(repr, unknown))} (see `sunset sources`)")
    with _app_context(ctx) as application:
        if not settings.trackers.operator_contact_set:
            typer.echo(f"note: {USER_AGENT_NOTE}", err=True)
        if once or source:
            report = asyncio.run(track_with_progress(application, names=source, console=out))
            out.print(cycle_table(report))
            _exit_on_failed_sources(report, tolerate=allow_failures)
            return
        root = logging.getLogger()
        root.setLevel(min(root.level, getattr(logging, settings.logging.level)))
        asyncio.run(track_until_stopped(application, console=out))


def _exit_on_failed_sources(report: CycleReport, *, tolerate: bool) -> None:
    """One line on stderr naming the sources that failed; exit 1 unless failures are tolerated."""
    failed = [source for source in report.sources if source.status not in SOURCE_SUCCESS]
    if not failed:
        return
    names = ", ".join(sorted(source.name for source in failed))
    level = "warning" if tolerate else "error"
    typer.echo(f"{level}: {len(failed)} of {len(report.sources)} sources failed: {names}", err=True)
    if not tolerate:
        raise typer.Exit(1)


SOURCE_SUCCESS = frozenset({"ok", "not_modified"})


@app.command()
def sources(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """List the configured sources and their health: status, last error, failures, last success, next poll."""
    from bot.cli.track_view import sources_table
    from bot.runtime.tracking import source_views

    with _app_context(ctx) as application:
        views = source_views(application)
    if as_json:
        _emit_json([view.as_dict() for view in views])
        return
    out.print(sources_table(views, width=out.width))


@app.command()
def subscriptions(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """List every alert subscription and its health: paused ones first, with the reason and failed deliveries."""
    from bot.services.community import subscription_health

    with _app_context(ctx) as application, application.session() as session:
        health = subscription_health(session)
    if as_json:
        _emit_json(
            [
                {
                    "id": item.info.id,
                    "target": item.info.target,
                    "guild_id": item.guild_id,
                    "scope": item.info.scope,
                    "value": item.info.scope_value,
                    "events": list(item.info.kinds) or "default",
                    "status": "paused" if item.info.paused else "active",
                    "reason": item.info.pause_reason,
                    "waiting": item.waiting,
                    "failed": item.failed,
                    "last_error": item.last_error,
                }
                for item in health
            ]
        )
        return
    table = Table(title=f"{len(health)} subscriptions")
    for column in ("#", "Target", "Scope", "Status", "Waiting", "Failed", "Reason or last error"):
        table.add_column(column, overflow="fold")
    for item in health:
        info = item.info
        scope = f"{info.scope} {info.scope_value}" if info.scope_value else info.scope
        status = "[red]paused[/red]" if info.paused else "active"
        reason = escape(info.pause_reason or item.last_error or "")
        table.add_row(str(info.id), info.target, escape(scope), status, str(item.waiting), str(item.failed), reason)
    out.print(table)


@app.command()
def notifications(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """List the [[notifications]] targets and their health: status, reason or last error, deliveries (URLs redacted)."""
    from bot.outbox.apprise_notifier import describe_targets
    from bot.outbox.notifications import notification_health

    settings: Settings = ctx.obj
    targets = describe_targets(settings.notifications)
    with _app_context(ctx) as application, application.session() as session:
        health = notification_health(session, targets)
    known = {item.name for item in health}
    waiting = [name for name in targets if name not in known]  # configured since the last `sunset run`
    if as_json:
        rows = [item.as_dict() for item in health]
        rows += [{"name": name, "url": targets[name].shown, "status": "not started"} for name in waiting]
        _emit_json(rows)
        return
    table = Table(title=f"{len(health) + len(waiting)} notification targets")
    for column in ("Name", "URL", "Events", "Status", "Waiting", "Failed", "Sent", "Reason or last error"):
        table.add_column(column, overflow="fold")
    for item in health:
        status = "[red]paused[/red]" if item.status == "paused" else "active"
        reason = escape(item.reason or item.last_error or "")
        events = escape(_events_label(item.events))
        cells = (str(item.waiting), str(item.failed), str(item.sent))
        table.add_row(escape(item.name), escape(item.shown), events, status, *cells, reason)
    for name in waiting:
        table.add_row(
            escape(name), escape(targets[name].shown), "", "not started", "", "", "", "starts with `sunset run`"
        )
    out.print(table)


def _events_label(events: tuple[str, ...]) -> str:
    from bot.runtime.config import ALERT_EVENTS, DEFAULT_EVENTS

    named = {ALERT_EVENTS: "all", DEFAULT_EVENTS: "default"}
    return named.get(events) or ", ".join(events)


review_app = typer.Typer(help="Models the trackers found that wait for a moderator.", invoke_without_command=True)
app.add_typer(review_app, name="review")


@review_app.callback()
def review_list(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """List unconfirmed models (confirm, merge into an existing model, or reject each)."""
    from bot.cli.track_view import challenges_table, pending_dict, pending_table
    from trackers import challenges, review

    if ctx.invoked_subcommand is not None:
        return
    with _app_context(ctx) as application, application.session() as session:
        waiting = review.pending(session)
        disputed = challenges.pending(session)
    if as_json:
        _emit_json([pending_dict(item) for item in waiting])
        return
    out.print(pending_table(waiting))
    out.print(challenges_table(disputed))


@review_app.command("challenges")
def review_challenges(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Open challenges to facts, each beside the record's current claims and their sources."""
    from bot.cli.track_view import challenge_dict, challenges_table
    from trackers import challenges

    with _app_context(ctx) as application, application.session() as session:
        disputed = challenges.pending(session)
    if as_json:
        _emit_json([challenge_dict(item) for item in disputed])
        return
    out.print(challenges_table(disputed))


@review_app.command("accept")
def review_accept(
    ctx: typer.Context,
    challenge_id: Annotated[int, typer.Argument(help="The challenge's number.")],
    since: Annotated[
        str | None,
        typer.Option("--since", help="Record the value as a change on this date (YYYY-MM-DD) instead of at release."),
    ] = None,
    by: Annotated[str, typer.Option("--by", help="The moderator's name, kept with the evidence.")] = "moderator",
) -> None:
    """Accept a challenge: the catalog file is edited (the challenge kept as evidence) and loaded again."""
    from db.models import utcnow
    from trackers import challenges
    from trackers.catalog import CatalogError

    when = _on(since) if since else None
    with _app_context(ctx) as application, application.session() as session:
        try:
            challenges.accept(
                session, challenge_id, moderator=by, now=utcnow(), catalog_dirs=application.catalog_dirs(), since=when
            )
        except (challenges.ChallengeError, CatalogError) as error:
            fail(str(error), code=1)
        session.commit()
    typer.echo(f"accepted challenge #{challenge_id}; the catalog file changed: review and commit it")


@review_app.command("reject")
@review_app.command("confirm")
def review_confirm(ctx: typer.Context, name: Annotated[str, typer.Argument(help="Unconfirmed model.")]) -> None:
    """Confirm a model: it becomes visible everywhere and its 'new model' event is announced."""
    from bot.outbox.delivery import fan_out
    from db.models import utcnow
    from trackers import review

    with _app_context(ctx) as application, application.session() as session:
        try:
            announced = review.confirm(session, name, utcnow())
        except review.ReviewError as error:
            fail(str(error), code=1)
        fan_out(session, announced)
    typer.echo(f"confirmed {name}")


@review_app.command("merge")
def review_merge(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Unconfirmed model.")],
    into: Annotated[str, typer.Argument(help="The existing model it is another name for.")],
) -> None:
    """Merge an unconfirmed model into an existing one: its name becomes an alias, its evidence moves over."""
    from db.models import utcnow
    from trackers import review

    with _app_context(ctx) as application, application.session() as session:
        try:
            target = review.merge(session, name, into, utcnow())
        except review.ReviewError as error:
            fail(str(error), code=1)
        session.commit()
    typer.echo(f"merged {name} into {target.slug}")


@review_app.command("reject")
def review_reject(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Unconfirmed model, or a challenge's number.")],
    reason: Annotated[
        str | None, typer.Option("--reason", help="Why (required for a challenge: the reporter is told).")
    ] = None,
    by: Annotated[str, typer.Option("--by", help="The moderator's name.")] = "moderator",
) -> None:
    """Reject a name (it stays hidden and the trackers never create it again) or a challenge (with --reason)."""
    from db.models import utcnow
    from trackers import challenges, review

    with _app_context(ctx) as application, application.session() as session:
        try:
            if name.isdigit():
                challenges.reject(session, int(name), moderator=by, reason=reason or "", now=utcnow())
            else:
                review.reject(session, name, utcnow())
        except (review.ReviewError, challenges.ChallengeError) as error:
            fail(str(error), code=1)
        session.commit()
    typer.echo(f"rejected {'challenge #' * name.isdigit()}{name}")


# trackers.challenges.FACTS, spelt out because importing that module costs SQLAlchemy (a test keeps them equal).
CHALLENGE_FACTS = ("released", "access", "license", "training_code", "training_data", "checkpoints")


@app.command()
def report(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The model (name, slug or alias).")],
    fact: Annotated[str, typer.Option("--fact", help=f"The disputed fact: {', '.join(CHALLENGE_FACTS)}.")],
    value: Annotated[str, typer.Option("--value", help="What it should say (a date, an access value, a licence…).")],
    source: Annotated[str, typer.Option("--source", help="The URL that shows it.")],
    note: Annotated[str | None, typer.Option("--note", help="Anything a moderator should know.")] = None,
    by: Annotated[str | None, typer.Option("--by", help="Your name, shown to moderators.")] = None,
) -> None:
    """Challenge a fact: it goes to the review queue beside the record's current claim and its sources."""
    import getpass

    from db.models import utcnow
    from trackers import challenges

    reporter = f"cli:{by or getpass.getuser()}"
    with _app_context(ctx) as application, application.session() as session:
        try:
            challenge = challenges.submit(
                session, name=name, fact=fact, value=value, source=source, note=note, reporter=reporter, now=utcnow()
            )
        except challenges.ChallengeError as error:
            fail(str(error), code=1)
        session.commit()
    typer.echo(f"challenge #{challenge.id} is in the review queue (sunset review)")


@review_app.command("stale")
def review_stale(
    ctx: typer.Context,
    days: Annotated[int, typer.Option("--days", min=1, help="Age after which a verification is stale.")] = 180,
    as_json: JsonOption = False,
) -> None:
    """Overdue or due-soon models whose verification is missing or older than --days: check them again."""
    from bot.runtime.app import today_utc
    from trackers import review
    from trackers.store.models import load_catalogue

    when = today_utc()
    with _app_context(ctx) as application, application.session() as session:
        catalogue = load_catalogue(session)
    stale = review.stale_verifications(catalogue.records.values(), when, days=days)
    if as_json:
        _emit_json(
            [
                {"slug": r.slug, "name": r.name, "verified_on": r.verified.on.isoformat() if r.verified else None}
                | {"age_days": age}
                for r, age in stale
            ]
        )
        return
    table = Table(title=f"{len(stale)} accusations to check again (verification missing or over {days} days old)")
    for column in ("Model", "Lab", "Verified", "Age"):
        table.add_column(column)
    for record, age in stale:
        verified = record.verified.on.isoformat() if record.verified else "never"
        table.add_row(record.name, catalogue.lab_name(record), verified, f"{age} days" if age is not None else "—")
    out.print(table)


def _site_folder(settings: Settings, folder: Path | None) -> Path:
    if folder is not None:
        return folder
    if settings.site.output_dir:
        return Path(settings.site.output_dir)
    fail("give a folder (sunset site build DIR) or set [site] output_dir in the config")


@site_app.command("build")
def site_build(
    ctx: typer.Context,
    folder: Annotated[
        Path | None, typer.Argument(help="Where to write the board (default: [site] output_dir).")
    ] = None,
    base_url: Annotated[
        str | None, typer.Option("--base-url", help="Where it will be published (default: [site] base_url).")
    ] = None,
    on: OnOption = None,
    window: WindowOption = None,
    profile: ProfileOption = None,
) -> None:
    """Write the whole board (pages, API, feeds, calendars, badges) as static files for any static host."""
    from bot.site.build import build_site

    settings: Settings = ctx.obj
    target, policy, when = _site_folder(settings, folder), _policy(settings, window, profile), _on(on)
    url = settings.site.base_url if base_url is None else base_url
    if url and not url.startswith(("https://", "http://")):
        fail(f"--base-url must be an absolute http(s) URL (got {url!r})")
    with _app_context(ctx) as application, application.session() as session:
        report = build_site(session, target, policy=policy, on=when, base_url=url.rstrip("/") + "/" if url else "")
    changes = f"{report.write.written} written, {report.write.unchanged} unchanged, {report.write.removed} removed"
    typer.echo(f"built {target}: {report.models} models, {report.files} files ({changes}) in {report.seconds:.1f}s")
    if not url:
        typer.echo("note: no base URL, so the sitemap and feeds use relative links (set [site] base_url or --base-url)")


@site_app.command("serve")
def site_serve(
    ctx: typer.Context,
    folder: Annotated[Path | None, typer.Argument(help="The built board (default: [site] output_dir).")] = None,
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="Port on 127.0.0.1.")] = 8000,
    build: Annotated[bool, typer.Option("--build/--no-build", help="Build the board into the folder first.")] = True,
) -> None:
    """Preview the board at http://127.0.0.1:PORT/ (Ctrl-C stops it)."""
    from bot.site.serve import preview_server

    target = _site_folder(ctx.obj, folder)
    if build:
        site_build(ctx, target, base_url="", on=None, window=None, profile=None)
    if not (target / "index.html").is_file():
        fail(f"no board in {target}: run `sunset site build {target}` first")
    server = preview_server(target, port=port)
    typer.echo(f"serving {target} at http://127.0.0.1:{server.server_address[1]}/ (Ctrl-C stops)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


@app.command("config")
def show_config(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Print the effective settings (file, environment and defaults merged), secrets redacted."""
    settings: Settings = ctx.obj
    path: Path | None = ctx.meta.get("config_path")
    effective = settings.model_dump(mode="json")
    effective["database"]["url"] = _redacted_url(settings.database.resolved_url())
    environment = {
        "DISCORD_TOKEN": "set (redacted)" if settings.discord_token else "not set",
        "HF_TOKEN": "set (redacted)" if settings.hf_token else "not set",
        "DISCORD_API_BASE": settings.discord_api_base or "not set",
        "SUNSET_DATABASE_URL": "set (used above)" if os.environ.get("SUNSET_DATABASE_URL") else "not set",
        "SUNSET_HEALTH_PORT": "set (used above)" if os.environ.get("SUNSET_HEALTH_PORT") else "not set",
    }
    if as_json:
        _emit_json({"config_file": str(path) if path else None, "environment": environment, "settings": effective})
        return
    import tomlkit

    typer.echo(f"# config file: {path or 'none (built-in defaults)'}")
    for name, state in environment.items():
        typer.echo(f"# {name}: {state}")
    typer.echo(tomlkit.dumps(_without_none(effective)).rstrip())


def _redacted_url(url: str) -> str:
    from db.engine import redacted

    try:
        return redacted(url)
    except Exception:  # not a URL SQLAlchemy can parse: show none of it, it may hold a password
        return "(not a valid database URL)"


def _without_none(value: Any) -> Any:
    """TOML has no null: leave out unset keys."""
    if isinstance(value, dict):
        return {key: _without_none(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_without_none(item) for item in value]
    return value


@app.command()
def doctor(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Check the installation: database, each source host reachable, Discord token accepted (exit 1 on a failure)."""
    import asyncio

    from bot.cli.doctor import run_checks
    from bot.runtime.tracking import source_specs

    settings: Settings = ctx.obj
    checks = asyncio.run(run_checks(settings, source_specs(settings)))
    if as_json:
        _emit_json([asdict(check) for check in checks])
    else:
        style = {"ok": "green", "warn": "yellow", "fail": "bold red", "skip": "dim"}
        for check in checks:
            out.print(f"[{style[check.status]}]{check.status:>4}[/] {escape(check.name)}: {escape(check.detail)}",
                      soft_wrap=True)  # fmt: skip
        failed = sum(check.status == "fail" for check in checks)
        out.print(f"{len(checks)} checks, {failed} failed", soft_wrap=True)
    if any(check.status == "fail" for check in checks):
        raise typer.Exit(1)


LimitOption = Annotated[int | None, typer.Option("--limit", min=1, help="At most this many rows.")]


def _print_rows(title: str, rows: list[queries.ListRow], as_json: bool) -> None:
    """A list of models as JSON or a table (the shape `upcoming` and `recent` share)."""
    if as_json:
        _emit_json([asdict(row) | {"sunset": row.sunset.isoformat() if row.sunset else None} for row in rows])
        return
    table = Table(title=title)
    for column in ("Model", "Lab", "Released", "Level", "Sunset", "Status"):
        table.add_column(column)
    for row in rows:
        sunset_text = row.sunset.isoformat() if row.sunset else "—"
        table.add_row(escape(row.name), escape(row.lab), row.released, row.level, sunset_text, row.summary)
    out.print(table)


def _sunsets_within(
    ctx: typer.Context,
    service: Callable[..., list[queries.ListRow]],
    phrase: str,
    days: int,
    limit: int | None,
    as_json: bool,
    replay: tuple[str | None, int | None, str | None],
) -> None:
    """`upcoming` and `recent`: one list service over --days, under the replayed date and policy."""
    on, window, profile = replay
    policy, when = _policy(ctx.obj, window, profile), _on(on)
    with _app_context(ctx) as application, application.session() as session:
        rows = service(session, policy, when, days=days)[:limit]
    _print_rows(f"{len(rows)} sunsets {phrase} {days} days — on {when}", rows, as_json)


@app.command()
def upcoming(
    ctx: typer.Context,
    days: Annotated[int, typer.Option("--days", min=1, max=3650, help="How far ahead.")] = 365,
    limit: LimitOption = None,
    as_json: JsonOption = False,
    on: OnOption = None,
    window: WindowOption = None,
    profile: ProfileOption = None,
) -> None:
    """Models not yet open whose sunset falls in the next --days days, soonest first (as /sunset upcoming)."""
    from bot.services import queries

    _sunsets_within(ctx, queries.upcoming, "in the next", days, limit, as_json, (on, window, profile))


@app.command()
def recent(
    ctx: typer.Context,
    days: Annotated[int, typer.Option("--days", min=1, max=3650, help="How far back.")] = 90,
    limit: LimitOption = None,
    as_json: JsonOption = False,
    on: OnOption = None,
    window: WindowOption = None,
    profile: ProfileOption = None,
) -> None:
    """Models whose sunset passed in the last --days days while still not open (as /sunset recent)."""
    from bot.services import queries

    _sunsets_within(ctx, queries.recent, "passed in the last", days, limit, as_json, (on, window, profile))


@app.command()
def search(
    ctx: typer.Context,
    query: Annotated[str, typer.Argument(help="Part of a name, a prefix, or a misspelling.")],
    limit: Annotated[int, typer.Option("--limit", min=1, max=100, help="At most this many.")] = 25,
    as_json: JsonOption = False,
) -> None:
    """Models whose name or alias matches: prefixes, inner words and typos (as /model search)."""
    from bot.services import queries

    with _app_context(ctx) as application, application.session() as session:
        found = queries.load_name_index(session).search(query, limit)
    if as_json:
        _emit_json([{"name": choice.name, "slug": choice.value} for choice in found])
        return
    if not found:
        fail(f"no model matches {query!r}. {queries.ADD_MODEL_HINT}.", code=1)
    for choice in found:
        out.print(f"{escape(choice.name)}  [dim]({escape(choice.value)})[/]", soft_wrap=True)


@app.command()
def history(
    ctx: typer.Context,
    name: ModelArgument,
    as_json: JsonOption = False,
) -> None:
    """A model's dated events and sourced observations, oldest first (as /model history)."""
    from bot.services import queries

    with _app_context(ctx) as application, application.session() as session:
        try:
            found = queries.model_history(session, name)
        except queries.NotFoundError as error:
            _unknown_model(name, error.suggestions, as_json, application.catalog_hint)
    if as_json:
        _emit_json(
            {"slug": found.slug, "name": found.name}
            | {key: [asdict(entry) | {"on": entry.on.isoformat()} for entry in entries]
               for key, entries in (("events", found.events), ("observations", found.observations))}
        )  # fmt: skip
        return
    for title, entries in (("Events", found.events), ("Observations", found.observations)):
        table = Table(title=f"{found.name} — {title.lower()}", title_justify="left")
        for column in ("On", title[:-1], "URL"):
            table.add_column(column, overflow="fold")
        for entry in entries:
            table.add_row(entry.on.isoformat(), escape(entry.text), escape(entry.url or ""))
        out.print(table)


def main() -> None:
    """Console-script entry point: a database that cannot be reached or named is one line and exit 2."""
    try:
        app()
    except Exception as error:
        # Only a command that opened the database can raise SQLAlchemy's errors, so it is imported by then.
        if "sqlalchemy.exc" not in sys.modules:
            raise
        from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

        if isinstance(error, (ArgumentError, NoSuchModuleError)):
            typer.echo(f"error: the database URL is not valid: {_first_line(error)}", err=True)
            raise SystemExit(2) from None
        if isinstance(error, DBAPIError):  # unreachable, refused, authentication failed, gone mid-command
            typer.echo(f"error: the database is not answering: {_first_line(error.orig or error)}", err=True)
            raise SystemExit(2) from None
        raise


def _first_line(error: BaseException) -> str:
    """An exception's first line, without SQLAlchemy's statement dump and background link."""
    return (str(error).strip().splitlines() or [type(error).__name__])[0][:300]
