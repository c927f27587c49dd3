"""`[[notifications]]` targets as subscriptions: the table follows the config, weekly posts are queued once."""

import json
from datetime import UTC, datetime, timedelta

from sqlmodel import select

from bot.outbox.delivery import fan_out, pending
from bot.outbox.notifications import REMOVED, queue_weekly_posts, sync_targets
from bot.runtime.config import NotificationSettings
from db.models import Delivery, Event, Subscription, utcnow
from tests.helpers import write_catalog
from trackers.catalog import catalog_files
from trackers.catalog.sync import sync_catalog
from trackers.sunset import Policy


def target(name="hook", url="json://127.0.0.1/hook", **fields) -> NotificationSettings:
    return NotificationSettings(name=name, url=url, **fields)


def rows(session):
    found = session.exec(select(Subscription).where(Subscription.target.startswith("apprise:"))).all()
    return {row.target: row for row in found}


def test_the_subscriptions_follow_the_config_added_edited_removed_and_back(session):
    sync_targets(session, [target(), target("toot", "mastodons://tok@mastodon.social", events=["weekly_campaign"])])
    found = rows(session)
    assert set(found) == {"apprise:hook", "apprise:toot"}
    assert found["apprise:toot"].kinds == "weekly_campaign" and found["apprise:hook"].scope == "all"

    sync_targets(session, [target(scope="lab", value="deepmind")])  # toot removed, hook edited
    found = rows(session)
    assert (found["apprise:hook"].scope, found["apprise:hook"].scope_value) == ("lab", "deepmind")
    assert found["apprise:toot"].paused and found["apprise:toot"].pause_reason == REMOVED

    sync_targets(session, [target(), target("toot", "mastodons://tok@mastodon.social")])
    assert not rows(session)["apprise:toot"].paused


def test_a_target_paused_for_refusing_stays_paused_until_its_entry_changes(session):
    sync_targets(session, [target()])
    row = rows(session)["apprise:hook"]
    row.paused, row.pause_reason = True, "apprise:hook (json://127.0.0.1/…): 401 Unauthorized"
    session.add(row)
    session.commit()
    sync_targets(session, [target()])  # a restart with the same entry: retrying would fail the same way
    assert rows(session)["apprise:hook"].paused
    sync_targets(session, [target(url="json://127.0.0.1/hook-with-a-new-token")])
    assert not rows(session)["apprise:hook"].paused


def test_events_fan_out_to_a_target_only_after_it_was_added(session):
    before = Event(subject="model:x", kind="new_model", key="a", occurred_on=utcnow().date(), payload="{}")
    session.add(before)
    session.commit()
    sync_targets(session, [target(events="default")])
    after = Event(subject="model:y", kind="new_model", key="b", occurred_on=utcnow().date(), payload="{}")
    session.add(after)
    session.commit()
    assert fan_out(session, [before, after]) == 1
    (outgoing,) = pending(session, targets_prefix="apprise:")
    assert (outgoing.target, outgoing.kind) == ("apprise:hook", "new_model")


def test_the_weekly_campaign_is_queued_once_a_week_and_never_for_a_week_before_the_target(session, tmp_path):
    sync_catalog(session, catalog_files(write_catalog(tmp_path / "catalog")))
    entry = target("toot", "mastodons://tok@mastodon.social", events=["weekly_campaign", "weekly_digest"])
    sync_targets(session, [entry])
    policy = Policy(window_years=10)
    # OldNet (2012-09) passed its sunset on 2022-09-30: the week to Monday 2022-10-03 has something to say.
    week = datetime(2022, 10, 3, 9, 30, tzinfo=UTC)
    assert queue_weekly_posts(session, [entry], week, policy) == 0  # the target did not exist then: no history

    subscription = rows(session)["apprise:toot"]
    subscription.created_at = datetime(2022, 1, 1, tzinfo=UTC)
    session.add(subscription)
    session.commit()
    assert queue_weekly_posts(session, [entry], week, policy) == 2  # the digest and the campaign post
    assert queue_weekly_posts(session, [entry], week + timedelta(hours=3), policy) == 0  # same week: once
    quiet = week + timedelta(days=35)
    assert queue_weekly_posts(session, [entry], quiet, policy) == 1  # a campaign with nothing to say is not sent
    campaign = session.exec(select(Event).where(Event.kind == "weekly_campaign", Event.key == "2022-10-03")).one()
    payload = json.loads(campaign.payload)
    assert payload["digest"]["sunsets_passed"] == [["OldNet", "2022-09-30"]]
    assert payload["slugs"] == {"OldNet": "oldnet"}
    deliveries = session.exec(select(Delivery).where(Delivery.event_id == campaign.id)).all()
    assert [d.target for d in deliveries] == ["apprise:toot"]


async def test_a_crash_between_send_and_record_repeats_the_message_once_with_the_same_nonce(session, gateway):
    from bot.outbox.apprise_notifier import NONCE_HEADER, AppriseNotifier, build_targets
    from bot.outbox.delivery import deliver
    from tests.trackers.server import LoopbackServer, Route

    with LoopbackServer() as server:
        server.routes["/hook"] = Route(b"{}")
        entry = target(url=f"json://127.0.0.1:{server.port}/hook")
        sync_targets(session, [entry])
        event = Event(subject="model:x", kind="new_model", key="", occurred_on=utcnow().date(), payload='{"name": "X"}')
        session.add(event)
        session.commit()
        fan_out(session, [event])
        notifier = AppriseNotifier(build_targets([entry]))
        (outgoing,) = pending(session, targets_prefix="apprise:")
        await notifier.send(outgoing)  # posted… and the process dies before recording it:
        delivery = session.get(Delivery, outgoing.delivery_id)
        delivery.status, delivery.attempts = "sending", 1
        session.add(delivery)
        session.commit()

        (again,) = pending(session, targets_prefix="apprise:")  # the restart finds it unfinished
        assert await deliver(gateway, again, notifier) is True
        assert pending(session, targets_prefix="apprise:") == []
        nonces = [headers[NONCE_HEADER] for _, headers, _ in server.bodies]
    assert len(nonces) == 2 and len(set(nonces)) == 1  # nothing lost; one duplicate a receiver can drop
    session.refresh(delivery)
    assert (delivery.status, delivery.attempts) == ("sent", 2)
