"""A small stand-in for Discord's REST API and gateway on loopback, for the unmodified discord.py client.

REST: login, application info, the gateway and its recommended shard count, command sync, interaction callbacks and followups, channel messages
(honouring `enforce_nonce`, answering 403/404 for configured channels, and optionally Discord's
global limit of N requests per second with 429s), DM channels. Gateway: HELLO, IDENTIFY → READY and
GUILD_CREATE (on the shard that owns the server), heartbeat ACK, and INTERACTION_CREATE dispatched by
the tests. With `deadline` set, an interaction answered later than that many seconds after its dispatch
gets Discord's 404 "Unknown interaction" (10062).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

APP_ID = 900000000000000001
BOT_ID = 900000000000000002
GUILD_ID = 800000000000000001
CHANNEL_ID = 800000000000000010
OTHER_CHANNEL_ID = 800000000000000011
ADMIN_ID = 700000000000000001
MEMBER_ID = 700000000000000002
MANAGE_GUILD = 1 << 5
ALL_PERMISSIONS = (1 << 41) - 1


def _json(data: Any, *, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """JSON exactly as Discord labels it: discord.py only parses a bare `application/json` content type."""
    response = web.Response(text=json.dumps(data), status=status, headers=headers)
    response.content_type, response.charset = "application/json", None
    return response


def user(user_id: int, name: str, *, bot: bool = False) -> dict[str, Any]:
    return {"id": str(user_id), "username": name, "discriminator": "0", "avatar": None, "global_name": name, "bot": bot}


@dataclass
class Posted:
    """A message the bot created (in a channel, a DM, or as an interaction response)."""

    id: int
    channel_id: int
    payload: dict[str, Any]
    files: list[tuple[str, bytes]] = field(default_factory=list)

    @property
    def embeds(self) -> list[dict[str, Any]]:
        return self.payload.get("embeds") or []

    @property
    def text(self) -> str:
        """Everything visible: content and every embed string, joined."""
        parts = [self.payload.get("content") or ""]
        for embed in self.embeds:
            parts += [embed.get("title") or "", embed.get("description") or ""]
            parts += [f"{f['name']} {f['value']}" for f in embed.get("fields", [])]
            parts.append((embed.get("footer") or {}).get("text", ""))
        return "\n".join(parts)


class StandIn:
    """The fake Discord. `await start()` gives the API base to put in DISCORD_API_BASE."""

    def __init__(self, *, global_rate: int | None = None, shards: int = 1, deadline: float | None = None) -> None:
        self.global_rate = global_rate
        self.recommended_shards = shards  # what GET /gateway/bot recommends
        self.deadline = deadline
        self.dispatched_at: dict[int, float] = {}  # interaction id → when INTERACTION_CREATE went out
        self.expired: list[int] = []  # interactions answered after the deadline
        self.responded_at: dict[int, float] = {}  # interaction id → when its first response arrived
        self.identifies: list[tuple[int, int]] = []  # (shard id, shard count) of each IDENTIFY
        self._sockets: dict[int, web.WebSocketResponse] = {}  # shard id → its gateway connection
        self._ids = itertools.count(1_000_000_000_000_000_000)
        self.commands: dict[int | None, list[dict[str, Any]]] = {}
        self.messages: list[Posted] = []  # channel and DM posts
        self.by_nonce: dict[tuple[int, str], Posted] = {}
        self.responses: dict[int, list[dict[str, Any]]] = {}
        self.response_messages: dict[int, dict[str, Any]] = {}  # interaction id → the message its answer posted
        self.followups: dict[str, list[Posted]] = {}
        self._deferred: dict[str, int] = {}  # token → id of an interaction deferred and not yet followed up
        self.forbidden: set[int] = set()
        self.missing: set[int] = set()
        self.rejected: set[int] = set()  # channels that answer 400 Bad Request to every post
        self.forget_nonces = False  # Discord remembers a nonce only for minutes: after that, a retry posts again
        self.requests: list[tuple[str, str]] = []
        self.rate_limited = 0
        self.rejections = 0
        self.hold_posts = False
        self.post_received = asyncio.Event()
        self.release_posts = asyncio.Event()
        self.identified = asyncio.Event()
        self.synced = asyncio.Event()
        self._recent: deque[float] = deque()
        self._seq = 0
        self._shard_count = 1
        self._waiters: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.base = ""
        self.unavailable = 0

    # ── lifecycle ────────────────────────────────────────────────────────────────────────────────

    async def start(self) -> str:
        app = web.Application(middlewares=[self._middleware])
        app.router.add_get("/", self._gateway)
        api = "/api/v10"
        app.router.add_get(f"{api}/users/@me", self._me)
        app.router.add_get(f"{api}/oauth2/applications/@me", self._application)
        app.router.add_get(f"{api}/gateway/bot", self._gateway_bot)
        app.router.add_put(f"{api}/applications/{{app}}/commands", self._sync)
        app.router.add_put(f"{api}/applications/{{app}}/guilds/{{guild}}/commands", self._sync)
        app.router.add_post(f"{api}/interactions/{{id}}/{{token}}/callback", self._callback)
        app.router.add_post(f"{api}/webhooks/{{app}}/{{token}}", self._followup)
        app.router.add_patch(f"{api}/webhooks/{{app}}/{{token}}/messages/{{message}}", self._edit_original)
        app.router.add_post(f"{api}/channels/{{channel}}/messages", self._post)
        app.router.add_get(f"{api}/channels/{{channel}}/messages", self._history)
        app.router.add_post(f"{api}/users/@me/channels", self._dm)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base = f"http://127.0.0.1:{port}/api/v10"
        return self.base

    async def stop(self) -> None:
        self.release_posts.set()
        for ws in list(self._sockets.values()):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    # ── REST ─────────────────────────────────────────────────────────────────────────────────────

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        if request.path != "/":
            self.requests.append((request.method, request.path))
            if self.unavailable > 0:  # Discord down for the next N requests
                self.unavailable -= 1
                return _json({"message": "503: Service Unavailable", "code": 0}, status=503)
            token_routes = request.path.startswith(("/api/v10/interactions/", "/api/v10/webhooks/"))
            if not token_routes and request.headers.get("Authorization") != "Bot test-token":
                return _json({"message": "401: Unauthorized", "code": 0}, status=401)
            if self.global_rate is not None:
                now = time.monotonic()
                while self._recent and now - self._recent[0] >= 1.0:
                    self._recent.popleft()
                if len(self._recent) >= self.global_rate:
                    self.rate_limited += 1
                    retry = max(0.001, 1.0 - (now - self._recent[0]))
                    body = {"message": "You are being rate limited.", "retry_after": retry, "global": True}
                    headers = {"Via": "1.1 google", "Retry-After": str(retry), "X-RateLimit-Global": "true",
                               "X-RateLimit-Scope": "global"}  # fmt: skip
                    return _json(body, status=429, headers=headers)
                self._recent.append(now)
        response: web.StreamResponse = await handler(request)
        return response

    async def _me(self, request: web.Request) -> web.Response:
        return _json(user(BOT_ID, "Sunset Clause", bot=True) | {"verified": True, "mfa_enabled": False})

    async def _gateway_bot(self, request: web.Request) -> web.Response:
        return _json({
            "url": self.base.split("/api")[0].replace("http", "ws") + "/", "shards": self.recommended_shards,
            "session_start_limit": {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1},
        })  # fmt: skip

    async def _application(self, request: web.Request) -> web.Response:
        return _json({
            "id": str(APP_ID), "name": "Sunset Clause", "description": "", "icon": None, "bot_public": True,
            "bot_require_code_grant": False, "owner": user(ADMIN_ID, "owner"), "verify_key": "00", "flags": 0,
            "summary": "", "team": None,
        })  # fmt: skip

    async def _sync(self, request: web.Request) -> web.Response:
        guild = int(request.match_info["guild"]) if "guild" in request.match_info else None
        body = await request.json()
        synced = [
            command | {"id": str(next(self._ids)), "application_id": str(APP_ID), "version": "1"}
            | ({"guild_id": str(guild)} if guild else {})
            for command in body
        ]  # fmt: skip
        self.commands[guild] = synced
        self.synced.set()
        return _json(synced)

    async def _read(self, request: web.Request) -> tuple[dict[str, Any], list[tuple[str, bytes]]]:
        if request.content_type.startswith("multipart/"):
            form = await request.post()
            files = [(v.filename, v.file.read()) for k, v in form.items() if k.startswith("files[")]  # type: ignore[union-attr]
            return json.loads(str(form["payload_json"])), files
        return await request.json(), []

    def _message(self, channel_id: int, payload: dict[str, Any], message_id: int | None = None) -> dict[str, Any]:
        return {
            "id": str(message_id or next(self._ids)), "channel_id": str(channel_id), "author": user(BOT_ID, "Sunset Clause", bot=True),
            "content": payload.get("content") or "", "timestamp": "2026-01-01T00:00:00+00:00", "edited_timestamp": None,
            "tts": False, "mention_everyone": False, "mentions": [], "mention_roles": [], "attachments": [],
            "embeds": payload.get("embeds") or [], "pinned": False, "type": 0, "flags": payload.get("flags", 0),
            "components": payload.get("components") or [], "nonce": payload.get("nonce"),
        }  # fmt: skip

    async def _post(self, request: web.Request) -> web.Response:
        channel_id = int(request.match_info["channel"])
        if channel_id in self.missing:
            return _json({"message": "Unknown Channel", "code": 10003}, status=404)
        if channel_id in self.forbidden:
            return _json({"message": "Missing Access", "code": 50001}, status=403)
        if channel_id in self.rejected:
            self.rejections += 1
            await self._notify()
            return _json({"message": "Invalid Form Body", "code": 50035}, status=400)
        payload, files = await self._read(request)
        nonce = payload.get("nonce")
        if nonce and payload.get("enforce_nonce") and not self.forget_nonces and (channel_id, nonce) in self.by_nonce:
            existing = self.by_nonce[(channel_id, nonce)]
            return _json(self._message(channel_id, existing.payload, existing.id))
        posted = Posted(next(self._ids), channel_id, payload, files)
        self.messages.append(posted)
        if nonce:
            self.by_nonce[(channel_id, nonce)] = posted
        await self._notify()
        if self.hold_posts:  # the message exists; the sender never hears back (until released)
            self.post_received.set()
            await self.release_posts.wait()
        return _json(self._message(channel_id, payload, posted.id))

    async def _history(self, request: web.Request) -> web.Response:
        """A channel's recent messages, newest first, as Discord lists them (without their nonces)."""
        channel_id = int(request.match_info["channel"])
        limit = min(int(request.query.get("limit", "50")), 100)
        mine = [posted for posted in reversed(self.messages) if posted.channel_id == channel_id][:limit]
        return _json([self._message(channel_id, posted.payload, posted.id) | {"nonce": None} for posted in mine])

    async def _dm(self, request: web.Request) -> web.Response:
        recipient = int((await request.json())["recipient_id"])
        channel_id = recipient + 1  # one deterministic DM channel per user
        return _json({"id": str(channel_id), "type": 1, "recipients": [user(recipient, "someone")],
                                  "last_message_id": None})  # fmt: skip

    async def _callback(self, request: web.Request) -> web.Response:
        interaction_id = int(request.match_info["id"])
        sent = self.dispatched_at.get(interaction_id)
        self.responded_at.setdefault(interaction_id, time.monotonic())
        if self.deadline is not None and sent is not None and time.monotonic() - sent > self.deadline:
            self.expired.append(interaction_id)
            waiter = self._waiters.pop(interaction_id, None)
            if waiter is not None and not waiter.done():
                waiter.set_result({"type": None, "expired": True})
            await self._notify()
            return _json({"message": "Unknown interaction", "code": 10062}, status=404)
        body, files = await self._read(request)
        body["files"] = files
        self.responses.setdefault(interaction_id, []).append(body)
        waiter = self._waiters.pop(interaction_id, None)
        if waiter is not None and not waiter.done():
            waiter.set_result(body)
        await self._notify()
        kind = body["type"]
        result: dict[str, Any] = {"interaction": {"id": str(interaction_id), "type": 2,
                                                  "response_message_loading": kind == 5}}  # fmt: skip
        if kind == 5:
            self._deferred[request.match_info["token"]] = interaction_id
        if kind in (4, 5, 7):
            message = self._message(CHANNEL_ID, body.get("data") or {})
            self.response_messages[interaction_id] = message
            result["interaction"]["response_message_id"] = message["id"]
            result["resource"] = {"type": kind, "message": message}
        return _json(result)

    async def _followup(self, request: web.Request) -> web.Response:
        payload, files = await self._read(request)
        deferred = self._deferred.pop(request.match_info["token"], None)
        if deferred is not None:  # Discord's first followup after a deferral fills the "thinking…" message in
            message = self._message(CHANNEL_ID, payload, int(self.response_messages[deferred]["id"]))
            self.response_messages[deferred] = message
            posted = Posted(int(message["id"]), CHANNEL_ID, payload, files)
        else:
            posted = Posted(next(self._ids), CHANNEL_ID, payload, files)
        self.followups.setdefault(request.match_info["token"], []).append(posted)
        await self._notify()
        return _json(self._message(CHANNEL_ID, payload, posted.id))

    async def _edit_original(self, request: web.Request) -> web.Response:
        payload, files = await self._read(request)
        posted = Posted(next(self._ids), CHANNEL_ID, payload, files)
        self.followups.setdefault(request.match_info["token"], []).append(posted)
        await self._notify()
        return _json(self._message(CHANNEL_ID, payload, posted.id))

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def wait_until(self, predicate: Any, within: float = 10.0) -> None:
        """Wait (without sleeping) until `predicate()` holds."""

        async def check() -> None:
            async with self._changed:
                await self._changed.wait_for(predicate)

        await asyncio.wait_for(check(), within)

    # ── gateway ──────────────────────────────────────────────────────────────────────────────────

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_json({"op": 10, "d": {"heartbeat_interval": 45000}})
        async for message in ws:
            if message.type != WSMsgType.TEXT:
                continue
            data = json.loads(message.data)
            if data["op"] == 1:
                await ws.send_json({"op": 11})
            elif data["op"] == 2:
                assert data["d"]["token"] == "test-token"
                self.identify_intents = data["d"]["intents"]
                shard, count = data["d"].get("shard") or (0, 1)
                self.identifies.append((shard, count))
                self._sockets[shard] = ws
                self._shard_count = count
                ours = (GUILD_ID >> 22) % count == shard  # Discord's rule for which shard gets a server
                await self._dispatch("READY", {
                    "v": 10, "user": user(BOT_ID, "Sunset Clause", bot=True),
                    "guilds": [{"id": str(GUILD_ID), "unavailable": True}] if ours else [],
                    "session_id": f"session-{shard}", "resume_gateway_url": self.base.split("/api")[0].replace("http", "ws") + "/",
                    "application": {"id": str(APP_ID), "flags": 0}, "shard": [shard, count],
                }, shard=shard)  # fmt: skip
                if ours:
                    await self._dispatch("GUILD_CREATE", self._guild(), shard=shard)
                if len(self._sockets) >= count:
                    self.identified.set()
                await self._notify()
        return ws

    def _guild(self) -> dict[str, Any]:
        def channel(channel_id: int, name: str) -> dict[str, Any]:
            return {"id": str(channel_id), "type": 0, "name": name, "position": 0, "permission_overwrites": [],
                    "guild_id": str(GUILD_ID), "nsfw": False, "parent_id": None}  # fmt: skip

        return {
            "id": str(GUILD_ID), "name": "Test Server", "icon": None, "owner_id": str(ADMIN_ID), "unavailable": False,
            "roles": [{"id": str(GUILD_ID), "name": "@everyone", "permissions": "0", "position": 0, "color": 0,
                       "hoist": False, "managed": False, "mentionable": False, "flags": 0}],
            "channels": [channel(CHANNEL_ID, "alerts"), channel(OTHER_CHANNEL_ID, "general")],
            "emojis": [], "stickers": [], "features": [], "members": [], "threads": [], "member_count": 2,
            "large": False, "joined_at": "2026-01-01T00:00:00+00:00", "verification_level": 0,
            "default_message_notifications": 0, "explicit_content_filter": 0, "mfa_level": 0, "premium_tier": 0,
            "preferred_locale": "en-US", "nsfw_level": 0, "system_channel_flags": 0,
        }  # fmt: skip

    async def _dispatch(self, event: str, data: dict[str, Any], *, shard: int | None = None) -> None:
        """Send an event on a shard's connection (by default the shard that owns the test server)."""
        if shard is None:
            shard = (GUILD_ID >> 22) % self._shard_count
        self._seq += 1
        await self._sockets[shard].send_json({"op": 0, "t": event, "s": self._seq, "d": data})

    # ── interactions, as the tests send them ─────────────────────────────────────────────────────

    def interaction(
        self, kind: int, data: dict[str, Any], *, user_id: int = ADMIN_ID, permissions: int = ALL_PERMISSIONS,
        message: dict[str, Any] | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        payload = {
            "id": str(next(self._ids)), "application_id": str(APP_ID), "type": kind, "data": data,
            "guild_id": str(GUILD_ID), "channel_id": str(CHANNEL_ID),
            "channel": {"id": str(CHANNEL_ID), "type": 0, "name": "alerts", "guild_id": str(GUILD_ID)},
            "member": {"user": user(user_id, f"user{user_id % 1000}"), "roles": [], "joined_at": "2026-01-01T00:00:00+00:00",
                       "deaf": False, "mute": False, "flags": 0, "permissions": str(permissions)},
            "token": f"token-{next(self._ids)}", "version": 1, "app_permissions": str(ALL_PERMISSIONS),
            "locale": "en-US", "guild_locale": "en-US", "entitlements": [], "attachment_size_limit": 8388608,
            "authorizing_integration_owners": {"0": str(GUILD_ID)}, "context": 0,
        }  # fmt: skip
        if message is not None:
            payload["message"] = message
        return payload

    async def send_interaction(self, payload: dict[str, Any], within: float = 10.0) -> dict[str, Any]:
        """Dispatch INTERACTION_CREATE and wait for the bot's callback."""
        interaction_id = int(payload["id"])
        waiter = asyncio.get_running_loop().create_future()
        self._waiters[interaction_id] = waiter
        self.dispatched_at[interaction_id] = time.monotonic()
        await self._dispatch("INTERACTION_CREATE", payload)
        return await asyncio.wait_for(waiter, within)

    def command_data(self, path: list[str], options: dict[str, Any], *, focused: str | None = None) -> dict[str, Any]:
        """Interaction data for `/a b c opt:value`, typed from the synced command definitions."""
        synced = next(c for c in self.commands[None] if c["name"] == path[0])
        definition, parents = synced, []
        for name in path[1:]:
            parents.append(definition)
            definition = next(o for o in definition["options"] if o["name"] == name)
        declared = {o["name"]: o for o in definition.get("options", [])}
        opts: list[dict[str, Any]] = []
        resolved: dict[str, Any] = {}
        for name, value in options.items():
            option = {"name": name, "type": declared[name]["type"], "value": value}
            if declared[name]["type"] == 7:  # channel
                option["value"] = str(value)
                resolved.setdefault("channels", {})[str(value)] = {
                    "id": str(value), "type": 0, "name": "alerts", "permissions": str(ALL_PERMISSIONS),
                    "guild_id": str(GUILD_ID), "parent_id": None,
                }  # fmt: skip
            if name == focused:
                option["focused"] = True
            opts.append(option)
        for name in reversed(path[1:]):
            opts = [{"name": name, "type": 1, "options": opts}]
        data: dict[str, Any] = {"id": synced["id"], "name": path[0], "type": 1, "options": opts}
        if resolved:
            data["resolved"] = resolved
        return data

    async def command(self, text: str, permissions: int = ALL_PERMISSIONS, user_id: int = ADMIN_ID,
                      **options: Any) -> dict[str, Any]:  # fmt: skip
        """Run `/model status` with options as a member; returns the callback body (and the followup, if deferred)."""
        payload = self.interaction(
            2, self.command_data(text.split(), options), user_id=user_id, permissions=permissions
        )
        body = await self.send_interaction(payload)
        if body["type"] == 5:  # deferred: the answer is a followup
            token = payload["token"]
            await self.wait_until(lambda: bool(self.followups.get(token)), within=30)
            posted = self.followups[token][0]
            body = {"type": 4, "data": posted.payload, "files": posted.files, "followup": True}
        body["interaction"] = payload
        return body

    async def autocomplete(self, text: str, focused: str, **options: Any) -> list[dict[str, Any]]:
        """The choices the bot offers while `focused` is being typed."""
        payload = self.interaction(4, self.command_data(text.split(), options, focused=focused))
        body = await self.send_interaction(payload)
        assert body["type"] == 8
        choices: list[dict[str, Any]] = body["data"]["choices"]
        return choices

    async def click(self, custom_id: str, answer: dict[str, Any], user_id: int = ADMIN_ID) -> dict[str, Any]:
        """Click a button on a message the bot sent (`answer`: the callback body that carried it)."""
        sent = answer.get("interaction") and self.response_messages.get(int(answer["interaction"]["id"]))
        message = sent or self._message(CHANNEL_ID, answer["data"])  # the same message id: views are kept by it
        payload = self.interaction(3, {"custom_id": custom_id, "component_type": 2}, user_id=user_id, message=message)
        return await self.send_interaction(payload)


def embed_text(body: dict[str, Any]) -> str:
    """All visible text of an interaction response."""
    return Posted(0, 0, body.get("data") or {}).text
