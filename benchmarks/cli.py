"""How fast `sunset` answers: `--help` and `status GPT-3`, wall time of fresh processes, against `python -c pass`.

    uv run python -m benchmarks.cli              # 15 runs of each
    uv run python -m benchmarks.cli --runs 40

Every command is a new process, as a user's shell starts it; the database is a fresh SQLite file in a
temporary folder, migrated and loaded by one warm-up run, so what is timed is the warm case (schema
current, catalog unchanged, settings remembered): `sunset status GPT-3` then takes the quick path
(bot/cli/quick.py). Also timed, as the comparison in the same run: the same command on the full path
(`SUNSET_QUICK=0`, what every start paid before), and its floor, `python -c "import db.models"`
(SQLModel, SQLAlchemy and pydantic). Whether the installed packages were compiled to bytecode changes
every figure: it is printed with them. Beside the wall times, the median CPU time (user + system) of
each command: on a shared machine it moves far less than wall time.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGETS = {"sunset --help": 0.5, "sunset status GPT-3": 0.3}


def sunset_command() -> list[str]:
    """The installed console script beside this interpreter, else `python -m bot`."""
    script = Path(sys.executable).parent / "sunset"
    return [str(script)] if script.exists() else [sys.executable, "-m", "bot"]


def timed_runs(command: list[str], runs: int, env: dict[str, str]) -> tuple[list[float], list[float]]:
    """Wall seconds and CPU seconds (user + system) per run of a fresh process (output discarded; a failed run
    stops the benchmark). CPU time moves much less than wall time when other work shares the cores."""
    walls, cpus = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=True)
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    return walls, cpus


def bytecode_state() -> str:
    """Whether site-packages carry compiled bytecode and whether Python may write more at run time."""
    spec = importlib.util.find_spec("sqlalchemy")
    compiled = bool(spec and spec.origin and Path(importlib.util.cache_from_source(spec.origin)).exists())
    writes = "not written at run time (PYTHONDONTWRITEBYTECODE)" if os.environ.get("PYTHONDONTWRITEBYTECODE") else ""
    packages = "installed packages compiled to bytecode" if compiled else "installed packages NOT compiled"
    return ", ".join(filter(None, (packages, writes)))


def main() -> None:
    """Time each command `--runs` times and print medians, ratios to the baseline and the targets."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    runs = parser.parse_args().runs
    folder = Path(tempfile.mkdtemp(prefix="sunset-bench-cli-"))
    config = folder / "config.toml"
    config.write_text("")  # the built-in defaults, whatever ./config.toml or the user's config file say
    env = dict(
        os.environ,
        SUNSET_DATABASE_URL=f"sqlite:///{folder / 'sunset.sqlite3'}",
        SUNSET_CONFIG=str(config),
        XDG_CACHE_HOME=str(folder / "cache"),  # where the quick path's settings are remembered
    )
    env.pop("SUNSET_QUICK", None)
    sunset = sunset_command()
    commands = {
        "python -c pass (baseline)": [sys.executable, "-c", "pass"],
        'python -c "import db.models" (floor)': [sys.executable, "-c", "import db.models"],
        "sunset --help": [*sunset, "--help"],
        "sunset status GPT-3": [*sunset, "status", "GPT-3"],
        "sunset status GPT-3 (full path)": [*sunset, "status", "GPT-3"],
    }
    full_path = dict(env, SUNSET_QUICK="0")
    try:
        timed_runs(commands["sunset status GPT-3"], 1, env)  # migrate, load the catalog, remember the settings
        results = {
            label: timed_runs(command, runs, full_path if "full path" in label else env)
            for label, command in commands.items()
        }
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(f"{runs} runs each, fresh processes; {bytecode_state()}")
    baseline = statistics.median(results["python -c pass (baseline)"][0])
    for label, (walls, cpus) in results.items():
        median = statistics.median(walls)
        cpu = statistics.median(cpus)
        spread = f"min {min(walls) * 1000:6.1f}  max {max(walls) * 1000:6.1f}  cpu {cpu * 1000:6.1f}"
        line = f"  {label:<38} median {median * 1000:6.1f} ms  {spread}"
        if label in TARGETS:
            verdict = "met" if median < TARGETS[label] else "NOT met"
            line += f"  {median / baseline:5.1f}x baseline; target < {TARGETS[label] * 1000:.0f} ms: {verdict}"
        print(line)


if __name__ == "__main__":
    main()
