"""deploy/: no Docker engine or systemd runs in the tests, so check what can be checked — that the files
name what exists (the build context's folders, the console script, the exit code that means "do not restart")."""

import asyncio
import configparser
import inspect
import os
import re
import shlex
import socket
import sys
from asyncio.subprocess import DEVNULL
from pathlib import Path

import yaml

from bot.cli import commands as cli
from bot.runtime.app import App
from bot.runtime.config import load_settings
from bot.runtime.health import start_health
from db.engine import make_engine
from db.migrate import upgrade
from tests.conftest import POSTGRES_URL, reset_postgres
from tests.helpers import write_config

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


def test_the_role_units_and_compose_file_run_one_role_each():
    for role in ("bot", "tracker"):
        unit = configparser.ConfigParser(strict=False, interpolation=None)
        unit.read_string((DEPLOY / f"sunset-clause-{role}.service").read_text())
        assert unit["Service"]["ExecStart"].endswith(f"/.venv/bin/sunset run --role {role}")
        assert unit["Service"]["RestartPreventExitStatus"] == "2" and unit["Service"]["KillSignal"] == "SIGTERM"
    compose = yaml.safe_load((DEPLOY / "compose.roles.yaml").read_text())
    services = compose["services"]
    assert services["bot"]["command"] == ["run", "--role", "bot"]
    assert services["tracker"]["command"] == ["run", "--role", "tracker"]
    for name in ("bot", "tracker"):
        build = services[name]["build"]
        assert (DEPLOY / build["context"] / build["dockerfile"]).is_file()
        assert services[name]["env_file"] == ".env" and "DISCORD_TOKEN" not in str(services[name]["environment"])
    run_options = {param.name for param in inspect.signature(cli.run).parameters.values()}
    assert "role" in run_options


def healthcheck_commands() -> tuple[str, list[str]]:
    """The Dockerfile's HEALTHCHECK command (shell form) and compose's healthcheck test (exec form)."""
    dockerfile = (DEPLOY / "Dockerfile").read_text().replace("\\\n", " ")
    shell = re.search(r"^HEALTHCHECK .*? CMD (.+)$", dockerfile, flags=re.MULTILINE)
    assert shell is not None
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    return shell[1].strip(), compose["services"]["bot"]["healthcheck"]["test"]


def test_compose_and_the_image_check_the_same_health_endpoint_on_the_port_they_set():
    shell, test = healthcheck_commands()
    assert test[0] == "CMD" and shlex.join(test[1:]) == shlex.join(shlex.split(shell))
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    port = re.search(r"SUNSET_HEALTH_PORT=(\d+)", dockerfile)
    assert port is not None and compose["services"]["bot"]["environment"]["SUNSET_HEALTH_PORT"] == port[1]


async def test_the_images_healthcheck_passes_on_200_and_fails_on_503(tmp_path, database_url):
    """The HEALTHCHECK command itself, run against the real endpoint (`python` stands for the image's)."""
    _, test = healthcheck_commands()
    settings = load_settings(write_config(tmp_path, database_url), env={})
    results = []
    for revision in ("head", "0001"):  # a database behind the newest migration answers 503
        if POSTGRES_URL:
            reset_postgres(POSTGRES_URL)
        url = database_url if POSTGRES_URL else f"sqlite:///{tmp_path / revision}.sqlite3"
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        engine, stop = make_engine(url), asyncio.Event()
        upgrade(engine, revision)
        config = settings.model_copy(update={"health": settings.health.model_copy(update={"port": port})})
        try:
            await start_health(App(settings=config, engine=engine), stop, say=lambda _: None)
            env = {**os.environ, "SUNSET_HEALTH_PORT": str(port)}
            process = await asyncio.create_subprocess_exec(sys.executable, *test[2:], env=env, stderr=DEVNULL)
            results.append(await asyncio.wait_for(process.wait(), 30))
        finally:
            stop.set()
            engine.dispose()
    assert results[0] == 0 and results[1] != 0


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
