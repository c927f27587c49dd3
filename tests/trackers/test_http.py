"""The HTTP layer against a real loopback server: conditional GET, redirects, limits, politeness."""

from __future__ import annotations

import gzip
import ipaddress
import tracemalloc
import zlib

import httpx
import pytest

from tests.trackers.conftest import NOW, tracker_config
from tests.trackers.server import Route, gzip_of_zeros
from trackers import http
from trackers.http import FetchError, Validators, fetch, make_client, parse_max_age, parse_retry_after


@pytest.fixture
async def client():
    async with make_client(tracker_config().http) as shared:
        yield shared


async def get(client, url, **kwargs):
    config = tracker_config(**kwargs.pop("config", {}))
    return await fetch(client, url, policy=config.http, now=NOW, **kwargs)


async def test_a_conditional_get_is_answered_not_modified_without_a_body(server, client):
    server.routes["/feed"] = Route(b"<rss/>", etag='"abc"', headers={"Last-Modified": "Mon, 09 Nov 2026 10:00:00 GMT"})
    first = await get(client, server.url("/feed"))
    assert first.status == 200 and first.validators == Validators('"abc"', "Mon, 09 Nov 2026 10:00:00 GMT")
    second = await get(client, server.url("/feed"), validators=first.validators)
    assert second.not_modified and second.body == b""
    sent = server.requests[-1][1]
    assert sent["If-None-Match"] == '"abc"' and sent["If-Modified-Since"] == "Mon, 09 Nov 2026 10:00:00 GMT"


async def test_a_relative_307_is_followed_and_a_gzip_body_decoded(server, client):
    server.routes["/api/models/old-name"] = Route(b"moved", 307, {"Location": "/api/models/new-name"})
    server.routes["/api/models/new-name"] = Route(b'{"id": "new-name"}', gzip=True)
    fetched = await get(client, server.url("/api/models/old-name"))
    assert fetched.url == server.url("/api/models/new-name") and fetched.body == b'{"id": "new-name"}'


async def test_the_authorization_header_never_follows_a_redirect_to_another_host(server, client):
    other = f"http://localhost:{server.port}/elsewhere"
    server.routes["/start"] = Route(b"", 302, {"Location": other})
    server.routes["/elsewhere"] = Route(b"ok")
    await get(client, server.url("/start"), headers={"Authorization": "Bearer hf_secret"})
    assert server.requests[0][1].get("Authorization") == "Bearer hf_secret"
    assert "Authorization" not in server.requests[1][1]


async def test_a_declared_oversized_body_is_refused_before_reading(server, client):
    server.routes["/big"] = Route(b"x" * 5000)
    with pytest.raises(FetchError, match="larger than the 2048-byte limit"):
        await get(client, server.url("/big"), config={"max_body_bytes": 2048})


async def test_a_gzip_bomb_stops_at_the_decoded_limit(server, client):
    server.routes["/bomb"] = Route(gzip.compress(b"\0" * 3_000_000), headers={"Content-Encoding": "gzip"})
    with pytest.raises(FetchError, match="decoded"):
        await get(client, server.url("/bomb"), config={"max_body_bytes": 1024 * 1024})


async def test_a_doubly_gzipped_bomb_stops_at_the_limit_with_memory_bounded_by_it(server, client):
    """2.5 KB that inflate to 1 MB and then 256 MiB: each layer is inflated a step at a time, never whole."""
    bomb = gzip.compress(gzip_of_zeros(256 * 1024 * 1024))
    server.routes["/bomb"] = Route(bomb, headers={"Content-Encoding": "gzip, gzip"})
    tracemalloc.start()
    try:
        with pytest.raises(FetchError, match="decoded"):
            await get(client, server.url("/bomb"), config={"max_body_bytes": 1024 * 1024})
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(bomb) < 4096 and peak < 16 * 1024 * 1024, peak


@pytest.mark.parametrize(
    ("coding", "encode"),
    [
        ("gzip, gzip", lambda body: gzip.compress(gzip.compress(body))),
        ("x-gzip", gzip.compress),
        ("deflate", zlib.compress),  # zlib-wrapped, as RFC 9110 says
        ("deflate", lambda body: zlib.compress(body, wbits=-zlib.MAX_WBITS)),  # raw, as some servers send it
        ("identity, gzip", gzip.compress),
    ],
)
async def test_content_codings_are_undone_layer_by_layer(server, client, coding, encode):
    body = b"<rss>" + b"news " * 50_000 + b"</rss>"
    server.routes["/feed"] = Route(encode(body), headers={"Content-Encoding": coding})
    assert (await get(client, server.url("/feed"))).body == body


