"""deploy/: no Docker engine or systemd runs in the tests, so check what can be checked — that the files
name what exists (the build context's folders, the console script, the exit code that means "do not restart")."""

import configparser
import inspect
import re
from pathlib import Path

import yaml

from bot.cli import commands as cli

ROOT = Path(__file__).parents[1]
DEPLOY = ROOT / "deploy"


def test_the_dockerfile_copies_what_the_repository_has_and_runs_sunset_run():
    text = (DEPLOY / "Dockerfile").read_text()
    for line in re.findall(r"^COPY (?!--from)(.+?) \S+$", text, flags=re.MULTILINE):
        assert all((ROOT / name).exists() for name in line.split()), line
    assert 'ENTRYPOINT ["sunset"]' in text and 'CMD ["run"]' in text and "uv sync --frozen --no-dev" in text


def test_compose_builds_that_dockerfile_against_postgresql_with_secrets_from_an_env_file():
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    bot = compose["services"]["bot"]
    assert (DEPLOY / bot["build"]["context"] / bot["build"]["dockerfile"]).is_file()
    assert bot["env_file"] == ".env" and "DISCORD_TOKEN" not in str(bot["environment"])
    assert bot["environment"]["SUNSET_DATABASE_URL"].startswith("postgresql+psycopg://")
    assert ".env" in (ROOT / ".gitignore").read_text().split()


def test_the_systemd_unit_does_not_restart_on_the_exit_code_of_a_bad_config():
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.read_string((DEPLOY / "sunset-clause.service").read_text())
    assert unit["Service"]["ExecStart"].endswith("/.venv/bin/sunset run")
    assert unit["Service"]["RestartPreventExitStatus"] == str(inspect.signature(cli.fail).parameters["code"].default)
    assert unit["Service"]["KillSignal"] == "SIGTERM" and unit["Install"]["WantedBy"] == "multi-user.target"


def test_the_extra_tracker_workers_run_the_tracker_role_on_the_same_postgresql():
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    bot, tracker = compose["services"]["bot"], compose["services"]["tracker"]
    assert tracker["command"] == ["run", "--role", "tracker"] and tracker["profiles"] == ["scale-out"]
    assert tracker["build"] == bot["build"] and tracker["environment"] == bot["environment"]
    assert tracker["deploy"]["replicas"] >= 2 and tracker["env_file"] == ".env"
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.read_string((DEPLOY / "sunset-tracker@.service").read_text())
    assert unit["Service"]["ExecStart"].endswith("/.venv/bin/sunset run --role tracker")
    assert "sqlite" not in (DEPLOY / "sunset-tracker@.service").read_text()  # PostgreSQL's URL, from the env file
    assert unit["Service"]["RestartPreventExitStatus"] == str(inspect.signature(cli.fail).parameters["code"].default)
