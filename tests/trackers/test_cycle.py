"""A whole cycle over Test Lab's sources served on loopback: models, observations, events, caching."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from datetime import timedelta

import pytest
from sqlmodel import Session, col, func, select

from db.models import Event, Model, Observation, OpennessChange, Source
from tests.trackers.conftest import NOW, by_name, dumps, fixture, lab_specs
from trackers import events, http
from trackers import reconcile as reconcile_module
from trackers.records import Licence
from trackers.sources import SourceSpec
from trackers.store.models import load_catalogue


def models(engine) -> dict[str, Model]:
    with Session(engine) as session:
        return {model.slug: model for model in session.exec(select(Model)).all()}


def count(engine, table) -> int:
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(table)).one()


async def test_a_first_cycle_reads_every_kind_of_source(lab_server, make_tracker, catalog_engine):
    tracker = make_tracker(lab_specs(lab_server))
    report = await tracker.run_cycle(NOW)
    sources = by_name(report)
    assert {name: s.status for name, s in sources.items()} == {
        "testlab-news": "ok",
        "testlab-github": "ok",
        "testlab-hub": "ok",
        "epoch": "ok",
    }
    found = models(catalog_engine)
    # The lab's own Hub organisation creates models confidently; an announcement alone leaves them unconfirmed.
    assert found["nimbus-mini-1.5"].state == "confirmed"
    assert found["nimbus-2"].state == "unconfirmed"
    assert "secret-draft" not in found  # private repositories are not releases
    assert "unknown-model-x" not in found  # a third-party dataset never creates models
    with Session(catalog_engine) as session:
        catalogue = load_catalogue(session)
        mini = catalogue.records["nimbus-mini-1.5"]
        assert str(mini.first_release) == "2026-11-04"  # the earliest credible date: announcement and repo agree
        assert mini.initial.access == "download" and mini.initial.licence == Licence("apache-2.0")
        # OldNet's weights appeared in the lab's organisation: openness raised from the artefact, dated by it.
        oldnet_changes = session.exec(
            select(OpennessChange).join(Model).where(Model.slug == "oldnet", OpennessChange.origin == "testlab-hub")
        ).all()
        assert [(c.kind, str(c.on), c.access, c.licence_raw) for c in oldnet_changes] == [
            ("weights_released", "2026-10-20", "gated", "apache-2.0")
        ]
        # Epoch's disagreeing date is kept beside the catalog's, never replacing it.
        oldnet = catalogue.records["oldnet"]
        assert str(oldnet.first_release) == "2012-09"
        epoch_claims = session.exec(
            select(Observation.value, Observation.rank)
            .join(Model)
            .where(Model.slug == "oldnet", Observation.origin == "epoch", Observation.fact == "released")
        ).all()
        assert epoch_claims == [("2012-09-14", 20)]
        # The Hub's 2022-03-02 floor is "before then", never a release date.
        floor = session.exec(
            select(Observation.fact, Observation.value)
            .join(Model)
            .where(
                Model.slug == "opened-later",
                Observation.origin == "testlab-hub",
                col(Observation.fact).like("released%"),
            )
        ).all()
        assert floor == [("released_before", "2022-03-02")]
        hub = session.exec(select(Source).where(Source.name == "testlab-hub")).one()
        assert hub.items_seen == 3 and hub.last_ok_at == NOW and hub.next_due_at == NOW + timedelta(hours=6)
    # The renamed repository's card was reached through a relative 307.
    assert lab_server.hits("/testlab/OldNet-v1/raw/main/README.md") == 1
    assert lab_server.hits("/api/models") == 2  # both pages


async def test_the_first_run_of_a_source_is_history_and_later_news_is_announced_once(
    lab_server, make_tracker, catalog_engine
):
    tracker = make_tracker(lab_specs(lab_server))
    first = await tracker.run_cycle(NOW)
    assert first.announced == ()
    with Session(catalog_engine) as session:
        stored = {(e.subject, e.kind) for e in session.exec(select(Event)).all()}
    assert ("model:oldnet", events.OPENNESS_CHANGED) in stored
    assert ("model:oldnet", events.OPENED_AFTER_SUNSET) in stored
    assert ("model:nimbus-mini-1.5", events.NEW_MODEL) in stored

    page = json.loads(fixture("hub/testlab_page1.json"))
    page.insert(0, {"id": "testlab/nimbus-3", "createdAt": "2026-11-10T08:00:00.000Z", "gated": False,
                    "tags": ["license:mit"], "cardData": {"license": "mit"}})  # fmt: skip
    lab_server.routes["/testlab/nimbus-3/raw/main/README.md"] = lab_server.routes["/news.rss"].__class__(b"no card")
    from tests.trackers.conftest import hub_routes

    hub_routes(lab_server, page1=dumps(page))
    second = await tracker.run_cycle(NOW + timedelta(hours=7))
    with Session(catalog_engine) as session:
        announced = [
            session.exec(select(Event.subject, Event.kind).where(Event.id == i)).one() for i in second.announced
        ]
    assert announced == [("model:nimbus-3", events.NEW_MODEL)]
    third = await tracker.run_cycle(NOW + timedelta(hours=14))
    assert third.announced == ()


async def test_the_second_cycle_is_answered_not_modified_and_stores_nothing_twice(
    lab_server, make_tracker, catalog_engine
):
    tracker = make_tracker(lab_specs(lab_server))
    await tracker.run_cycle(NOW)
    observations, changes, events_before = (count(catalog_engine, t) for t in (Observation, OpennessChange, Event))
    report = await tracker.run_cycle(NOW + timedelta(hours=7))
    statuses = {name: s.status for name, s in by_name(report).items()}
    assert statuses["testlab-news"] == "not_modified" and statuses["testlab-github"] == "not_modified"
    assert statuses["testlab-hub"] == "ok" and statuses["epoch"] == "ok"  # no validators: read again, same facts
    assert (count(catalog_engine, Observation), count(catalog_engine, OpennessChange)) == (observations, changes)
    assert count(catalog_engine, Event) == events_before
    news_requests = [headers for path, headers in lab_server.requests if path == "/news.rss"]
    assert news_requests[-1]["If-None-Match"] == '"news-v1"'
    assert news_requests[-1]["User-Agent"].startswith("SunsetClauseTest/1 (+https://")


async def test_only_due_sources_are_polled(lab_server, make_tracker):
    tracker = make_tracker(lab_specs(lab_server))
    await tracker.run_cycle(NOW)
    assert tracker.due(NOW + timedelta(hours=1)) == []
    assert set(tracker.due(NOW + timedelta(hours=6))) == set(tracker.names)


@pytest.mark.parametrize("broken", ["testlab-news", "testlab-hub"])
async def test_a_crash_mid_cycle_leaves_a_consistent_store_that_the_next_cycle_completes(
    lab_server, make_tracker, catalog_engine, monkeypatch, broken
):
    from trackers.reconcile import reconcile as real

    def crashing(session, spec, *args, **kwargs):
        if spec.name == broken:
            raise RuntimeError("injected crash")
        return real(session, spec, *args, **kwargs)

    monkeypatch.setattr("trackers.cycle.reconcile", crashing)
    tracker = make_tracker(lab_specs(lab_server), concurrency=1)
    with pytest.raises(RuntimeError, match="injected crash"):
        await tracker.run_cycle(NOW)
    with Session(catalog_engine) as session:
        row = session.exec(select(Source).where(Source.name == broken)).first()
        assert row is None or row.last_ok_at is None  # its batch was rolled back whole
    monkeypatch.setattr("trackers.cycle.reconcile", real)
    report = await tracker.run_cycle(NOW + timedelta(minutes=1))
    assert broken in by_name(report)
    # The same end state as a clean run: compare with a fresh database built without the crash.
    with Session(catalog_engine) as session:
        duplicates = session.exec(
            select(Observation.model_id, Observation.fact, Observation.value, func.count())
            .group_by(
                col(Observation.model_id),
                col(Observation.origin),
                col(Observation.fact),
                col(Observation.value),
                col(Observation.url),
            )
            .having(func.count() > 1)
        ).all()
        assert duplicates == []
        assert {s.name: s.status for s in session.exec(select(Source)).all() if not s.name.startswith("catalog")} == {
            "testlab-news": "ok", "testlab-github": "ok", "testlab-hub": "ok", "epoch": "ok"
        }  # fmt: skip
        assert models(catalog_engine)["nimbus-mini-1.5"].state == "confirmed"


async def test_a_cycle_cancelled_while_storing_ends_only_after_its_transaction(
    lab_server, make_tracker, catalog_engine, monkeypatch
):
    real, entered = reconcile_module.reconcile, threading.Event()

    def slow(*args, **kwargs):
        entered.set()
        time.sleep(0.5)  # a long transaction, in the worker thread
        return real(*args, **kwargs)

    monkeypatch.setattr("trackers.cycle.reconcile", slow)
    news = SourceSpec("testlab-news", "rss", "testlab", options={"url": lab_server.url("/news.rss")})
    cycle = asyncio.create_task(make_tracker([news]).run_cycle(NOW))
    assert await asyncio.to_thread(entered.wait, 10)
    cycle.cancel()
    with pytest.raises(asyncio.CancelledError):
        await cycle
    with Session(catalog_engine) as session:  # no write may land after the cycle is over
        row = session.exec(select(Source).where(Source.name == "testlab-news")).first()
        assert row is not None and row.status == "ok"
        assert session.exec(select(Model.state).where(Model.slug == "nimbus-2")).one() == "unconfirmed"


async def test_a_bug_while_polling_one_source_is_recorded_on_it_and_the_cycle_still_ends(
    lab_server, make_tracker, catalog_engine, monkeypatch
):
    real = http.fetch

    async def buggy(client, url, **kwargs):
        if url.endswith("/releases.atom"):
            raise KeyError("a bug of ours")
        return await real(client, url, **kwargs)

    monkeypatch.setattr("trackers.cycle.fetch", buggy)
    report = await asyncio.wait_for(make_tracker(lab_specs(lab_server)).run_cycle(NOW), 30)
    sources = by_name(report)
    assert sources["testlab-github"].status == "error"
    assert sources["testlab-github"].error == "internal error: KeyError: 'a bug of ours'"
    assert sources["testlab-news"].status == "ok" and sources["testlab-hub"].status == "ok"


async def test_the_hub_token_goes_only_to_the_sources_own_host_even_when_a_next_page_names_another(
    server, make_tracker
):
    from tests.trackers.server import LoopbackServer, Route

    with LoopbackServer() as elsewhere:
        elsewhere.routes["/api/models"] = Route(b"[]", headers={"Content-Type": "application/json"})
        next_page = f'<http://localhost:{elsewhere.port}/api/models?cursor=2>; rel="next"'
        page1 = fixture("hub/testlab_page1.json")
        server.routes["/api/models"] = Route(page1, headers={"Content-Type": "application/json", "Link": next_page})
        spec = SourceSpec("hub", "huggingface", "testlab", options={"author": "testlab", "endpoint": server.url("")})
        await make_tracker([spec], hf_token="hf_secret").run_cycle(NOW)
    assert server.requests[0][1].get("Authorization") == "Bearer hf_secret"
    assert elsewhere.hits("/api/models") == 1
    assert "Authorization" not in elsewhere.requests[0][1]


async def test_the_catalog_is_a_source_like_the_others_applied_whole_and_rolled_back_whole(
    lab_server, make_tracker, catalog_engine, tmp_path
):
    folder = tmp_path / "catalog"  # the folder catalog_engine loaded
    catalog = SourceSpec("catalog", "catalog", options={"path": str(folder)})
    news = SourceSpec("testlab-news", "rss", "testlab", options={"url": lab_server.url("/news.rss")})
    tracker = make_tracker([catalog, news])
    first = by_name(await tracker.run_cycle(NOW))
    assert (first["catalog"].status, first["catalog"].changed) == ("not_modified", 0)  # loaded already, unchanged
    assert first["testlab-news"].status == "ok"

    lab_file = folder / "testlab.toml"
    lab_file.write_text(lab_file.read_text().replace("Restricted LM", "Restricted LM v2"))
    (folder / "zz.toml").write_text('[lab]\nslug = "zz"\nname = "Z"\nurl = "not a url"\n')
    broken = by_name(await tracker.run_cycle(NOW + timedelta(days=1), names=["catalog", "testlab-news"]))
    assert broken["catalog"].status == "error" and "zz.toml" in (broken["catalog"].error or "")
    assert broken["testlab-news"].status == "not_modified"  # one failing source never stops the others
    assert models(catalog_engine)["restricted"].name == "Restricted LM"  # nothing of that load was kept

    (folder / "zz.toml").unlink()
    fixed = by_name(await tracker.run_cycle(NOW + timedelta(days=2), names=["catalog"]))
    assert (fixed["catalog"].status, fixed["catalog"].changed, fixed["catalog"].items) == ("ok", 1, 3)
    assert models(catalog_engine)["restricted"].name == "Restricted LM v2"
    with Session(catalog_engine) as session:
        row = session.exec(select(Source).where(Source.name == "catalog")).one()
    assert (row.kind, row.url, row.status, row.items_seen, row.last_error) == ("catalog", str(folder), "ok", 3, None)