@pytest.mark.parametrize(
    ("coding", "message"),
    [("gzip, gzip, gzip", "3 stacked content codings"), ("br", "unsupported Content-Encoding: br")],
)
async def test_stacked_or_unknown_content_codings_are_refused(server, client, coding, message):
    server.routes["/feed"] = Route(b"anything", headers={"Content-Encoding": coding})
    with pytest.raises(FetchError, match=message):
        await get(client, server.url("/feed"))


async def test_a_body_that_is_not_what_its_coding_says_is_a_fetch_error(server, client):
    server.routes["/feed"] = Route(b"plain text, not gzip", headers={"Content-Encoding": "gzip"})
    with pytest.raises(FetchError, match="not valid compressed data"):
        await get(client, server.url("/feed"))


async def test_private_addresses_are_refused_unless_allowed(server, client):
    server.routes["/feed"] = Route(b"ok")
    with pytest.raises(FetchError, match="non-public address"):
        await get(client, server.url("/feed"), config={"allow_private_addresses": False})
    with pytest.raises(FetchError, match="non-public address"):
        await get(client, "http://169.254.169.254/latest/meta-data/", config={"allow_private_addresses": False})
    assert server.requests == []


async def test_a_name_that_turns_private_after_the_check_is_refused_when_connecting(server, monkeypatch):
    """DNS rebinding: the first lookup looked public; the connection's own lookup must still refuse."""
    server.routes["/feed"] = Route(b"ok")

    async def looked_public(url: httpx.URL) -> None:
        return None

    monkeypatch.setattr("trackers.http.check_public", looked_public)
    policy = tracker_config(allow_private_addresses=False).http
    async with make_client(policy) as guarded:
        with pytest.raises(FetchError, match=r"non-public address \(127\.0\.0\.1\)"):
            await fetch(guarded, server.url("/feed").replace("127.0.0.1", "localhost"), policy=policy, now=NOW)
    assert server.requests == []


async def test_errors_carry_status_and_retry_after(server, client):
    server.routes["/busy"] = Route(b"", 503, {"Retry-After": "Tue, 10 Nov 2026 13:00:00 GMT"})
    with pytest.raises(FetchError) as caught:
        await get(client, server.url("/busy"))
    assert caught.value.status == 503 and caught.value.retry_after == 3600
    assert not caught.value.gone


@pytest.mark.parametrize(
    ("url", "message"), [("ftp://example.org/feed", "not an http"), ("http://[::1", "invalid URL")]
)
async def test_bad_urls_are_fetch_errors(client, url, message):
    with pytest.raises(FetchError, match=message):
        await get(client, url)


def test_cache_headers_are_read_as_rfc_9111_says():
    assert parse_max_age("public, max-age=3600") == 3600
    assert parse_max_age("max-age=60, no-cache") is None
    assert parse_max_age(None) is None
    assert parse_retry_after("120", NOW) == 120
    assert parse_retry_after("Tue, 10 Nov 2026 11:00:00 GMT", NOW) == 0  # already past
    assert parse_retry_after("soon", NOW) is None


def test_the_client_names_the_project_and_follows_no_redirect_itself():
    client = make_client(tracker_config().http)
    assert client.headers["User-Agent"].startswith("SunsetClauseTest/1 (+https://")
    assert client.follow_redirects is False
    assert isinstance(client.timeout, httpx.Timeout) and client.timeout.connect == 2.0


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("169.254.169.254", False),
        ("8.8.8.8", True),
        ("::1", False),
        ("::ffff:127.0.0.1", False),  # IPv4-mapped
        ("::ffff:8.8.8.8", True),
        ("::127.0.0.1", False),  # IPv4-compatible (deprecated)
        ("64:ff9b::7f00:1", False),  # NAT64 of 127.0.0.1: reaches internal IPv4 on a NAT64 network
        ("64:ff9b::a00:1", False),  # NAT64 of 10.0.0.1
        ("64:ff9b::808:808", True),  # NAT64 of 8.8.8.8
        ("2002:7f00:1::", False),  # 6to4 of 127.0.0.1
        ("2002:a00:1::1", False),  # 6to4 of 10.0.0.1
        ("2002:808:808::1", True),  # 6to4 of 8.8.8.8
        ("2001:0:4136:e378:8000:63bf:80ff:fffe", False),  # Teredo whose client is 127.0.0.1
        ("2606:4700:4700::1111", True),
        ("fe80::1", False),
        ("fc00::1", False),
        ("ff02::1", False),
    ],
)
def test_every_spelling_of_an_address_is_judged_by_the_address_it_embeds(address, public):
    assert http.is_public(ipaddress.ip_address(address)) is public
