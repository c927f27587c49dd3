"""The outbox on a real database: a failing target backs off, gives up after a bound, and is paused with the reason."""

from datetime import date, timedelta

import pytest

from bot.outbox.delivery import (
    MAX_ATTEMPTS,
    PermanentDeliveryError,
    deliver,
    fan_out,
    pending,
    retry_delay,
)
from db.models import Delivery, Event, Subscription, utcnow


class Flaky:
    """A notifier whose target keeps failing the way it is told to; it counts the sends."""

    def __init__(self, error: Exception) -> None:
        self.error, self.sends = error, 0

    async def send(self, outgoing):
        self.sends += 1
        raise self.error

    async def already_sent(self, outgoing):
        return None


def queue_one(session) -> Subscription:
    subscription = Subscription(target="channel:7", scope="all", kinds="")
    session.add(subscription)
    session.commit()
    event = Event(
        subject="model:x", kind="new_model", key="", occurred_on=date(2026, 1, 1), payload="{}", created_at=utcnow()
    )
    session.add(event)
    session.commit()
    assert fan_out(session, [event]) == 1
    return subscription


def test_retries_wait_longer_each_time_up_to_an_hour():
    assert [retry_delay(n).total_seconds() for n in (1, 2, 3)] == [10, 20, 40]
    assert retry_delay(30) == timedelta(hours=1)


async def test_a_transient_failure_waits_before_the_next_try_and_gives_up_after_the_bound(session, gateway):
    subscription = queue_one(session)
    notifier = Flaky(RuntimeError("503 Service Unavailable"))
    (outgoing,) = pending(session)
    assert await deliver(gateway, outgoing, notifier) is False
    assert pending(session) == []  # backing off: not due now
    later = utcnow() + timedelta(hours=2)
    for _ in range(MAX_ATTEMPTS - 1):
        (outgoing,) = pending(session, now=later)
        await deliver(gateway, outgoing, notifier)
    session.expire_all()  # the gateway wrote in sessions of its own
    delivery = session.get(Delivery, outgoing.delivery_id)
    assert (delivery.status, delivery.attempts, notifier.sends) == ("failed", MAX_ATTEMPTS, MAX_ATTEMPTS)
    assert delivery.error.startswith(f"gave up after {MAX_ATTEMPTS} attempts: RuntimeError: 503")
    session.refresh(subscription)
    assert subscription.paused and "gave up after" in (subscription.pause_reason or "")
    assert pending(session, now=later + timedelta(days=1)) == []


@pytest.mark.parametrize("error", [PermanentDeliveryError("channel:7: 400 Invalid Form Body")])
async def test_a_target_that_refuses_for_good_fails_at_once_and_pauses_its_subscription(session, gateway, error):
    subscription = queue_one(session)
    notifier = Flaky(error)
    (outgoing,) = pending(session)
    await deliver(gateway, outgoing, notifier)
    assert pending(session, now=utcnow() + timedelta(days=1)) == []
    assert notifier.sends == 1
    session.refresh(subscription)
    assert subscription.paused and "400 Invalid Form Body" in (subscription.pause_reason or "")


async def test_sunset_subscriptions_shows_a_paused_target_with_its_reason_first(
    session, gateway, tmp_path, database_url
):
    import json

    from typer.testing import CliRunner

    from bot.cli.commands import app
    from tests.helpers import write_config

    healthy = Subscription(target="channel:8", scope="lab", scope_value="testlab", kinds="")
    session.add(healthy)
    queue_one(session)
    (outgoing,) = [o for o in pending(session) if o.target == "channel:7"]
    await deliver(gateway, outgoing, Flaky(PermanentDeliveryError("channel:7: 403 Missing Access")))
    result = CliRunner().invoke(app, ["--config", str(write_config(tmp_path, database_url)), "subscriptions", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [(r["target"], r["status"], r["failed"]) for r in rows] == [
        ("channel:7", "paused", 1),
        ("channel:8", "active", 0),
    ]
    assert rows[0]["reason"] == "channel:7: 403 Missing Access"
