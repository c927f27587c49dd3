"""The weekly digest: what it reports under a server's policy, when it is due, and that it is queued once."""

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise

from sqlmodel import select

from bot.runtime.config import SunsetSettings
from bot.services.digest import WEEKLY_DIGEST, Digest, build_digest, digest_slot, queue_due_digests
from db.models import Delivery, Event, GuildSettings
from tests.helpers import APACHE, change, record, write_catalog
from trackers.catalog import catalog_files
from trackers.catalog.sync import sync_catalog
from trackers.records import Access
from trackers.store.models import Catalogue
from trackers.sunset import Policy, Profile


def catalogue(*records):
    return Catalogue(records={r.slug: r for r in records}, lab_names={"lab": "Lab"}, sources={})


def test_the_digest_lists_sunsets_passed_and_approaching_and_models_opened_this_week():
    passed = record("2016-03-10", slug="passed")
    soon = record("2016-05-01", slug="soon")
    opened = record(
        "2010-01-01", slug="opened", changes=(change("2026-03-12", access=Access.DOWNLOAD, licence=APACHE),)
    )
    digest = build_digest(catalogue(passed, soon, opened), Policy(), since=date(2026, 3, 8), on=date(2026, 3, 15),
                          new_models=["New One"], pledges=[("Passed", 4)])  # fmt: skip
    assert digest.sunsets_passed == [("Passed", "2026-03-10")]
    assert digest.approaching == [("Soon", "2026-05-01")]
    assert digest.opened == [("Opened", "L2")]
    assert digest.by_year_level == {2010: {"L2": 1}, 2016: {"L0": 2}}
    assert Digest.from_payload(digest.to_payload()) == digest


def test_a_sunset_on_the_digest_day_is_approaching_that_day_and_passed_in_the_next_digest():
    wavenet = record("2016-09-08", slug="wavenet")  # sunset Tuesday 2026-09-08, a Tuesday digest
    weeks = [(date(2026, 9, 1), date(2026, 9, 8)), (date(2026, 9, 8), date(2026, 9, 15))]
    digests = [build_digest(catalogue(wavenet), Policy(), since=since, on=on, new_models=[], pledges=[])
               for since, on in weeks]  # fmt: skip
    assert digests[0].sunsets_passed == [] and digests[0].approaching == [("Wavenet", "2026-09-08")]
    assert digests[1].sunsets_passed == [("Wavenet", "2026-09-08")] and digests[1].approaching == []


def test_every_sunset_is_passed_in_exactly_one_of_consecutive_digests():
    first = date(2026, 9, 1)
    models = [record(f"2016-09-{day:02d}", slug=f"m{day}") for day in range(1, 23)]
    tuesdays = [first + timedelta(days=7 * week) for week in range(5)]
    passed: Counter[str] = Counter()
    for since, on in pairwise(tuesdays):
        digest = build_digest(catalogue(*models), Policy(), since=since, on=on, new_models=[], pledges=[])
        passed.update(name for name, _ in digest.sunsets_passed)
    assert passed == Counter({model.name: 1 for model in models})


def test_the_servers_policy_decides_what_the_digest_reports():
    model = record("2016-03-10", slug="m", access=Access.DOWNLOAD, licence=APACHE)
    strict = build_digest(catalogue(model), Policy(profile=Profile.STRICT), since=date(2026, 3, 8),
                          on=date(2026, 3, 15), new_models=[], pledges=[])  # fmt: skip
    weights = build_digest(catalogue(model), Policy(), since=date(2026, 3, 8), on=date(2026, 3, 15),
                           new_models=[], pledges=[])  # fmt: skip
    assert strict.sunsets_passed == [("M", "2026-03-10")] and weights.sunsets_passed == []


def test_the_digest_slot_is_the_latest_weekday_and_hour_not_after_now():
    now = datetime(2026, 3, 18, 10, 30, tzinfo=UTC)  # a Wednesday
    assert digest_slot(now, 0, 9) == datetime(2026, 3, 16, 9, tzinfo=UTC)
    assert digest_slot(now, 2, 11) == datetime(2026, 3, 11, 11, tzinfo=UTC)
    assert digest_slot(now, 2, 10) == datetime(2026, 3, 18, 10, tzinfo=UTC)


def test_a_due_digest_is_queued_once_per_server_and_week(session, tmp_path):
    sync_catalog(session, catalog_files(write_catalog(tmp_path / "catalog")))
    session.add(GuildSettings(guild_id=42, alerts_channel_id=7, digest_weekday=0, digest_hour=9))
    session.add(GuildSettings(guild_id=43, alerts_channel_id=8))  # digest off
    session.commit()
    monday = datetime(2026, 3, 16, 9, 5, tzinfo=UTC)
    assert queue_due_digests(session, monday, SunsetSettings()) == [42]
    assert queue_due_digests(session, monday.replace(hour=10), SunsetSettings()) == []
    events = session.exec(select(Event).where(Event.kind == WEEKLY_DIGEST)).all()
    deliveries = session.exec(select(Delivery)).all()
    assert [(e.subject, e.key) for e in events] == [("guild:42", "2026-03-16")]
    assert [d.target for d in deliveries] == ["channel:7"]
    assert queue_due_digests(session, datetime(2026, 3, 23, 9, 0, tzinfo=UTC), SunsetSettings()) == [42]


def test_unreviewed_and_rejected_names_never_reach_a_digest_or_the_pledge_board(session, tmp_path):
    import json

    from bot.services.queries import top_pledges
    from db.models import Lab, Model, Pledge

    sync_catalog(session, catalog_files(write_catalog(tmp_path / "catalog")))
    lab = session.exec(select(Lab)).first()
    monday = datetime(2026, 3, 16, 9, 5, tzinfo=UTC)
    for slug, state in (("waiting-name", "unconfirmed"), ("rejected-name", "rejected"), ("fresh-model", "confirmed")):
        model = Model(slug=slug, name=slug.title(), lab_id=lab.id, state=state, origin="news",
                      created_at=monday.replace(day=14), updated_at=monday.replace(day=14))  # fmt: skip
        session.add(model)
        session.flush()
        assert model.id is not None
        session.add(Pledge(model_id=model.id, user_id=1, guild_id=42))
    session.add(GuildSettings(guild_id=42, alerts_channel_id=7, digest_weekday=0, digest_hour=9))
    session.commit()
    assert queue_due_digests(session, monday, SunsetSettings()) == [42]
    (event,) = session.exec(select(Event).where(Event.kind == WEEKLY_DIGEST)).all()
    payload = json.loads(event.payload)
    hidden = {"Waiting-Name", "Rejected-Name"}
    assert "Fresh-Model" in payload["new_models"] and not hidden & set(payload["new_models"])
    assert [name for name, _ in payload["top_pledges"]] == ["Fresh-Model"]
    assert [name for name, _ in top_pledges(session)] == ["Fresh-Model"]
