"""`sunset run` with a token: the unmodified discord.py client against the loopback stand-in for Discord."""

import asyncio
import io
import json
import os
import re
import signal
import sys
from asyncio.subprocess import DEVNULL, PIPE
from datetime import date, timedelta

import pytest
from rich.console import Console
from sqlmodel import col, select

from bot.outbox.delivery import fan_out
from bot.runtime.app import open_app
from bot.runtime.config import load_settings
from bot.runtime.runner import evaluate_and_fan_out, run
from db.models import Delivery, Event, Meta, Model, Observation, Source, Subscription, utcnow
from tests.bot.discord.standin import (
    ADMIN_ID,
    CHANNEL_ID,
    MANAGE_GUILD,
    MEMBER_ID,
    OTHER_CHANNEL_ID,
    StandIn,
    embed_text,
)
from tests.helpers import write_config
from trackers import challenges

EPHEMERAL = 1 << 6
LOG_LINE = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ (INFO|WARNING) ")
PRIVILEGED_INTENTS = (1 << 1) | (1 << 8) | (1 << 15)  # members, presences, message content
EXPECTED_COMMANDS = {
    "model": {"status", "search", "history", "report"},
    "sunset": {"overdue", "upcoming", "recent", "stats"},
    "lab": {"scorecard"},
    "settings": {"show", "channel", "window", "profile", "digest"},
    "tracker": {"status"},
    "pledges": {"top"},
    "subscribe": set(),
    "unsubscribe": set(),
    "subscriptions": set(),
    "pledge": set(),
    "about": set(),
    "help": set(),
}


@pytest.fixture
async def standin():
    fake = StandIn()
    await fake.start()
    yield fake
    await fake.stop()


class Running:
    def __init__(self, app, fake, clock, output):
        self.app, self.fake, self.clock, self.output = app, fake, clock, output

    def session(self):
        return self.app.session()

    async def evaluate(self, day):
        self.clock[0] = day
        return evaluate_and_fan_out(self.app)

    async def all_sent(self):
        def done():
            with self.session() as session:
                statuses = session.exec(select(Delivery.status).where(Delivery.target != "console")).all()
            return statuses and all(status in {"sent", "failed"} for status in statuses)

        for _ in range(400):
            if done():
                return
            await asyncio.sleep(0.025)  # polling the database the worker writes to; bounded
        raise AssertionError("deliveries did not finish")


@pytest.fixture
async def running(tmp_path, database_url, standin, restore_discord_urls):
    env = {"DISCORD_TOKEN": "test-token", "DISCORD_API_BASE": standin.base}
    settings = load_settings(write_config(tmp_path, database_url), env=env)
    clock = [date(2033, 7, 10)]
    output = io.StringIO()
    stop = asyncio.Event()
    with open_app(settings, today=lambda: clock[0]) as app:
        console = Console(file=output, width=200)
        task = asyncio.create_task(run(app, console, stop, delivery_interval=0.05, change_interval=0.2))
        await asyncio.wait_for(standin.identified.wait(), 30)
        await asyncio.wait_for(standin.synced.wait(), 30)
        try:
            yield Running(app, standin, clock, output)
        finally:
            stop.set()
            await asyncio.wait_for(task, 30)


async def test_a_wrong_token_is_one_line_and_exit_2_with_no_unclosed_session(tmp_path, database_url, standin):
    config = write_config(tmp_path, database_url)
    env = {**os.environ, "DISCORD_TOKEN": "wrong", "DISCORD_API_BASE": standin.base, "PYTHONUNBUFFERED": "1",
           "PYTHONWARNINGS": "always::ResourceWarning"}  # fmt: skip
    command = [sys.executable, "-m", "bot", "--config", str(config), "run"]
    process = await asyncio.create_subprocess_exec(*command, env=env, stdout=DEVNULL, stderr=PIPE)
    _, err = await asyncio.wait_for(process.communicate(), 60)
    stderr = err.decode()
    assert process.returncode == 2, stderr
    errors = [line for line in stderr.splitlines() if not LOG_LINE.match(line)]  # the log of the start-up itself
    assert len(errors) == 1 and errors[0].startswith("error: Discord refused DISCORD_TOKEN (401 Unauthorized)")
    assert "Unclosed" not in stderr and "Traceback" not in stderr and "wrong" not in stderr


