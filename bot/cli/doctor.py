"""`sunset doctor`: can this installation work? The database, the sources' hosts and Discord, each checked once.

Every check returns a `Check` record; nothing here prints. Sources are checked per host with a name lookup and
a TCP connection only (no request, so no source is polled out of turn); Discord with one authenticated
`GET /users/@me`, the call discord.py makes first when it logs in.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

import httpx
from alembic.script import ScriptDirectory
from sqlalchemy.exc import SQLAlchemyError

from bot.runtime.config import USER_AGENT_NOTE, Settings
from db.engine import make_engine, redacted
from db.migrate import alembic_config, current_revision
from trackers.sources import FeedKind, SourceSpec, source_kind

DISCORD_API = "https://discord.com/api/v10"
TIMEOUT_SECONDS = 10.0

CheckStatus = Literal["ok", "warn", "fail", "skip"]


@dataclass(frozen=True)
class Check:
    """One line of the doctor's report."""

    name: str
    status: CheckStatus
    detail: str


def check_database(settings: Settings) -> Check:
    """The database answers, and its schema revision against the newest migration."""
    url = settings.database.resolved_url()
    try:
        engine = make_engine(url)
    except (SQLAlchemyError, ValueError) as error:
        return Check("database", "fail", f"{redacted(url) if '://' in url else url}: {_first_line(error)}")
    try:
        revision = current_revision(engine)
        head = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    except SQLAlchemyError as error:
        return Check(
            "database", "fail", f"{redacted(url)}: not answering: {_first_line(getattr(error, 'orig', error))}"
        )
    finally:
        engine.dispose()
    if revision == head:
        return Check("database", "ok", f"{redacted(url)} at revision {revision}")
    state = "empty" if revision is None else f"at revision {revision}"
    return Check("database", "warn", f"{redacted(url)} {state}; the next start migrates it to {head}")


def source_hosts(specs: Iterable[SourceSpec]) -> dict[tuple[str, int], list[str]]:
    """(host, port) → the names of the sources fetched from it (the catalog reads no network)."""
    hosts: dict[tuple[str, int], list[str]] = {}
    for spec in specs:
        kind = source_kind(spec.kind)
        if not isinstance(kind, FeedKind):
            continue
        parts = urlsplit(kind.location(spec))
        if parts.hostname:
            port = parts.port or (443 if parts.scheme == "https" else 80)
            hosts.setdefault((parts.hostname, port), []).append(spec.name)
    return hosts


async def check_host(host: str, port: int, names: list[str], *, wait_seconds: float = TIMEOUT_SECONDS) -> Check:
    """A name lookup and a TCP connection to one host the sources use."""
    label = f"{host} ({len(names)} source{'s' * (len(names) != 1)})"
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), wait_seconds)
    except TimeoutError:
        return Check(f"source host {label}", "fail", f"no answer within {wait_seconds:g} s")
    except OSError as error:
        return Check(f"source host {label}", "fail", f"unreachable: {error.strerror or error}")
    writer.close()
    await asyncio.gather(writer.wait_closed(), return_exceptions=True)
    return Check(f"source host {label}", "ok", "reachable")


async def check_discord(settings: Settings, *, wait_seconds: float = TIMEOUT_SECONDS) -> Check:
    """DISCORD_TOKEN accepted by Discord (or skipped in console mode)."""
    if settings.discord_token is None:
        return Check("discord", "skip", "DISCORD_TOKEN is not set: `sunset run` stays in console mode")
    base = (settings.discord_api_base or DISCORD_API).rstrip("/")
    headers = {
        "Authorization": f"Bot {settings.discord_token.get_secret_value()}",
        "User-Agent": settings.trackers.user_agent,
    }
    try:
        async with httpx.AsyncClient(timeout=wait_seconds) as client:
            response = await client.get(f"{base}/users/@me", headers=headers)
    except httpx.HTTPError as error:
        return Check("discord", "fail", f"unreachable: {_first_line(error) or type(error).__name__}")
    if response.status_code == 200:
        return Check("discord", "ok", f"logged in as {response.json().get('username', '?')}")
    if response.status_code == 401:
        return Check("discord", "fail", "DISCORD_TOKEN refused (401 Unauthorized)")
    return Check("discord", "fail", f"HTTP {response.status_code} from {base}/users/@me")


async def run_checks(
    settings: Settings, specs: list[SourceSpec], *, wait_seconds: float = TIMEOUT_SECONDS
) -> list[Check]:
    """Every check: the database, the User-Agent contact, each source host (concurrently), Discord."""
    checks = [await asyncio.to_thread(check_database, settings)]
    if not settings.trackers.operator_contact_set:
        checks.append(Check("user agent", "warn", USER_AGENT_NOTE))
    hosts = source_hosts(spec for spec in specs)
    results = await asyncio.gather(
        *(check_host(host, port, names, wait_seconds=wait_seconds) for (host, port), names in sorted(hosts.items())),
        check_discord(settings, wait_seconds=wait_seconds),
    )
    return checks + list(results)


def _first_line(error: object) -> str:
    return (str(error).strip().splitlines() or [""])[0][:300]
