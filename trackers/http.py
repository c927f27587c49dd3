"""The one HTTP layer every source uses: polite, conditional, bounded GETs (RFC 9110 / RFC 9111).

`fetch()` returns a `Fetched` document or raises `FetchError` for everything a remote server can do
wrong (timeouts, refused connections, 4xx/5xx, redirect loops, oversized or bomb-like bodies, private
addresses). Expected failures are values for the caller to record; our own bugs still raise.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime

import httpx

REDIRECTS = {301, 302, 303, 307, 308}


@dataclass(frozen=True)
class HttpPolicy:
    """How politely and how far the trackers fetch."""

    user_agent: str
    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    max_body_bytes: int = 10 * 1024 * 1024
    max_redirects: int = 5
    allow_private_addresses: bool = False


@dataclass(frozen=True)
class Validators:
    """The cache validators of a previous response, sent back as a conditional GET (RFC 9110 §13.1)."""

    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True)
class Fetched:
    """A response worth reading: 200 with its body, or 304 (not modified) without one."""

    url: str
    status: int
    body: bytes = b""
    content_type: str | None = None
    validators: Validators = Validators()
    max_age: float | None = None
    retry_after: float | None = None
    next_url: str | None = None

    @property
    def not_modified(self) -> bool:
        """The server said our stored copy is current: nothing to parse."""
        return self.status == 304


class FetchError(Exception):
    """An expected failure of a fetch: recorded on the source and retried later (or never, when gone)."""

    def __init__(self, message: str, *, status: int | None = None, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after

    @property
    def gone(self) -> bool:
        """410 Gone: the source is removed for good, so it is disabled rather than retried."""
        return self.status == 410


def make_client(policy: HttpPolicy, *, max_connections: int = 64) -> httpx.AsyncClient:
    """The shared client: our User-Agent, explicit timeouts, redirects handled by `fetch` itself."""
    return httpx.AsyncClient(
        headers={"User-Agent": policy.user_agent, "Accept-Encoding": "gzip, deflate"},
        timeout=httpx.Timeout(policy.read_timeout, connect=policy.connect_timeout),
        follow_redirects=False,
        transport=ShardedTransport(max_connections),
        trust_env=False,
    )


class ShardedTransport(httpx.AsyncBaseTransport):
    """Several small connection pools instead of one large one, each URL always on the same pool.

    httpcore checks every pooled connection each time a request starts or ends, so one pool of C
    connections costs O(C) per request; shards of SHARD_SIZE keep that constant while keep-alive
    still works (a source always lands on the same shard).
    """

    SHARD_SIZE = 4

    def __init__(self, max_connections: int) -> None:
        count = max(1, -(-max_connections // self.SHARD_SIZE))
        per_shard = max(1, -(-max_connections // count))
        limits = httpx.Limits(max_connections=per_shard, max_keepalive_connections=per_shard)
        self._shards = [httpx.AsyncHTTPTransport(limits=limits, trust_env=False) for _ in range(count)]

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send the request through the shard its URL maps to."""
        shard = self._shards[zlib.crc32(str(request.url).encode()) % len(self._shards)]
        return await shard.handle_async_request(request)

    async def aclose(self) -> None:
        """Close every shard."""
        for shard in self._shards:
            await shard.aclose()


async def fetch(
    client: httpx.AsyncClient,
    url: str,
    *,
    policy: HttpPolicy,
    now: datetime,
    validators: Validators | None = None,
    headers: Mapping[str, str] | None = None,
) -> Fetched:
    """GET a URL politely: conditional, size-limited, redirects followed up to the limit; FetchError otherwise."""
    request_headers = dict(headers or {})
    if validators and validators.etag:
        request_headers["If-None-Match"] = validators.etag
    if validators and validators.last_modified:
        request_headers["If-Modified-Since"] = validators.last_modified
    seen: list[str] = []
    current = _parse_url(url)
    # One overall deadline as well: a server dripping a byte per read timeout must still end.
    deadline = policy.connect_timeout + 2 * policy.read_timeout
    try:
        async with asyncio.timeout(deadline):
            while True:
                if str(current) in seen:
                    raise FetchError(f"redirect loop at {current}")
                if len(seen) > policy.max_redirects:
                    raise FetchError(f"more than {policy.max_redirects} redirects")
                seen.append(str(current))
                if not policy.allow_private_addresses:
                    await check_public(current)
                result = await _get_once(client, current, request_headers, policy, now)
                if isinstance(result, Fetched):
                    return result
                if result.host != current.host:
                    request_headers.pop("Authorization", None)  # never carry a token to another host
                current = result
    except TimeoutError as error:
        raise FetchError(f"timed out after {deadline:g}s") from error
    except httpx.TimeoutException as error:
        raise FetchError(f"timed out ({type(error).__name__})") from error
    except httpx.TransportError as error:
        raise FetchError(f"connection failed: {_describe(error)}") from error


