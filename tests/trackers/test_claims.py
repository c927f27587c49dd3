"""Tracker workers sharing the sources: disjoint claims, each due source polled once, a dead worker's claims taken."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import textwrap
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import Session, select

from db.models import Alias, Lab, Model, Observation, Source
from tests.conftest import POSTGRES_URL
from tests.trackers.conftest import NOW
from tests.trackers.server import Route
from trackers.names import normalise_name
from trackers.sources import SourceSpec
from trackers.store import claims

ROOT = Path(__file__).parents[2]
FEED = (
    b'<?xml version="1.0"?><rss version="2.0"><channel><title>Lab</title><link>https://lab.example/</link>'
    b"<item><title>Notes</title><link>https://lab.example/p/1</link><guid>p1</guid></item></channel></rss>"
)
postgres_only = pytest.mark.skipif(
    not POSTGRES_URL, reason="needs PostgreSQL's row locks (SKIP LOCKED): runs in the PostgreSQL pass"
)


def feeds(server, count: int, *, route: Route | None = None) -> list[SourceSpec]:
    """`count` RSS sources on the loopback server, each at its own path."""
    specs = []
    for index in range(count):
        server.routes[f"/feed/{index}.xml"] = route or Route(FEED, headers={"Content-Type": "application/rss+xml"})
        specs.append(SourceSpec(f"feed-{index}", "rss", "testlab", options={"url": server.url(f"/feed/{index}.xml")}))
    return specs


def rows(engine) -> dict[str, Source]:
    """The feeds' source rows."""
    with Session(engine) as session:
        return {row.name: row for row in session.exec(select(Source)).all() if row.name.startswith("feed-")}


@postgres_only
def test_two_workers_claiming_at_once_get_disjoint_sets(engine):
    names = [f"feed-{index}" for index in range(20)]
    with Session(engine) as session:
        claims.ensure_rows(session, sources=[(name, "rss", None) for name in names])
        session.commit()
    until = NOW + timedelta(minutes=5)
    with Session(engine, expire_on_commit=False) as first, Session(engine, expire_on_commit=False) as second:
        # The first worker's transaction is still open (its rows locked) when the second claims: SKIP LOCKED.
        mine = claims.claim_due(first, names=names, worker="a", now=NOW, until=until, limit=8)
        theirs = claims.claim_due(second, names=names, worker="b", now=NOW, until=until, limit=20)
        first.commit()
        second.commit()
    assert len(mine) == 8 and len(theirs) == 12
    assert {row.name for row in mine} | {row.name for row in theirs} == set(names)
    with Session(engine) as third:
        assert claims.claim_due(third, names=names, worker="c", now=NOW, until=until, limit=20) == []
    assert {row.claimed_by for row in rows(engine).values()} == {"a", "b"}


async def test_two_workers_poll_each_due_source_once_and_release_their_claims(server, make_tracker, catalog_engine):
    specs = feeds(server, 40)
    first, second = make_tracker(specs, concurrency=2), make_tracker(specs, concurrency=2)
    reports = await asyncio.gather(first.run_cycle(NOW), second.run_cycle(NOW))
    polled = [source.name for report in reports for source in report.sources]
    assert sorted(polled) == sorted(spec.name for spec in specs)  # each exactly once, between them
    assert all(len(report.sources) > 0 for report in reports)  # both did a share
    assert {server.hits(f"/feed/{index}.xml") for index in range(40)} == {1}
    stored = rows(catalog_engine)
    assert {row.status for row in stored.values()} == {"ok"}
    assert {(row.claimed_by, row.claimed_until) for row in stored.values()} == {(None, None)}
    assert first.due(NOW) == [] and second.due(NOW + timedelta(minutes=5)) == []


def worker_script(database_url: str, specs: list[SourceSpec]) -> str:
    """A tracker worker in its own process, polling `specs` with 60 s claims (the test SIGKILLs it)."""
    listed = [(spec.name, spec.options["url"]) for spec in specs]
    return textwrap.dedent(f"""
        import asyncio, datetime
        from db.engine import make_engine
        from trackers.cycle import Tracker, TrackerConfig
        from trackers.http import HttpPolicy, make_client
        from trackers.sources import SourceSpec
        from trackers.sunset import Policy

        async def main():
            http = HttpPolicy(user_agent="SunsetClauseTest/1", read_timeout=30, allow_private_addresses=True)
            config = TrackerConfig(http=http, concurrency=4, claim_seconds=60)
            specs = [SourceSpec(name, "rss", "testlab", options={{"url": url}}) for name, url in {listed!r}]
            async with make_client(http) as client:
                tracker = Tracker(engine=make_engine({database_url!r}), client=client, specs=specs, config=config,
                                  policy=Policy(), worker="doomed")
                await tracker.run_cycle(datetime.datetime.fromisoformat({NOW.isoformat()!r}))

        asyncio.run(main())
    """)


