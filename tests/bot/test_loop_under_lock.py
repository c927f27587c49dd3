"""Issue 15, item 3: while another connection holds SQLite's write lock, the bot's event loop keeps running.

Before the gateway, `deliver()` committed on the loop and froze it for as long as the lock was held
(2.05 s for a 2 s lock). Now the delivery worker's database steps wait in the gateway's threads: the loop
keeps beating, and the delivery completes once the lock is released.
"""

import asyncio
import sqlite3
import threading
import time
from datetime import date

from bot.discord.client import deliver_discord
from bot.runtime.app import App
from bot.runtime.config import DatabaseSettings, Settings
from bot.runtime.gateway import loop_code
from db.engine import make_engine
from db.migrate import upgrade
from db.models import Delivery, Event, Subscription, utcnow

LOCK_SECONDS = 2.0


class Recorder:
    """A Discord stand-in for the notifier: remembers what was sent and when."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, float]] = []

    async def send(self, outgoing):
        self.sent.append((outgoing.target, time.monotonic()))
        return "m1"

    async def already_sent(self, outgoing):
        return None


def hold_write_lock(path: str, locked: threading.Event, released: list[float]) -> None:
    """Another process's long transaction: take SQLite's write lock, keep it for LOCK_SECONDS."""
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("BEGIN IMMEDIATE")
        connection.execute("INSERT INTO meta (key, value) VALUES ('held', 'yes')")
        locked.set()
        time.sleep(LOCK_SECONDS)
        released.append(time.monotonic())
        connection.execute("COMMIT")
    finally:
        connection.close()


async def test_a_held_sqlite_write_lock_never_freezes_the_loop_and_delivery_completes_after_it(tmp_path):
    path = str(tmp_path / "locked.sqlite3")  # SQLite on purpose: its database-wide write lock is the case
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    app = App(settings=Settings(database=DatabaseSettings(url=f"sqlite:///{path}")), engine=engine)
    try:
        with app.session() as session:
            subscription = Subscription(target="channel:7", scope="all", kinds="")
            event = Event(subject="model:x", kind="new_model", occurred_on=date(2026, 1, 1), created_at=utcnow())
            session.add_all([subscription, event])
            session.flush()
            session.add(Delivery(event_id=event.id or 0, subscription_id=subscription.id, target="channel:7"))
            session.commit()

        locked, released = threading.Event(), list[float]()
        holder = threading.Thread(target=hold_write_lock, args=(path, locked, released))
        holder.start()
        await asyncio.to_thread(locked.wait)
        gaps: list[float] = []
        beating = True

        async def heartbeat() -> None:
            last = time.monotonic()
            while beating:
                await asyncio.sleep(0.01)
                now = time.monotonic()
                gaps.append(now - last)
                last = now

        notifier = Recorder()
        with loop_code():  # the guard watches this as it watches `sunset run`
            beat = asyncio.create_task(heartbeat())
            sent = await deliver_discord(app, notifier)  # type: ignore[arg-type]
            beating = False
            await beat
        await asyncio.to_thread(holder.join)

        assert sent == 1 and [target for target, _ in notifier.sent] == ["channel:7"]
        assert released and notifier.sent[0][1] >= released[0]  # it waited for the lock, in a worker thread
        assert max(gaps) < LOCK_SECONDS / 2, f"the loop froze for {max(gaps):.2f} s"
        with app.session() as session:
            delivery = session.get(Delivery, 1)
            assert delivery is not None and (delivery.status, delivery.message_id) == ("sent", "m1")
    finally:
        app.gateway.close()
        engine.dispose()
