"""`sunset run`'s health endpoint: GET /healthz on `[health] host:port` answers JSON with 200 or 503.

Healthy means: the database answers, its schema is at the newest migration, and Discord is connected
(or the bot runs in console mode, without a token). The answer also carries what an operator looks at
next — the last tracking poll, failing sources and the delivery backlog — which inform but never fail
the check: a source that is down is the lab's problem, not the bot's. The database is read on a thread
of the endpoint's own, so a busy default executor cannot make the check time out, and a database that
hangs gives 503 after DATABASE_TIMEOUT_SECONDS.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from aiohttp import web
from sqlalchemy.exc import SQLAlchemyError

from bot.runtime.app import App
from bot.runtime.config import ConfigError
from bot.store.health import Backlog, Polling, delivery_backlog, polling
from db.migrate import stored_revisions
from db.models import utcnow
from db.revisions import script_heads

if TYPE_CHECKING:
    from bot.discord.client import DiscordRuntime

log = logging.getLogger(__name__)

PATH = "/healthz"
DATABASE_TIMEOUT_SECONDS = 5.0
CONSOLE, CONNECTED, CONNECTING = "console", "connected", "connecting"


@dataclass(frozen=True)
class DatabaseHealth:
    """Whether the database answered, the revisions it is at, and the error when it did not answer."""

    reachable: bool
    revisions: frozenset[str] = frozenset()
    backlog: Backlog | None = None
    polling: Polling | None = None
    error: str | None = None


@dataclass(frozen=True)
class Health:
    """One answer of the endpoint."""

    checked_at: datetime
    database: DatabaseHealth
    heads: frozenset[str]
    discord: str

    @property
    def schema_current(self) -> bool:
        """Whether the database is at the newest migration."""
        return self.database.reachable and self.database.revisions == self.heads

    @property
    def healthy(self) -> bool:
        """Database answering at the newest schema, and Discord connected unless in console mode."""
        return self.schema_current and self.discord in (CONSOLE, CONNECTED)

    def as_dict(self) -> dict[str, Any]:
        """The JSON body: every key always present (null when unknown)."""
        database, backlog, polled = self.database, self.database.backlog, self.database.polling
        return {
            "status": "ok" if self.healthy else "failing",
            "checked_at": _iso(self.checked_at),
            "database": {
                "reachable": database.reachable,
                "revision": ",".join(sorted(database.revisions)) or None,
                "schema_current": self.schema_current,
                "error": database.error,
            },
            "tracking": {
                "last_poll_at": _iso(polled.last_attempt) if polled else None,
                "sources": polled.sources if polled else None,
                "failing_sources": polled.failing if polled else None,
            },
            "deliveries": {
                "backlog": backlog.waiting if backlog else None,
                "oldest_waiting_since": _iso(backlog.oldest) if backlog else None,
            },
            "discord": self.discord,
        }


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") if moment else None


def read_database(app: App) -> DatabaseHealth:
    """The database's side of the check (blocking: run it on a worker thread)."""
    try:
        revisions = stored_revisions(app.engine)
        with app.session() as session:
            return DatabaseHealth(
                reachable=True, revisions=revisions, backlog=delivery_backlog(session), polling=polling(session)
            )
    except (SQLAlchemyError, OSError) as error:  # unreachable, refused, a lost connection: the answer is 503
        first_line = (str(getattr(error, "orig", None) or error).strip().splitlines() or [type(error).__name__])[0]
        return DatabaseHealth(reachable=False, error=first_line[:200])


def discord_state(app: App, runtime: DiscordRuntime | None) -> str:
    """`console` without a token, `connected` while the gateway's socket is open after READY, else `connecting`
    (logging in, retrying, or reconnecting: discord.py keeps `is_ready()` true across a reconnect)."""
    if app.settings.discord_token is None:
        return CONSOLE
    bot = runtime.bot if runtime is not None else None
    if bot is not None and bot.is_ready() and not bot.is_closed() and bot.ws is not None and bot.ws.open:
        return CONNECTED
    return CONNECTING


class HealthEndpoint:
    """The aiohttp application answering GET /healthz for one running `sunset run`."""

    def __init__(self, app: App, discord: Callable[[], DiscordRuntime | None]) -> None:
        self.app, self.discord = app, discord
        self.heads = script_heads() or frozenset()
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="health")

    async def check(self) -> Health:
        """Read the database (bounded in time) and Discord's state."""
        loop = asyncio.get_running_loop()
        try:
            database = await asyncio.wait_for(
                loop.run_in_executor(self.executor, read_database, self.app), DATABASE_TIMEOUT_SECONDS
            )
        except TimeoutError:
            database = DatabaseHealth(reachable=False, error=f"no answer within {DATABASE_TIMEOUT_SECONDS:g} s")
        return Health(
            checked_at=utcnow(), database=database, heads=self.heads, discord=discord_state(self.app, self.discord())
        )

    async def handle(self, _request: web.Request) -> web.Response:
        """GET /healthz: the JSON report, 200 when healthy, else 503."""
        health = await self.check()
        return web.json_response(health.as_dict(), status=200 if health.healthy else 503)

    def web_app(self) -> web.Application:
        """The routes: /healthz only (HEAD too); anything else is 404."""
        application = web.Application()
        application.router.add_get(PATH, self.handle)
        return application


_SERVING: set[asyncio.Task[None]] = set()  # the event loop keeps only weak references to tasks


async def start_health(
    app: App,
    stop: asyncio.Event,
    *,
    say: Callable[[str], None],
    discord: Callable[[], DiscordRuntime | None] = lambda: None,
) -> int | None:
    """Listen on `[health] host:port` until `stop` is set; returns the bound port (None when port = 0).

    A port that cannot be bound is a ConfigError (one line, exit 2): the operator asked for it.
    """
    settings = app.settings.health
    if not settings.port:
        return None
    endpoint = HealthEndpoint(app, discord)
    runner = web.AppRunner(endpoint.web_app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, settings.host, settings.port)
    try:
        await site.start()
    except OSError as error:
        await runner.cleanup()
        endpoint.executor.shutdown(wait=False)
        raise ConfigError(f"[health] cannot listen on {settings.host}:{settings.port}: {error.strerror}") from None

    async def serve_until_stopped() -> None:
        try:
            await stop.wait()
        finally:
            await runner.cleanup()
            await asyncio.to_thread(endpoint.executor.shutdown, True)  # a check in flight ends its read

    task = asyncio.create_task(serve_until_stopped(), name="health-endpoint")
    _SERVING.add(task)
    task.add_done_callback(_SERVING.discard)
    say(f"Health: http://{settings.host}:{settings.port}{PATH} (200 when healthy, else 503).")
    return settings.port