async def test_a_killed_workers_claims_expire_and_another_worker_polls_them(
    server, make_tracker, catalog_engine, database_url
):
    hanging = Route(hang=True)
    specs = feeds(server, 6, route=hanging)
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", worker_script(database_url, specs), cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}
    )
    try:
        deadline = time.monotonic() + 60
        while sum(server.hits(f"/feed/{index}.xml") for index in range(6)) < 4:  # its fetches are in flight
            assert child.returncode is None and time.monotonic() < deadline, "the worker did not start polling"
            await asyncio.sleep(0.05)
    finally:
        child.send_signal(signal.SIGKILL)
        await child.wait()
    held = rows(catalog_engine)
    assert {row.claimed_by for row in held.values()} == {"doomed"}  # it died holding its claims
    for index in range(6):
        server.routes[f"/feed/{index}.xml"] = Route(FEED, headers={"Content-Type": "application/rss+xml"})
    survivor = make_tracker(specs, claim_seconds=60)
    assert survivor.due(NOW) == []  # claimed by a worker that may still be alive
    assert (await survivor.run_cycle(NOW + timedelta(seconds=30))).sources == ()
    report = await survivor.run_cycle(NOW + timedelta(seconds=90))  # the claims have expired
    assert sorted(source.name for source in report.sources) == sorted(spec.name for spec in specs)
    assert {source.status for source in report.sources} == {"ok"}
    assert {row.claimed_by for row in rows(catalog_engine).values()} == {None}


async def test_explicitly_named_sources_are_polled_without_claiming(server, make_tracker, catalog_engine):
    specs = feeds(server, 2)
    tracker = make_tracker(specs)
    report = await tracker.run_cycle(NOW, names=["feed-1"])
    assert [source.name for source in report.sources] == ["feed-1"]
    assert rows(catalog_engine)["feed-1"].claimed_by is None


async def test_a_slow_sources_claim_is_renewed_while_it_is_polled(server, make_tracker, catalog_engine):
    def slow(handler) -> Route:
        time.sleep(3)
        return Route(FEED, headers={"Content-Type": "application/rss+xml"})

    [spec] = feeds(server, 1, route=Route(handler=slow))
    polling, other = make_tracker([spec], claim_seconds=1.5, read_timeout=10), make_tracker([spec])
    started = time.monotonic()
    first = asyncio.create_task(polling.run_cycle(NOW))
    await asyncio.sleep(2)  # past the claim's first 1.5 s: only the heartbeat keeps it
    elapsed = timedelta(seconds=time.monotonic() - started)
    assert (await other.run_cycle(NOW + elapsed)).sources == ()
    assert [source.status for source in (await first).sources] == ["ok"]
    assert server.hits("/feed/0.xml") == 1


ANNOUNCEMENT = (
    b'<?xml version="1.0"?><rss version="2.0"><channel><title>Lab</title><link>https://lab.example/</link>'
    b"<item><title>Introducing Zephyr Nine</title><link>https://lab.example/zephyr-nine</link><guid>z9</guid>"
    b"<pubDate>Mon, 09 Nov 2026 10:00:00 +0000</pubDate></item></channel></rss>"
)


@postgres_only
async def test_storing_the_same_new_model_as_another_worker_is_tried_again_and_joins_it(
    server, make_tracker, catalog_engine
):
    server.routes["/news.xml"] = Route(ANNOUNCEMENT, headers={"Content-Type": "application/rss+xml"})
    spec = SourceSpec("testlab-news", "rss", "testlab", options={"url": server.url("/news.xml")})
    with Session(catalog_engine) as other:  # another worker, mid-transaction, creating the same model
        lab_id = other.exec(select(Lab.id).where(Lab.slug == "testlab")).one()
        assert lab_id is not None
        model = Model(slug="zephyr-nine", name="Zephyr Nine", lab_id=lab_id, state="unconfirmed", origin="elsewhere")
        other.add(model)
        other.flush()
        assert model.id is not None
        other.add(Alias(model_id=model.id, name="Zephyr Nine", key=normalise_name("Zephyr Nine"), kind="name"))
        other.flush()
        cycle = asyncio.create_task(make_tracker([spec]).run_cycle(NOW))
        deadline = time.monotonic() + 30
        while not waiting_on_a_lock(catalog_engine):  # our insert of the same slug waits for the other's commit
            assert not cycle.done() and time.monotonic() < deadline, "the cycle never met the other transaction"
            await asyncio.sleep(0.05)
        other.commit()
    report = await cycle
    assert [source.status for source in report.sources] == ["ok"]
    with Session(catalog_engine) as session:
        zephyrs = session.exec(select(Model).where(Model.name == "Zephyr Nine")).all()
        assert [(found.slug, found.origin) for found in zephyrs] == [("zephyr-nine", "elsewhere")]
        claims_on_it = session.exec(select(Observation).where(Observation.model_id == zephyrs[0].id)).all()
        assert {observation.origin for observation in claims_on_it} == {"testlab-news"}


def waiting_on_a_lock(engine) -> bool:
    """Whether some session of the test database is waiting for a lock."""
    with engine.connect() as connection:
        query = text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return bool(connection.execute(query).scalar_one())
