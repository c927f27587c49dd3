"""The Apprise notifier with the real Apprise library against a loopback server: what each answer becomes."""

import json
import logging
from itertools import count

import pytest

from bot.outbox.apprise_notifier import (
    NONCE_HEADER,
    AppriseNotifier,
    ScrubSecrets,
    TransientDeliveryError,
    build_targets,
    refuses_for_good,
    secret_parts,
    shown_url,
)
from bot.outbox.delivery import Outgoing, PermanentDeliveryError
from bot.runtime.config import ConfigError, NotificationSettings
from tests.trackers.server import LoopbackServer, Route

SECRET = "t0ken-Zq8vXk3-never-shown"
_ids = count(1)


@pytest.fixture
def server():
    with LoopbackServer() as running:
        yield running


def outgoing(target: str, kind: str = "sunset_passed", **payload) -> Outgoing:
    payload = {"model": "alphago", "name": "AlphaGo", "window": 10, "sunset": "2026-01-27"} | payload
    number = next(_ids)
    return Outgoing(number, target, f"nonce{number:020d}", kind, "2026-01-28", payload)


def notifier_for(**urls: str) -> AppriseNotifier:
    entries = [NotificationSettings(name=name, url=url) for name, url in urls.items()]
    return AppriseNotifier(build_targets(entries), board_url="https://board.example/")


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (f"json://127.0.0.1:8080/hooks/{SECRET}", "json://127.0.0.1/…"),
        (f"mastodons://{SECRET}@mastodon.social", "mastodons://mastodon.social/…"),
        (f"matrixs://bot:{SECRET}@matrix.example.org:8448/#sunsets", "matrixs://matrix.example.org/…"),
        (f"slack://T1JJ3T3L2/A1BRTD4JD/{SECRET}/#ai-models", "slack://…"),  # the "host" is a token
        (f"tgram://123456789:{SECRET}/-100200300", "tgram://…"),
        (f"ntfy://{SECRET}", "ntfy://…"),
        (f"mailtos://me:{SECRET}@gmail.com", "mailtos://gmail.com/…"),
    ],
)
def test_a_url_is_shown_as_its_scheme_and_host_name_only(url, shown):
    assert shown_url(url) == shown
    assert SECRET not in shown_url(url)
    assert SECRET in secret_parts(url)


def test_only_timeouts_and_rate_limits_among_4xx_are_retried():
    assert [refuses_for_good(code) for code in (400, 401, 403, 404, 410, 413)] == [True] * 6
    assert [refuses_for_good(code) for code in (408, 429, 500, 502, 503, None)] == [False] * 6


async def test_a_json_webhook_gets_the_alert_with_the_delivery_nonce_as_a_header(server):
    server.routes["/hook"] = Route(b"{}")
    notifier = notifier_for(hook=f"json://127.0.0.1:{server.port}/hook")
    item = outgoing("apprise:hook", name="AlphaGo @everyone <!channel>")
    assert await notifier.send(item) == item.nonce
    ((_, headers, body),) = server.bodies
    sent = json.loads(body)
    assert headers[NONCE_HEADER] == item.nonce
    assert sent["title"] == "Sunset passed"
    assert "passed its 10-year sunset on 2026-01-27" in sent["message"]
    assert "https://board.example/models/alphago/" in sent["message"]
    assert "@everyone" not in sent["message"] and "<!channel>" not in sent["message"]
    assert await notifier.already_sent(item) is None  # no history to search: at most one duplicate


@pytest.mark.parametrize("status", [500, 502, 503, 429])
async def test_a_server_error_or_rate_limit_is_transient(server, status):
    server.routes["/hook"] = Route(b"{}", status=status)
    notifier = notifier_for(hook=f"json://127.0.0.1:{server.port}/hook")
    with pytest.raises(TransientDeliveryError, match=f"apprise:hook \\(json://127.0.0.1/…\\): {status} "):
        await notifier.send(outgoing("apprise:hook"))


@pytest.mark.parametrize("status", [401, 403, 404, 410])
async def test_a_refusal_for_good_is_permanent(server, status):
    server.routes["/hook"] = Route(b"{}", status=status)
    notifier = notifier_for(hook=f"form://127.0.0.1:{server.port}/hook")
    with pytest.raises(PermanentDeliveryError, match=f": {status} "):
        await notifier.send(outgoing("apprise:hook"))


async def test_no_answer_at_all_is_transient():
    notifier = notifier_for(hook="json://127.0.0.1:9/hook")  # the discard port: connection refused
    with pytest.raises(TransientDeliveryError, match="no answer"):
        await notifier.send(outgoing("apprise:hook"))


async def test_mastodon_gets_a_social_post_within_500_characters(server):
    server.routes["/api/v1/statuses"] = Route(b'{"id": "1"}')
    notifier = notifier_for(toot=f"mastodon://{SECRET}@127.0.0.1:{server.port}")
    await notifier.send(outgoing("apprise:toot", name="A" * 900 + " @admin@mastodon.social"))
    ((_, headers, body),) = server.bodies
    status = json.loads(body)["status"]
    assert headers["Authorization"] == f"Bearer {SECRET}"
    assert len(status) <= 500
    assert status.endswith("https://board.example/models/alphago/")


async def test_mastodon_refusing_the_token_is_permanent(server):
    server.routes["/api/v1/statuses"] = Route(b'{"error": "The access token is invalid"}', status=401)
    notifier = notifier_for(toot=f"mastodon://{SECRET}@127.0.0.1:{server.port}")
    with pytest.raises(PermanentDeliveryError, match="401") as caught:
        await notifier.send(outgoing("apprise:toot"))
    assert SECRET not in str(caught.value)