async def test_discord_unreachable_at_start_is_retried_with_back_off_and_said(
    tmp_path, database_url, standin, restore_discord_urls
):
    standin.unavailable = 2  # the first two logins meet a 503
    env = {"DISCORD_TOKEN": "test-token", "DISCORD_API_BASE": standin.base}
    settings = load_settings(write_config(tmp_path, database_url), env=env)
    output, stop = io.StringIO(), asyncio.Event()
    with open_app(settings) as app:
        task = asyncio.create_task(
            run(app, Console(file=output, width=200), stop, delivery_interval=0.05, discord_backoff=(0.05, 0.1))
        )
        await asyncio.wait_for(standin.identified.wait(), 30)
        stop.set()
        await asyncio.wait_for(task, 30)
    text = output.getvalue()
    assert "Discord is unreachable (503 Service Unavailable" in text
    assert "retrying in 0.05 s (attempt 1)" in text and "retrying in 0.1 s (attempt 2)" in text
    assert "Connected to Discord" in text and text.index("attempt 2") < text.index("Connected to Discord")


async def test_stopping_while_discord_is_unreachable_stops_cleanly(tmp_path, database_url, restore_discord_urls):
    env = {"DISCORD_TOKEN": "test-token", "DISCORD_API_BASE": "http://127.0.0.1:9/api/v10"}  # nothing listens
    settings = load_settings(write_config(tmp_path, database_url), env=env)
    output, stop = io.StringIO(), asyncio.Event()
    with open_app(settings) as app:
        task = asyncio.create_task(run(app, Console(file=output, width=200), stop, discord_backoff=(30,)))
        for _ in range(600):
            if "Discord is unreachable" in output.getvalue():
                break
            await asyncio.sleep(0.05)  # waiting for the first failed attempt: bounded
        stop.set()
        await asyncio.wait_for(task, 10)
    text = output.getvalue()
    assert "retrying in 30 s (attempt 1)" in text and "Connected" not in text and text.endswith("Stopped.\n")


async def test_the_bot_logs_in_without_privileged_intents_and_syncs_every_command(running):
    fake = running.fake
    synced = {c["name"]: c for c in fake.commands[None]}
    assert set(synced) == set(EXPECTED_COMMANDS)
    for name, subcommands in EXPECTED_COMMANDS.items():
        assert {o["name"] for o in synced[name].get("options", []) if o["type"] == 1} == subcommands
        assert synced[name]["description"]
    assert int(synced["settings"]["default_member_permissions"]) == MANAGE_GUILD
    assert int(synced["tracker"]["default_member_permissions"]) == MANAGE_GUILD
    assert fake.identify_intents & PRIVILEGED_INTENTS == 0
    assert ("GET", "/api/v10/users/@me") in fake.requests
    assert "Connected to Discord" in running.output.getvalue()


async def test_a_restart_syncs_commands_only_when_they_changed_or_a_day_passed(
    tmp_path, database_url, standin, restore_discord_urls, monkeypatch
):
    env = {"DISCORD_TOKEN": "test-token", "DISCORD_API_BASE": standin.base}
    settings = load_settings(write_config(tmp_path, database_url), env=env)

    async def start_and_stop() -> int:
        """Run the bot until it has identified, stop it; how many command syncs Discord has seen by then."""
        stop = asyncio.Event()
        standin.identified.clear()
        with open_app(settings, today=lambda: date(2033, 7, 10)) as app:
            task = asyncio.create_task(run(app, Console(file=io.StringIO(), width=200), stop, delivery_interval=0.05))
            await asyncio.wait_for(standin.identified.wait(), 30)
            stop.set()
            await asyncio.wait_for(task, 30)
        return sum(method == "PUT" and path.endswith("/commands") for method, path in standin.requests)

    assert await start_and_stop() == 1
    assert await start_and_stop() == 1  # same definitions, synced less than a day ago: no call
    with open_app(settings) as app, app.session() as session:
        row = session.exec(select(Meta).where(col(Meta.key).startswith("discord_commands:"))).one()
        row.value = json.dumps(json.loads(row.value) | {"digest": "definitions of an older version"})
        session.add(row)
        session.commit()
    assert await start_and_stop() == 2  # the commands changed
    monkeypatch.setattr("bot.discord.client.COMMAND_RESYNC", timedelta(0))
    assert await start_and_stop() == 3  # a day passed (heals commands removed by hand)
    assert {c["name"] for c in standin.commands[None]} == set(EXPECTED_COMMANDS)