async def _get_once(
    client: httpx.AsyncClient, url: httpx.URL, headers: dict[str, str], policy: HttpPolicy, now: datetime
) -> Fetched | httpx.URL:
    """One request: a Fetched result, or the URL a redirect points to."""
    async with client.stream("GET", url, headers=headers) as response:
        if response.status_code in REDIRECTS:
            location = response.headers.get("Location")
            if not location:
                raise FetchError(f"HTTP {response.status_code} without a Location", status=response.status_code)
            return _parse_url(str(url.join(location)))  # relative Locations are allowed (RFC 9110 §10.2.2)
        retry_after = parse_retry_after(response.headers.get("Retry-After"), now)
        if response.status_code == 304:
            await response.aread()  # empty, but reading it lets the connection go back to the pool
            return _fetched(response, b"", retry_after)
        if response.status_code >= 400:
            reason = response.reason_phrase or "error"
            raise FetchError(
                f"HTTP {response.status_code} {reason}", status=response.status_code, retry_after=retry_after
            )
        declared = response.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > policy.max_body_bytes:
            raise FetchError(f"body of {declared} bytes is larger than the {policy.max_body_bytes}-byte limit")
        chunks: list[bytes] = []
        size = 0
        # aiter_bytes yields *decoded* bytes, so a gzip bomb hits the limit as it inflates.
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > policy.max_body_bytes:
                raise FetchError(f"body larger than the {policy.max_body_bytes}-byte limit (decoded)")
            chunks.append(chunk)
        return _fetched(response, b"".join(chunks), retry_after)


def _fetched(response: httpx.Response, body: bytes, retry_after: float | None) -> Fetched:
    next_link = response.links.get("next", {}).get("url")
    return Fetched(
        url=str(response.url),
        status=response.status_code,
        body=body,
        content_type=response.headers.get("Content-Type"),
        validators=Validators(response.headers.get("ETag"), response.headers.get("Last-Modified")),
        max_age=parse_max_age(response.headers.get("Cache-Control")),
        retry_after=retry_after,
        next_url=str(response.url.join(next_link)) if next_link else None,
    )


def _parse_url(text: str) -> httpx.URL:
    try:
        url = httpx.URL(text)
    except httpx.InvalidURL as error:
        raise FetchError(f"invalid URL {text!r}: {error}") from error
    if url.scheme not in {"http", "https"} or not url.host:
        raise FetchError(f"not an http(s) URL: {text!r}")
    return url


async def check_public(url: httpx.URL) -> None:
    """Refuse hosts that resolve to private, loopback, link-local or otherwise non-public addresses."""
    host = url.host
    try:
        addresses = [ipaddress.ip_address(host)]
    except ValueError:
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(host, url.port or (443 if url.scheme == "https" else 80))
        except socket.gaierror as error:
            raise FetchError(f"cannot resolve {host}: {error.strerror}") from error
        addresses = [ipaddress.ip_address(info[4][0]) for info in infos]
    for address in addresses:
        if not address.is_global or address.is_multicast:
            raise FetchError(
                f"refused: {host} resolves to a non-public address ({address}); "
                "set [trackers] allow_private_addresses = true to allow it"
            )


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP-date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - now).total_seconds())


_MAX_AGE = re.compile(r"(?:^|,)\s*max-age\s*=\s*\"?(\d+)", re.IGNORECASE)


def parse_max_age(value: str | None) -> float | None:
    """The freshness lifetime from Cache-Control (RFC 9111 §5.2.2.1); no-store/no-cache give none."""
    if not value or "no-store" in value.lower() or "no-cache" in value.lower():
        return None
    match = _MAX_AGE.search(value)
    return float(match.group(1)) if match else None


def _describe(error: Exception) -> str:
    text = str(error) or type(error).__name__
    return text if len(text) < 200 else text[:200] + "…"
