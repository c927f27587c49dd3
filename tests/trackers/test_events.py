from datetime import UTC, date, datetime

from sqlmodel import select

from db.models import Event, Model
from tests.helpers import APACHE, change, record, store_records
from trackers.events import (
    OPENED_AFTER_SUNSET,
    OPENNESS_CHANGED,
    SUNSET_APPROACHING,
    SUNSET_PASSED,
    due_events,
    evaluate_all,
    evaluate_changed,
)
from trackers.records import Access
from trackers.sunset import Policy

POLICY = Policy()


def kinds(drafts):
    return sorted((draft.kind, draft.key) for draft in drafts)


def test_a_closed_model_past_its_sunset_implies_one_passed_event_per_window():
    drafts = due_events(record("2012-09-30"), POLICY, date(2026, 11, 28))
    assert kinds(drafts) == [(SUNSET_PASSED, "w10-weights")]
    assert drafts[0].occurred_on == date(2022, 10, 1)


def test_the_most_imminent_lead_day_warning_is_the_one_implied():
    model = record("2016-12-01")
    assert kinds(due_events(model, POLICY, date(2025, 12, 1))) == [(SUNSET_APPROACHING, "w10-weights-d365")]
    assert kinds(due_events(model, POLICY, date(2026, 9, 2))) == [(SUNSET_APPROACHING, "w10-weights-d90")]
    assert kinds(due_events(model, POLICY, date(2026, 11, 28))) == [(SUNSET_APPROACHING, "w10-weights-d7")]
    assert due_events(model, POLICY, date(2025, 11, 30)) == []


def test_an_opening_after_the_sunset_is_celebrated():
    model = record("2012-01-01", changes=(change("2024-03-17", access=Access.DOWNLOAD, licence=APACHE),))
    drafts = due_events(model, POLICY, date(2026, 1, 1))
    assert [d.kind for d in drafts] == [OPENNESS_CHANGED, OPENED_AFTER_SUNSET]
    assert drafts[0].payload["from"] == "L0" and drafts[0].payload["to"] == "L2"


def test_the_first_evaluation_stores_history_silently_and_later_ones_announce_only_news(session):
    store_records(session, [record("2012-09-30", slug="old"), record("2016-11-30", slug="soon")])
    first = evaluate_all(session, POLICY, date(2026, 11, 28))
    assert first == []
    stored = session.exec(select(Event)).all()
    assert {e.kind for e in stored} == {SUNSET_PASSED, SUNSET_APPROACHING}
    assert not any(e.announce for e in stored)
    # Three days later "soon" crosses its sunset: exactly that is announced, once.
    announced = evaluate_all(session, POLICY, date(2026, 12, 1))
    assert [(e.subject, e.kind) for e in announced] == [("model:soon", SUNSET_PASSED)]
    again = evaluate_all(session, POLICY, date(2026, 12, 1))
    assert again == []
    assert len(session.exec(select(Event).where(Event.kind == SUNSET_PASSED)).all()) == 2


def test_the_evaluation_streams_in_batches_and_stores_every_models_assessment(session):
    store_records(session, [record(f"20{10 + n}-06-30", slug=f"m{n}") for n in range(12)])
    batches: list[list[Event]] = []
    evaluate_all(session, POLICY, date(2026, 12, 5), batch=5, settle=batches.append)
    session.commit()
    session.expire_all()  # the rows were written by the store's executemany, not through these objects
    assert len(batches) == 3  # 5 + 5 + 2 models
    rows = {m.slug: m for m in session.exec(select(Model)).all()}
    assert {m.level for m in rows.values()} == {"L0"}
    assert rows["m0"].status == "overdue" and rows["m0"].sunset_on == date(2020, 6, 30)
    assert rows["m11"].status == "in_window" and rows["m11"].release_latest == date(2021, 6, 30)
    assert all(m.assessed_on == date(2026, 12, 5) for m in rows.values())
    evaluate_all(session, POLICY, date(2026, 12, 6))  # nothing changed: no row rewritten
    session.commit()
    session.expire_all()
    assert all(m.assessed_on == date(2026, 12, 5) for m in session.exec(select(Model)).all())


def test_the_change_scan_stores_the_assessment_of_what_changed(session):
    store_records(session, [record("2012-01-01", slug="old")])
    evaluate_changed(session, POLICY, date(2026, 12, 5), datetime.now(UTC))  # the first scan sets the mark
    session.commit()
    store_records(session, [record("2020-01-01", slug="new", access=Access.DOWNLOAD, licence=APACHE)])
    evaluate_changed(session, POLICY, date(2026, 12, 5), datetime.now(UTC))
    session.commit()
    session.expire_all()  # the rows were written by the store's executemany, not through these objects
    new = session.exec(select(Model).where(Model.slug == "new")).one()
    assert (new.level, new.status, new.assessed_on) == ("L2", "open", date(2026, 12, 5))


def test_a_change_to_a_base_model_re_evaluates_the_models_built_on_it_at_the_next_scan(session):
    from sqlmodel import update

    from db.models import OpennessChange
    from trackers.records import TrainingCode, TrainingData

    base = record(
        "2019-01-01",
        slug="base",
        access=Access.DOWNLOAD,
        licence=APACHE,
        code=TrainingCode.CLOSED,
        data=TrainingData.OPEN,
    )
    tune = record(
        "2020-01-01", slug="tune", access=Access.DOWNLOAD, licence=APACHE, code=TrainingCode.OPEN,
        data=TrainingData.OPEN, checkpoints=True, paper="https://example.org/paper", base=base,
    )  # fmt: skip
    grandchild = record("2021-01-01", slug="grandchild", access=Access.DOWNLOAD, licence=APACHE, base=tune)
    store_records(session, [base, tune, grandchild])
    session.exec(update(Model).values(updated_at=datetime(2026, 12, 1, tzinfo=UTC)))
    evaluate_all(session, POLICY, date(2026, 12, 5))
    evaluate_changed(session, POLICY, date(2026, 12, 5), datetime.now(UTC))  # the first scan sets the mark
    session.commit()
    level = {m.slug: m.level for m in session.exec(select(Model)).all()}
    assert level["tune"] == "L2"  # its training code is capped at its base's (closed)
    # An operator's edit opens the base's training code: only the base's row changes.
    base_id = session.exec(select(Model.id).where(Model.slug == "base")).one()
    session.exec(update(OpennessChange).where(OpennessChange.model_id == base_id).values(training_code="open"))
    session.exec(update(Model).where(Model.id == base_id).values(updated_at=datetime.now(UTC)))
    session.commit()
    evaluate_changed(session, POLICY, date(2026, 12, 5), datetime.now(UTC))
    session.commit()
    session.expire_all()
    rows = {m.slug: m for m in session.exec(select(Model)).all()}
    assert rows["tune"].level == "L4" and rows["tune"].status == "open"  # re-evaluated with its base
    assert rows["grandchild"].assessed_on == date(2026, 12, 5)  # a generation further down was reached too