def command_id(fake, name):
    return next(int(c["id"]) for c in fake.commands[None] if c["name"] == name)


async def test_help_lists_every_command_as_a_clickable_mention_and_answers_name_them_too(running):
    fake = running.fake
    text = embed_text(await fake.command("help"))
    assert f"</model status:{command_id(fake, 'model')}>" in text and f"</help:{command_id(fake, 'help')}>" in text
    assert text.count("</") == sum(len(subs) or 1 for subs in EXPECTED_COMMANDS.values())
    card = (await fake.command("model status", name="OldNet"))["data"]["embeds"][0]
    assert {"name": "The record", "value": f"</model history:{command_id(fake, 'model')}> name:oldnet",
            "inline": False} in card["fields"]  # fmt: skip
    assert "/model" not in card["footer"]["text"]  # a footer cannot show a clickable command


async def test_subscribe_needs_a_scope_and_says_how_to_undo_it(running):
    fake = running.fake
    answer = await fake.command("subscribe", scope="model", name="OldNet")
    assert f"</unsubscribe:{command_id(fake, 'unsubscribe')}> id:" in answer["data"]["content"]
    options = next(c for c in fake.commands[None] if c["name"] == "subscribe")["options"]
    assert next(o for o in options if o["name"] == "scope")["required"] is True


async def test_model_commands_answer_with_cards_suggestions_and_pages(running):
    fake = running.fake
    body = await fake.command("model status", name="old net 2012")  # an alias, typed loosely
    card = body["data"]["embeds"][0]
    assert body["type"] == 4 and card["title"] == "OldNet — Test Lab"
    text = embed_text(body)
    assert "overdue by 10 years" in text and "2022-09-30 (10-year window, weights profile)" in text
    assert body["data"]["allowed_mentions"] == {"parse": []}
    buttons = [c for row in body["data"]["components"] for c in row["components"]]
    assert buttons[0]["url"] == "https://testlab.example/oldnet"
    assert buttons[-1]["custom_id"] == "pledge:oldnet"

    choices = await fake.autocomplete("model status", "name", name="opened")
    assert choices[0] == {"name": "Opened Later", "value": "opened-later"} and len(choices) <= 25
    fuzzy = await fake.autocomplete("model status", "name", name="restrcted")
    assert "restricted" in [c["value"] for c in fuzzy]

    miss = await fake.command("model status", name="OldNte")
    assert miss["data"]["flags"] & EPHEMERAL
    assert "No model called 'OldNte'. Did you mean: oldnet" in embed_text(miss)

    found = await fake.command("model search", query="l")
    assert "Restricted LM" in embed_text(found) and "Opened Later" in embed_text(found)
    history = await fake.command("model history", name="Opened Later")
    assert "openness changed: L0 → L2 (weights released)" in embed_text(history)  # words, not identifiers


async def test_long_answers_turn_pages_for_the_asker_only(running):
    fake = running.fake
    with running.session() as session:
        oldnet = session.exec(select(Model).where(Model.slug == "oldnet")).one()
        for day in range(1, 26):  # 25 more claims: three pages of history
            session.add(
                Observation(model_id=oldnet.id, origin="epoch", rank=20, fact="released", value=f"2012-09-{day:02d}",
                            url=f"https://epoch.example/{day}", seen_at=utcnow())
            )  # fmt: skip
        session.commit()
    first = await fake.command("model history", name="OldNet")
    previous, counter, following = [c for row in first["data"]["components"] for c in row["components"]]
    assert (previous["label"], previous["disabled"], following["label"]) == ("◀", True, "▶")
    pages = int(counter["label"].split("/")[1])
    assert counter["label"] == f"1/{pages}" and pages >= 3 and f"page 1/{pages}" in embed_text(first)

    turned = await fake.click(following["custom_id"], first)
    assert turned["type"] == 7  # the same message, edited in place
    assert f"page 2/{pages}" in embed_text(turned)
    buttons = [c for row in turned["data"]["components"] for c in row["components"]]
    assert buttons[1]["label"] == f"2/{pages}" and not buttons[0].get("disabled")

    refused = await fake.click(following["custom_id"], first, user_id=MEMBER_ID)
    assert refused["type"] == 4 and refused["data"]["flags"] & EPHEMERAL
    assert "Only the person who asked" in refused["data"]["content"]
    back = await fake.click(previous["custom_id"], first)
    assert f"page 1/{pages}" in embed_text(back)  # the member's click turned nothing