async def test_ntfy_gets_the_alert_on_its_topic(server):
    server.routes["/"] = Route(b"{}")
    notifier = notifier_for(push=f"ntfy://sunset:{SECRET}@127.0.0.1:{server.port}/sunsets")
    await notifier.send(outgoing("apprise:push"))
    ((_, headers, body),) = server.bodies
    sent = json.loads(body)
    assert sent["topic"] == "sunsets" and "AlphaGo passed" in sent["message"]
    assert "Authorization" in headers  # basic auth from the URL


async def test_ntfy_answering_500_is_transient(server):
    server.routes["/"] = Route(b"{}", status=500)
    notifier = notifier_for(push=f"ntfy://127.0.0.1:{server.port}/sunsets")
    with pytest.raises(TransientDeliveryError, match="500"):
        await notifier.send(outgoing("apprise:push"))


def test_a_url_apprise_rejects_is_one_config_line_without_the_url():
    entry = NotificationSettings(name="bad", url=f"nosuchservice://{SECRET}@host")
    with pytest.raises(ConfigError) as caught:
        build_targets([entry])
    assert "notifications.0.url (bad)" in str(caught.value)
    assert SECRET not in str(caught.value) and "\n" not in str(caught.value)


async def test_apprise_debug_logs_never_carry_the_url(server, caplog):
    server.routes[f"/hooks/{SECRET}"] = Route(b"{}", status=500)
    for name in (None, "apprise", "urllib3"):  # even where the CLI quiets them
        caplog.set_level(logging.DEBUG, logger=name)
    notifier = notifier_for(hook=f"json://127.0.0.1:{server.port}/hooks/{SECRET}")
    with pytest.raises(TransientDeliveryError) as caught:
        await notifier.send(outgoing("apprise:hook"))
    assert "JSON POST URL" in caplog.text  # Apprise did log the URL at DEBUG…
    assert SECRET not in caplog.text  # …with the secret blanked
    assert SECRET not in str(caught.value)


def test_the_scrubber_rewrites_only_records_that_carry_a_secret():
    scrubber = ScrubSecrets({SECRET})
    record = logging.LogRecord("apprise", logging.WARNING, __file__, 1, "posting to %s", (f"/x/{SECRET}",), None)
    assert scrubber.filter(record) and record.getMessage() == "posting to /x/***"


def test_sunset_run_with_a_url_apprise_rejects_exits_2_with_one_line(tmp_path, database_url):
    from typer.testing import CliRunner

    from bot.cli.commands import app
    from tests.helpers import write_config

    config = write_config(tmp_path, database_url)
    config.write_text(config.read_text() + '\n[[notifications]]\nname = "bad"\nurl = "nosuch://${TOKEN}@host"\n')
    result = CliRunner().invoke(app, ["--config", str(config), "run"], env={"TOKEN": SECRET})
    assert result.exit_code == 2
    assert result.stderr.startswith("error: invalid config: notifications.0.url (bad): Apprise does not accept")
    assert result.stderr.count("\n") == 1 and SECRET not in result.output


def matrix_homeserver(server, send_status=200):
    """The three calls Apprise makes with an access token: who am I, join the room alias, put the message."""
    server.routes["/_matrix/client/v3/account/whoami"] = Route(b'{"user_id": "@sunset:127.0.0.1"}')
    server.routes["/_matrix/client/v3/join/%23sunsets%3A127.0.0.1"] = Route(b'{"room_id": "!room:127.0.0.1"}')
    server.fallback = Route(b'{"event_id": "$1"}', status=send_status)  # PUT …/send/m.room.message/<txn id>
    return f"matrix://:{SECRET}@127.0.0.1:{server.port}/#sunsets:127.0.0.1?discovery=no"


async def test_matrix_gets_the_alert_in_the_room_with_room_pings_defused(server):
    notifier = notifier_for(room=matrix_homeserver(server))
    await notifier.send(outgoing("apprise:room", name="AlphaGo @room"))
    path, headers, body = server.bodies[-1]
    assert path.startswith("/_matrix/client/v3/rooms/%21room%3A127.0.0.1/send/m.room.message/")
    assert headers["Authorization"] == f"Bearer {SECRET}"
    message = json.loads(body)["body"]
    assert "AlphaGo @\u200broom passed its 10-year sunset" in message and "@room" not in message


@pytest.mark.parametrize(("status", "error"), [(401, PermanentDeliveryError), (502, TransientDeliveryError)])
async def test_matrix_refusing_the_token_pauses_and_a_bad_gateway_retries(server, status, error):
    notifier = notifier_for(room=matrix_homeserver(server, send_status=status))
    with pytest.raises(error, match=str(status)):
        await notifier.send(outgoing("apprise:room"))


async def test_the_weekly_campaign_goes_to_mastodon_as_one_post_with_the_board_link(server):
    server.routes["/api/v1/statuses"] = Route(b'{"id": "1"}')
    notifier = notifier_for(toot=f"mastodon://{SECRET}@127.0.0.1:{server.port}")
    passed = [[f"Closed model {n}", "2026-11-25"] for n in range(40)]
    digest = {"since": "2026-11-23", "on": "2026-11-30", "sunsets_passed": passed, "opened": [["GPT-2", "L2"]]}
    await notifier.send(outgoing("apprise:toot", "weekly_campaign", digest=digest, slugs={}))
    ((_, _, body),) = server.bodies
    status = json.loads(body)["status"]
    assert len(status) <= 500 and status.startswith("This week in AI openness (to 2026-11-30).")
    assert "Opened: GPT-2 (L2)" in status and status.endswith("https://board.example/ #SunsetClause")
