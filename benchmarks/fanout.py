"""Fan-out and delivery at scale: 10,000 subscriptions across 2,000 servers, 100 events, through the real
Discord notifier (discord.py) to the loopback stand-in, which enforces Discord's global limit of 50
requests per second with 429s.

Run: uv run python -m benchmarks.fanout
Prints the achieved rate ÷ 50 (target ≥ 0.9), duplicates (0) and lost deliveries (0).
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections import Counter

import discord
from sqlalchemy import insert
from sqlmodel import Session, select

from benchmarks.common import fresh_engine, synthetic_models
from bot.discord.client import apply_api_base, deliver_discord
from bot.discord.notifier import DiscordNotifier
from bot.outbox.delivery import delivery_nonce, fan_out
from bot.runtime.app import App
from bot.runtime.config import DatabaseSettings, Settings
from db.models import Delivery, Event, Subscription, utcnow
from tests.bot.discord.standin import StandIn

SERVERS, SUBSCRIPTIONS, EVENTS, MODELS, LABS = 2_000, 10_000, 100, 1_000, 50
LIMIT = 50


async def main() -> None:
    engine, _ = fresh_engine()
    synthetic_models(engine, MODELS, labs=LABS)
    rng = random.Random(3)
    now = utcnow()
    rows = []
    for n in range(SUBSCRIPTIONS):
        guild = n % SERVERS
        scope = "lab" if n % 40 == 0 else "model"  # a few lab-wide subscriptions, most follow one model
        value = f"lab-{rng.randrange(LABS)}" if scope == "lab" else f"m-{rng.randrange(MODELS)}"
        rows.append({"guild_id": 10_000 + guild, "target": f"channel:{1_000_000 + n}", "scope": scope,
                     "scope_value": value, "kinds": "", "paused": False, "created_at": now})  # fmt: skip
    with engine.begin() as connection:
        connection.execute(insert(Subscription), rows)
    with Session(engine) as session:
        events = []
        for n in range(EVENTS):
            model = rng.randrange(MODELS)
            payload = json.dumps({"name": f"Model {model}", "model": f"m-{model}"})
            event = Event(subject=f"model:m-{model}", model_id=model + 1, kind="new_model", key=str(n),
                          occurred_on=now.date(), payload=payload)  # fmt: skip
            session.add(event)
            events.append(event)
        session.commit()
        started = time.perf_counter()
        expected = fan_out(session, events)
        print(f"fan-out: {EVENTS} events × {SUBSCRIPTIONS:,} subscriptions in {SERVERS:,} servers → "
              f"{expected:,} deliveries in {time.perf_counter() - started:.2f}s")  # fmt: skip

    standin = StandIn(global_rate=LIMIT)
    apply_api_base(await standin.start())
    client = discord.Client(intents=discord.Intents.none())
    await client.login("test-token")
    app = App(settings=Settings(database=DatabaseSettings(url=str(engine.url))), engine=engine)
    notifier = DiscordNotifier(client)
    standin.requests.clear()
    started = time.perf_counter()
    sent = await deliver_discord(app, notifier)
    elapsed = time.perf_counter() - started
    await client.close()
    await standin.stop()

    posted = Counter((m.channel_id, m.payload.get("nonce")) for m in standin.messages)
    duplicates = sum(count - 1 for count in posted.values())
    with Session(engine) as session:
        deliveries = session.exec(select(Delivery.id, Delivery.target, Delivery.status)).all()
    wanted = {(int(target.partition(":")[2]), delivery_nonce(id_ or 0, target)) for id_, target, _ in deliveries}
    lost = len(wanted - set(posted))
    unsent = sum(status != "sent" for _, _, status in deliveries)
    rate = len(standin.messages) / elapsed
    print(f"delivery: {sent:,} sent in {elapsed:.1f}s; {len(standin.requests):,} requests, "
          f"{standin.rate_limited} answered 429")  # fmt: skip
    print(f"achieved rate {rate:.1f}/s ÷ {LIMIT} = {rate / LIMIT:.2f} (target ≥ 0.9)")
    print(f"duplicates: {duplicates}   lost: {lost}   not marked sent: {unsent}")
    engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())
