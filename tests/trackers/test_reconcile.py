"""Reconciliation rules and the moderator's review: precedence, unconfirmed names, confirm / merge / reject."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import event
from sqlmodel import Session, select

from db.models import Event, Model
from tests.trackers.conftest import NOW, lab_specs
from tests.trackers.server import Route
from trackers import events, review
from trackers.reconcile import Index, decide_release, reconcile
from trackers.sources import ANNOUNCEMENT, ARTEFACT, Sighting, SourceSpec
from trackers.store.models import load_catalogue, resolve_name


def test_the_catalog_outranks_trackers_and_otherwise_the_earliest_credible_date_wins():
    assert decide_release([("2024-05-02", "hub", 60), ("2024-05-01", "blog", 40), ("2023", "epoch", 20)]) == (
        "2023", "epoch",
    )  # fmt: skip
    assert decide_release([("2024-05-02", "catalog", 80), ("2024-05-01", "blog", 40)]) == ("2024-05-02", "catalog")
    assert decide_release([("2024-05-02", "catalog", 80), ("2024-06-01", "mod", 100)]) == ("2024-06-01", "mod")
    assert decide_release([("undated", "blog", 40)]) is None


async def test_an_announced_name_waits_for_review_and_confirming_it_announces_it(
    lab_server, make_tracker, catalog_engine
):
    await make_tracker(lab_specs(lab_server)).run_cycle(NOW)
    with Session(catalog_engine) as session:
        waiting = {item.slug: item for item in review.pending(session)}
        assert "nimbus-2" in waiting and ("cue:access", "api") in {(f, v) for f, v, _ in waiting["nimbus-2"].evidence}
        assert resolve_name(session, "Nimbus 2").slug is None  # hidden until confirmed
        announced = review.confirm(session, "Nimbus 2", NOW)
        assert [(e.subject, e.kind, e.announce) for e in announced] == [("model:nimbus-2", events.NEW_MODEL, True)]
        assert json.loads(announced[0].payload)["lab"] == "testlab"  # the alert names the lab, not "unknown lab"
        assert resolve_name(session, "nimbus 2").slug == "nimbus-2"
        record = load_catalogue(session, slugs={"nimbus-2"}).records["nimbus-2"]
        assert str(record.first_release) == "2026-11-09" and record.initial.access == "unreleased"  # L0: no artefact
        with pytest.raises(review.ReviewError, match="no unconfirmed model"):
            review.confirm(session, "Nimbus 2", NOW)


async def test_merging_makes_the_name_an_alias_and_rejecting_keeps_it_from_coming_back(
    lab_server, make_tracker, catalog_engine
):
    tracker = make_tracker(lab_specs(lab_server))
    await tracker.run_cycle(NOW)
    with Session(catalog_engine) as session:
        review.merge(session, "nimbus-2", "Restricted LM", NOW)
        session.commit()
        assert resolve_name(session, "Nimbus 2").slug == "restricted"
        assert any(e.origin == "testlab-news" and e.fact == "announced" for e in review.evidence(session, "restricted"))
    lab_server.routes["/news.rss"].etag = None  # serve it again in full
    await tracker.run_cycle(NOW + timedelta(hours=7), names=["testlab-news"])
    with Session(catalog_engine) as session:
        assert session.exec(select(Model).where(Model.slug == "nimbus-2")).first() is None  # matched by alias now
        unconfirmed = [item.slug for item in review.pending(session)]
        for slug in unconfirmed:
            review.reject(session, slug, NOW)
        session.commit()
    await tracker.run_cycle(NOW + timedelta(hours=14), names=["testlab-news"])
    with Session(catalog_engine) as session:
        assert review.pending(session) == []
        assert session.exec(select(Event).where(Event.kind == events.NEW_MODEL, Event.announce)).all() == []


async def test_evidence_lists_every_claim_including_disagreeing_ones(lab_server, make_tracker, catalog_engine):
    await make_tracker(lab_specs(lab_server)).run_cycle(NOW)
    with Session(catalog_engine) as session:
        claims = {(e.fact, e.value, e.origin, e.rank) for e in review.evidence(session, "oldnet")}
    assert ("released", "2012-09", "catalog", 80) in claims
    assert ("released", "2012-09-14", "epoch", 20) in claims
    assert ("access", "hosted", "catalog", 80) in claims and ("access", "unreleased", "epoch", 20) in claims
    assert ("access", "gated", "testlab-hub", 60) in claims


async def test_evidence_is_shown_only_for_visible_models_though_review_lists_the_unconfirmed(
    lab_server, make_tracker, catalog_engine
):
    await make_tracker(lab_specs(lab_server)).run_cycle(NOW)
    with Session(catalog_engine) as session:
        waiting = {item.slug: item for item in review.pending(session)}
        shown = review.evidence_by_model(session)
        assert waiting["nimbus-2"].evidence  # the moderator sees what was claimed
        assert "nimbus-2" not in shown and review.evidence(session, "nimbus-2") == []  # no public surface does
        assert "oldnet" in shown


async def test_review_actions_leave_the_commit_to_the_caller(lab_server, make_tracker, catalog_engine):
    await make_tracker(lab_specs(lab_server)).run_cycle(NOW)
    for act in (
        lambda s: review.reject(s, "nimbus-2", NOW),
        lambda s: review.merge(s, "nimbus-2", "Restricted LM", NOW),
    ):
        with Session(catalog_engine) as session:
            act(session)
            session.rollback()
        with Session(catalog_engine) as session:
            assert [item.slug for item in review.pending(session)] == ["nimbus-2"]
    with Session(catalog_engine) as session:
        review.reject(session, "nimbus-2", NOW)
        session.commit()
    with Session(catalog_engine) as session:
        assert review.pending(session) == []


async def test_review_offers_the_labs_models_with_a_close_name_and_the_same_numbers(
    server, make_tracker, catalog_engine
):
    items = "".join(
        f"<item><title>Introducing {name}</title><link>https://t.example/{n}</link><guid>{n}</guid>"
        "<pubDate>Mon, 02 Nov 2026 10:00:00 +0000</pubDate></item>"
        for n, name in enumerate(["Opened Later Turbo", "OldNet 2", "Zebra"])
    )
    server.routes["/news"] = Route(f'<rss version="2.0"><channel><title>T</title>{items}</channel></rss>'.encode())
    spec = SourceSpec("news", "rss", "testlab", options={"url": server.url("/news")})
    await make_tracker([spec]).run_cycle(NOW)
    with Session(catalog_engine) as session:
        similar = {item.name: item.similar for item in review.pending(session)}
    assert similar == {
        "Opened Later Turbo": ("opened-later",),  # a merge candidate for the moderator
        "OldNet 2": (),  # a new version is not the old model
        "Zebra": (),
    }


def test_a_lab_artefact_confirming_an_announced_name_keeps_the_earlier_announced_release_date(catalog_engine):
    """The bug fixed in the load → decide → apply rewrite: confirming a name used only the artefact's claims."""
    news = SourceSpec("testlab-news", "rss", "testlab")
    hub = SourceSpec("testlab-hub", "huggingface", "testlab")
    announced = Sighting("Zephyr 3", "announced", "2026-10-01", "https://testlab.example/zephyr-3", ANNOUNCEMENT)
    repo = "testlab/zephyr-3"
    artefact = [
        Sighting("Zephyr 3", "released", "2026-10-20", f"https://hub.example/{repo}", ARTEFACT, hf_repo=repo),
        Sighting("Zephyr 3", "access", "download", f"https://hub.example/{repo}", ARTEFACT, hf_repo=repo),
    ]
    with Session(catalog_engine) as session:
        index = Index.load(session)
        assert reconcile(session, news, [announced], index=index, now=NOW).unconfirmed == 1
        result = reconcile(session, hub, artefact, index=index, now=NOW)
        session.commit()
        model = session.exec(select(Model).where(Model.slug == "zephyr-3")).one()
    assert (result.created, result.changed, model.state) == (0, 1, "confirmed")
    assert (model.first_release, model.first_release_url) == ("2026-10-01", "https://testlab.example/zephyr-3")


@pytest.mark.parametrize("repos", [10, 200])
def test_sightings_stored_before_cost_a_fixed_number_of_statements_however_many(catalog_engine, repos):
    hub = SourceSpec("testlab-hub", "huggingface", "testlab")
    sightings = [
        Sighting(f"Model {n}", fact, value, f"https://hub.example/testlab/model-{n}", ARTEFACT, f"testlab/model-{n}")
        for n in range(repos)
        for fact, value in (("released", "2026-10-01"), ("access", "download"), ("license", "apache-2.0"))
    ]
    with Session(catalog_engine) as session:
        assert reconcile(session, hub, sightings, index=Index.load(session), now=NOW).created == repos
        session.commit()
    statements: list[str] = []
    event.listen(catalog_engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    with Session(catalog_engine) as session:
        index = Index.load(session)
        statements.clear()
        again = reconcile(session, hub, sightings, index=index, now=NOW)
    assert (again.new_observations, again.changed) == (0, 0)
    assert len(statements) == 2, statements  # the batch's models and their stored claims: not one query per repo