async def test_pages_that_expire_say_so_with_their_buttons_greyed_out(running, monkeypatch):
    monkeypatch.setattr("bot.discord.views.PAGE_TIMEOUT_SECONDS", 0.2)
    fake = running.fake
    with running.session() as session:
        oldnet = session.exec(select(Model).where(Model.slug == "oldnet")).one()
        for day in range(1, 26):
            session.add(Observation(model_id=oldnet.id, origin="epoch", rank=20, fact="released",
                                    value=f"2012-09-{day:02d}", url=f"https://epoch.example/{day}", seen_at=utcnow()))  # fmt: skip
        session.commit()
    first = await fake.command("model history", name="OldNet")
    token = first["interaction"]["token"]  # deferred: the answer is the first followup, the expiry edits it
    await fake.wait_until(lambda: len(fake.followups.get(token, [])) >= 2)
    edit = fake.followups[token][-1]
    buttons = [c for row in edit.payload["components"] for c in row["components"]]
    assert all(button.get("disabled") for button in buttons) and "expired" in buttons[1]["label"]
    assert first["data"]["components"]  # the answer had live buttons until then


async def test_sunset_lists_stats_chart_and_lab_scorecard(running):
    fake = running.fake
    overdue = embed_text(await fake.command("sunset overdue"))
    assert "OldNet" in overdue and "Restricted LM" not in overdue
    assert "Test Lab" in embed_text(await fake.command("sunset overdue", lab="testlab"))
    upcoming = embed_text(await fake.command("sunset upcoming", days=30))
    assert "Restricted LM" in upcoming and "sunset 2033-07-18" in upcoming
    recent = embed_text(await fake.command("sunset recent", days=30))
    assert "No models." in recent
    stats = await fake.command("sunset stats")
    assert stats["followup"] and "3 models" in embed_text(stats)
    assert stats["files"][0][0] == "chart.png" and stats["files"][0][1].startswith(b"\x89PNG")
    labs = await fake.autocomplete("lab scorecard", "name", name="test")
    assert labs == [{"name": "Test Lab", "value": "testlab"}]
    card = embed_text(await fake.command("lab scorecard", name="Test Lab"))
    assert "Overdue 1" in card and "OldNet — overdue by 10 years" in card


async def test_admin_commands_are_refused_to_members_without_manage_server(running):
    fake = running.fake
    for text, options in [("settings show", {}), ("settings window", {"years": 12}), ("tracker status", {})]:
        body = await fake.command(text, permissions=0, user_id=MEMBER_ID, **options)
        assert body["data"]["flags"] & EPHEMERAL
        assert "Manage Server" in embed_text(body)
    refused = await fake.command("subscribe", permissions=0, user_id=MEMBER_ID, scope="all", target="channel")
    assert "Manage Server" in embed_text(refused)
    with running.session() as session:
        assert session.exec(select(Subscription).where(Subscription.target != "console")).all() == []


async def test_settings_override_the_window_and_profile_for_this_server(running):
    fake = running.fake
    await fake.command("settings channel", channel=CHANNEL_ID)
    await fake.command("settings window", years=15)
    shown = embed_text(await fake.command("settings profile", profile="strict"))
    assert "15 years (this server)" in shown and "strict (this server)" in shown and f"<#{CHANNEL_ID}>" in shown
    digest = embed_text(await fake.command("settings digest", weekday="Friday", hour=18))
    assert "Friday 18:00 UTC" in digest
    card = embed_text(await fake.command("model status", name="OldNet"))
    assert "2027-09-30 (15-year window, strict profile)" in card
    assert "15-year window, strict profile" in embed_text(await fake.command("about"))


