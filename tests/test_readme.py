"""The README's tracker walkthrough, run as written against `python -m tests.trackers.demo`: the tables it
shows are the tables the commands print (cells that depend on the day or the port left aside)."""

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli.commands import app
from tests.trackers.demo import serve_and_configure
from tests.trackers.server import LoopbackServer

README = Path(__file__).parents[1] / "README.md"
WIDTH = "120"  # the README's outputs are as printed at 120 columns


def walkthrough() -> list[tuple[str, str]]:
    """(command, its shown output) for each `$ uv run sunset …` of the walkthrough's console block."""
    text = README.read_text(encoding="utf-8")
    start = text.index("```console", text.index("Then, in another terminal, after that"))
    block = text[start : text.index("\n```\n", start)].splitlines()[1:]
    steps: list[tuple[str, list[str]]] = []
    for line in block:
        if line.startswith("$ uv run sunset "):
            steps.append((line[2:].split("  #")[0].strip(), []))
        elif steps:
            steps[-1][1].append(line)
    return [(command, "\n".join(lines)) for command, lines in steps]


def rows(table: str, key_columns: int) -> list[tuple[str, ...]]:
    """A rich table's rows (a row's continuation lines, with an empty first cell, dropped), first columns only."""
    found = []
    for line in table.splitlines():
        if line.startswith("│") and line.split("│")[1].strip():
            found.append(tuple(cell.strip() for cell in line.split("│")[1:-1])[:key_columns])
    return found


def new_per_source_dropped(table: list[tuple[str, ...]]) -> list[tuple[str, ...]]:
    """A `track` table's rows without the per-source New and Changed columns, plus the cycle's new models."""
    return [row[:3] + row[5:] for row in table] + [("new in all", str(sum(int(row[3]) for row in table)))]


def shown_like_printed(output: str, port: int) -> str:
    return output.replace(f"127.0.0.1:{port}", "127.0.0.1:PORT")


@pytest.fixture
def demo(tmp_path):
    with LoopbackServer() as server:
        yield serve_and_configure(server, tmp_path), server.port


def test_the_walkthrough_runs_as_written_and_prints_what_the_readme_shows(demo):
    config, port = demo
    runner = CliRunner()
    steps = walkthrough()
    assert [command for command, _ in steps] == [
        "uv run sunset track --once", "uv run sunset track --once", "uv run sunset review",
        'uv run sunset review confirm "Nimbus 2"', "uv run sunset status oldnet --evidence",
    ]  # fmt: skip
    # The columns that do not depend on the day: source/kind/status/counts; slug/name/lab/seen by; fact/value/source/rank.
    key_columns = {"track": 7, "review": 4, "status": 4}
    for command, shown in steps:
        args = [part.strip('"') for part in re.findall(r'"[^"]*"|\S+', command)][3:]
        result = runner.invoke(app, ["--config", str(config), *args], env={"COLUMNS": WIDTH, "SUNSET_DATABASE_URL": ""})
        printed = shown_like_printed(result.stdout, port)
        for line in result.stderr.splitlines():
            if line.startswith(("error:", "warning:", "note:")):
                assert line in shown, f"{command}: stderr line not in the README: {line}"
        if not shown.strip():
            continue
        columns = key_columns.get(args[0], 0)
        if "Evidence" in shown:  # the README shows only the evidence table after the status table
            printed = printed[printed.index("Evidence") :]
        if columns and "│" in shown:  # rows in order, but the review queue's order is the fetches' order
            expected, actual = rows(shown, columns), rows(printed, columns)
            if (
                args[0] == "track"
            ):  # a model two sources find in one cycle is new (and changed) to whichever is stored first
                expected, actual = (new_per_source_dropped(table) for table in (expected, actual))
            assert (sorted(actual), actual) == (sorted(expected), actual if args[0] == "review" else expected), command
        elif "│" not in printed:  # a step shown without its table (the second poll) shows only its stderr
            assert printed.strip() in shown, command


def tour() -> list[tuple[str, str]]:
    """(command, shown output) for each `$ uv run sunset …` of the short tour."""
    text = README.read_text(encoding="utf-8")
    start = text.index("```console", text.index("## A short tour"))
    steps: list[tuple[str, list[str]]] = []
    for line in text[start : text.index("\n```\n", start)].splitlines()[1:]:
        if line.startswith("$ uv run sunset "):
            steps.append((line[2:].split("  #")[0].strip(), []))
        elif steps:
            steps[-1][1].append(line)
    return [(command, "\n".join(lines)) for command, lines in steps]


def test_the_short_tour_prints_what_the_readme_shows_on_the_bundled_catalog(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "tour.sqlite3"}"\n')  # the default sources
    runner = CliRunner()
    steps = tour()
    assert len(steps) == 4
    for command, shown in steps:
        args = [part.strip('"') for part in re.findall(r'"[^"]*"|\S+', command)][3:]
        result = runner.invoke(app, ["--config", str(config), *args], env={"COLUMNS": WIDTH, "SUNSET_DATABASE_URL": ""})
        if "--json" in args:  # shown abbreviated: every line without "..." is printed as shown
            printed = {line.strip().rstrip(",") for line in result.stdout.splitlines()}
            for line in shown.splitlines():
                if "..." not in line and line.strip() not in ("{", "}"):
                    assert line.strip().rstrip(",") in printed, line
        elif result.exit_code:
            assert result.stderr.strip() == shown.strip(), command
        else:
            assert [line.rstrip() for line in result.stdout.splitlines()] == shown.strip("\n").splitlines(), command