async def test_pledges_by_command_and_button_once_per_person(running):
    fake = running.fake
    first = await fake.command("pledge", name="OldNet")
    assert "You pledged for OldNet" in first["data"]["content"]
    status = await fake.command("model status", name="OldNet")
    clicked = await fake.click("pledge:oldnet", status)
    assert "You already pledged for OldNet" in clicked["data"]["content"]
    other = await fake.click("pledge:oldnet", status, user_id=MEMBER_ID)
    assert "2 pledge(s) in all" in other["data"]["content"]
    top = embed_text(await fake.command("pledges top"))
    assert "1. **OldNet** — 2" in top
    revoked = await fake.command("pledge", name="OldNet", revoke=True)
    assert "revoked" in revoked["data"]["content"]


async def test_tracker_status_shows_sources_and_paused_ones_first(running):
    with running.session() as session:
        session.add(
            Source(name="lab-feed", kind="rss", status="paused", consecutive_failures=10, last_error="HTTP 500")
        )
        session.commit()
    body = await running.fake.command("tracker status")
    text = embed_text(body)
    assert body["data"]["flags"] & EPHEMERAL
    assert text.index("lab-feed") < text.index("catalog:testlab")
    assert "HTTP 500" in text and "10 failures" in text


async def test_a_subscription_gets_each_new_event_exactly_once_and_never_pings(running):
    fake = running.fake
    body = await fake.command("subscribe", target="channel", scope="all", events="all")
    assert "Subscribed" in body["data"]["content"]
    await fake.command("subscribe", scope="model", name="Restricted LM")  # the admin's DMs
    subscriptions = embed_text(await fake.command("subscriptions"))
    assert "#2" in subscriptions and "#3" in subscriptions

    await running.evaluate(date(2033, 7, 20))  # Restricted LM's sunset, 2033-07-18, passes
    await running.all_sent()
    posts = [m for m in fake.messages if "Restricted LM passed its 10-year sunset" in m.text]
    assert sorted(m.channel_id for m in posts) == sorted([CHANNEL_ID, ADMIN_ID + 1])  # the channel and the DM
    assert all(m.payload["allowed_mentions"] == {"parse": []} for m in posts)
    assert all(m.payload["enforce_nonce"] is True and len(m.payload["nonce"]) == 25 for m in posts)
    # The title names the model; the buttons pledge (and open the source when the event has one).
    assert all(m.embeds[0]["title"] == "Sunset passed: Restricted LM" for m in posts)
    buttons = [b for row in posts[0].payload["components"] for b in row["components"]]
    assert [b.get("custom_id") for b in buttons] == ["pledge:restricted"]  # no board configured: no board link

    await running.evaluate(date(2033, 7, 21))
    await running.all_sent()
    assert len([m for m in fake.messages if "Restricted LM passed" in m.text]) == 2

    # hostile text from a feed: an event whose name tries to ping and to format
    hostile = "@everyone <@&123> **Free** [weights](https://evil.example) `x`"
    with running.session() as session:
        event = Event(subject="model:hostile", kind="new_model", key="", occurred_on=date(2033, 7, 21),
                      payload=json.dumps({"name": hostile, "lab": "<@123>"}))  # fmt: skip
        session.add(event)
        session.commit()
        fan_out(session, [event])
    await running.all_sent()
    post = next(m for m in fake.messages if "Free" in m.text)
    assert post.payload["allowed_mentions"] == {"parse": []}
    assert "@\u200beveryone" in post.text and "<@&\u200b123>" in post.text and "<@\u200b123>" in post.text
    assert "\\*\\*Free\\*\\*" in post.text and "\\[weights\\]" in post.text and "\\`x\\`" in post.text
    assert "@everyone" not in post.text

    removed = await fake.command("unsubscribe", id=3)
    assert "Unsubscribed #3 (your DMs)" in removed["data"]["content"]


async def test_a_forbidden_channel_pauses_its_subscription_and_tells_the_admins(running):
    fake = running.fake
    fake.forbidden.add(OTHER_CHANNEL_ID)
    await fake.command("settings channel", channel=CHANNEL_ID)
    await fake.command("subscribe", scope="all", target="channel", channel=OTHER_CHANNEL_ID)
    await running.evaluate(date(2033, 7, 20))
    await running.all_sent()
    # The notice is queued after the failed round (in the writer thread): wait for it rather than race it.
    await fake.wait_until(
        lambda: any(m.channel_id == CHANNEL_ID and "subscription was paused" in m.text for m in fake.messages)
    )
    await running.all_sent()
    with running.session() as session:
        subscription = session.exec(
            select(Subscription).where(Subscription.target == f"channel:{OTHER_CHANNEL_ID}")
        ).one()
    assert subscription.paused and "403" in (subscription.pause_reason or "")
    notices = [m for m in fake.messages if m.channel_id == CHANNEL_ID and "subscription was paused" in m.text]
    assert len(notices) == 1
    assert f"#{subscription.id}" in embed_text(await fake.command("tracker status"))


@pytest.mark.parametrize("nonce_forgotten", [False, True])
async def test_a_crash_between_send_and_commit_still_posts_once(tmp_path, database_url, standin, nonce_forgotten):
    """Kill `sunset run` while Discord holds the reply to a post; the restart finds the post in the channel's
    history (and its nonce would drop a re-send while Discord remembers it), even once the nonce is forgotten."""
    config = write_config(tmp_path, database_url)
    settings = load_settings(config, env={})
    with open_app(settings) as app, app.session() as session:
        session.add(Subscription(guild_id=1, target=f"channel:{CHANNEL_ID}", scope="all", kinds=""))
        session.commit()
        event = Event(subject="model:oldnet", kind="new_model", key="crash", occurred_on=date(2026, 1, 1),
                      payload=json.dumps({"name": "OldNet", "lab": "testlab"}), created_at=utcnow())  # fmt: skip
        session.add(event)
        session.commit()
        assert fan_out(session, [event]) == 1
    env = {**os.environ, "DISCORD_TOKEN": "test-token", "DISCORD_API_BASE": standin.base, "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "bot", "--config", str(config), "run"]
    standin.hold_posts = True
    first = await asyncio.create_subprocess_exec(*command, env=env, stdout=DEVNULL, stderr=DEVNULL)
    try:
        await asyncio.wait_for(standin.post_received.wait(), 60)
    finally:
        first.send_signal(signal.SIGKILL)
        await first.wait()
    with open_app(settings, load_catalog=False) as app, app.session() as session:
        assert session.exec(select(Delivery.status)).all() == ["sending"]  # recorded before the send, never after
    standin.hold_posts = False
    standin.forget_nonces = nonce_forgotten
    standin.release_posts.set()
    second = await asyncio.create_subprocess_exec(*command, env=env, stdout=DEVNULL, stderr=PIPE)
    try:
        for _ in range(600):
            with open_app(settings, load_catalog=False) as app, app.session() as session:
                if session.exec(select(Delivery.status)).all() == ["sent"]:
                    break
            await asyncio.sleep(0.1)  # waiting on another process: bounded
    finally:
        second.send_signal(signal.SIGINT)
        _, err = await asyncio.wait_for(second.communicate(), 30)
    stderr = err.decode()
    assert second.returncode == 0, stderr
    assert "Traceback" not in stderr
    assert len([m for m in standin.messages if "New model tracked: OldNet" in m.text]) == 1
    with open_app(settings, load_catalog=False) as app, app.session() as session:
        delivery = session.exec(select(Delivery)).one()
    assert delivery.attempts == 1 and delivery.message_id == str(standin.messages[0].id)  # found, not re-sent


async def test_a_member_challenges_a_fact_and_is_told_the_outcome_by_dm(running, tmp_path):
    fake = running.fake
    body = await fake.command(
        "model report", user_id=MEMBER_ID, name="OldNet", fact="released", value="2012-10-02",
        source="https://testlab.example/oldnet-launch", note="@everyone the launch post <@&1>",
    )  # fmt: skip
    assert body["data"]["flags"] & EPHEMERAL
    assert "challenge #1 is in the review queue" in body["data"]["content"]
    refused = await fake.command("model report", name="OldNet", fact="license", value="MIT", source="ftp://x.example/")
    assert refused["data"]["flags"] & EPHEMERAL and "full http(s) URL" in embed_text(refused)
    again = await fake.command("model report", user_id=MEMBER_ID, name="OldNet", fact="access", value="api",
                               source="https://testlab.example/api")  # fmt: skip
    assert "Slow down" in embed_text(again)

    with running.session() as session:
        (waiting,) = challenges.pending(session)
        assert (waiting.challenge.reporter, waiting.challenge.note) == (
            f"discord:{MEMBER_ID}",
            "@everyone the launch post <@&1>",
        )
        challenges.accept(session, 1, moderator="mod", now=utcnow(), catalog_dirs=running.app.catalog_dirs())
        session.commit()  # the caller owns the transaction
    await running.all_sent()
    (told,) = [m for m in fake.messages if "Your challenge #1" in m.text]
    assert told.channel_id == MEMBER_ID + 1  # the reporter's DMs
    assert "OldNet's release date (2012-10-02) was accepted" in told.text
    assert told.payload["allowed_mentions"] == {"parse": []}
    status = embed_text(await fake.command("model status", name="OldNet"))
    assert "2012-10-02" in status


async def test_a_channel_that_rejects_posts_is_tried_once_then_paused_not_retried_forever(running):
    fake = running.fake
    fake.rejected.add(OTHER_CHANNEL_ID)
    with running.session() as session:
        session.add(Subscription(guild_id=1, target=f"channel:{OTHER_CHANNEL_ID}", scope="all", kinds=""))
        session.commit()
        queued = [
            Event(subject=f"model:m{n}", kind="new_model", key="", occurred_on=date(2033, 7, 1), created_at=utcnow(),
                  payload=json.dumps({"name": f"Model {n}", "lab": "testlab"}))
            for n in range(30)
        ]  # fmt: skip
        session.add_all(queued)
        session.commit()
        assert fan_out(session, queued) >= 30
    await fake.wait_until(lambda: fake.rejections >= 1)
    await asyncio.sleep(1.0)  # twenty delivery ticks: none may post again
    assert fake.rejections == 1
    with running.session() as session:
        subscription = session.exec(
            select(Subscription).where(Subscription.target == f"channel:{OTHER_CHANNEL_ID}")
        ).one()
        statuses = session.exec(select(Delivery.status).where(Delivery.subscription_id == subscription.id)).all()
    assert subscription.paused and "400" in (subscription.pause_reason or "")
    assert (
        sorted(set(statuses)) == ["failed", "pending"] and statuses.count("failed") == 1
    )  # the rest wait for a resume


async def test_a_catalog_edit_while_running_reaches_a_subscribed_channel_once_and_a_new_model_is_news(
    running, tmp_path
):
    fake = running.fake
    await fake.command("subscribe", target="channel", scope="all", events="all")
    catalog = tmp_path / "catalog" / "testlab.toml"
    text = catalog.read_text()
    opened = text.replace(
        'license = { raw = "Llama 2 Community License Agreement", source = "https://testlab.example/r-licence" }\n',
        'license = { raw = "Llama 2 Community License Agreement", source = "https://testlab.example/r-licence" }\n\n'
        '[[models.changes]]\ndate = "2033-07-10"\nkind = "relicensed"\nlicense = { raw = "Apache License 2.0", spdx = "Apache-2.0" }\n'
        'source = "https://testlab.example/r-apache"\n',
    )
    assert opened != text
    catalog.write_text(opened + '\n[[models]]\nslug = "fresh-net"\nname = "Fresh Net"\n'
                       'released = { date = "2033-07-09", source = "https://testlab.example/fresh" }\n'
                       'access = { value = "api", source = "https://testlab.example/fresh" }\n')  # fmt: skip
    started = asyncio.get_running_loop().time()
    await fake.wait_until(
        lambda: any("Restricted LM" in m.text and "L1 → L2" in m.text for m in fake.messages), within=60
    )
    await fake.wait_until(lambda: any("New model tracked: Fresh Net" in m.text for m in fake.messages), within=60)
    assert asyncio.get_running_loop().time() - started < 60
    await asyncio.sleep(1.0)  # five more scans: nothing is announced twice
    assert len([m for m in fake.messages if "Restricted LM" in m.text and "L1 → L2" in m.text]) == 1
    assert len([m for m in fake.messages if "New model tracked: Fresh Net" in m.text]) == 1
