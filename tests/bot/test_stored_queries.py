"""Lists and counts from the stored assessments give exactly what assessing every model in memory gives."""

import random
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import select

from bot.services import queries
from db.models import Model, utcnow
from tests.helpers import APACHE, LLAMA2, change, record, store_records, write_catalog
from trackers.assess import released_by
from trackers.catalog import catalog_files
from trackers.catalog.sync import sync_catalog
from trackers.events import evaluate_all, evaluate_changed
from trackers.records import Access, Change, ModelRecord, TrainingCode, TrainingData
from trackers.store import assessments, reads
from trackers.store.assessments import Cut
from trackers.sunset import Policy, Profile

ON = date(2026, 12, 5)
POLICIES = [Policy(), Policy(window_years=15, profile=Profile.STRICT), Policy(window_years=12, lead_days=(90, 7))]


def varied_records(count: int = 120):
    rng = random.Random(7)
    records: list[ModelRecord] = []
    for n in range(count):
        year = rng.randint(2009, 2026)
        released = rng.choice([f"{year}", f"{year}-{rng.randint(1, 12):02d}", f"{year}-02-29" if year % 4 == 0
                               else f"{year}-03-01", f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}", None])  # fmt: skip
        access = rng.choice([Access.API, Access.DOWNLOAD, Access.GATED, Access.HOSTED])
        licence = rng.choice([APACHE, LLAMA2, None]) if access is not Access.API else None
        code = rng.choice([TrainingCode.OPEN, TrainingCode.CLOSED, None])
        data = rng.choice([TrainingData.OPEN, TrainingData.DESCRIBED, None])
        changes: tuple[Change, ...] = ()
        if rng.random() < 0.3:  # opened later: some in the past, some after ON
            on = date(2016, 1, 1) + timedelta(days=rng.randint(0, 4500))
            changes = (change(on.isoformat(), access=Access.DOWNLOAD, licence=APACHE),)
        base = rng.choice(records[-10:]) if records and rng.random() < 0.1 else None
        model = record(released, access=access, licence=licence, code=code, data=data, changes=changes,
                       base=base, slug=f"m{n:03d}-{rng.choice(['alpha', 'Beta', 'gamma'])}")  # fmt: skip
        records.append(replace(model, lab=f"lab-{n % 4}"))
    return records


def evaluate_varied(session, *, scanned: bool):
    records = varied_records()
    notable = {r.slug: "Highly cited" if i % 7 == 0 else "Historical significance,SOTA improvement"
               for i, r in enumerate(records) if i % 5 == 0}  # fmt: skip
    store_records(session, records, notability=notable)
    evaluate_all(session, Policy(), ON)
    if scanned:  # models changed within the scan's overlap count as stale: both paths at once
        evaluate_changed(session, Policy(), ON, datetime.now(UTC))
        evaluate_changed(session, Policy(), ON, datetime.now(UTC))
    session.commit()
    return session


@pytest.fixture(params=["evaluated", "then scanned"])
def evaluated(session, request):
    return evaluate_varied(session, scanned=request.param == "then scanned")


def every_model_stale(session, *, policy, on):
    """A cut under which every model's stored assessment is stale (changed after the last scan): none is read."""
    return Cut.of(policy, on, changed_after=datetime(2000, 1, 1, tzinfo=UTC))


def both(monkeypatch, call):
    """The answer from the stored assessments, and the one from assessing every model in memory, in batches."""
    stored = call()
    with monkeypatch.context() as patched:
        patched.setattr(assessments, "cut_of", every_model_stale)
        patched.setattr(queries, "STALE_MAX", 10)  # more stale models than this: read and assessed in batches …
        patched.setattr(queries, "STALE_BATCH", 16)  # … of 16, so a list or a count spans several
        in_memory = call()
    return stored, in_memory


def answers(session, policy, on):
    """Every list and count the surfaces ask for, under `policy` on `on`."""
    calls = {
        "overdue": lambda: queries.overdue(session, policy, on),
        "overdue lab": lambda: queries.overdue(session, policy, on, lab="lab-1", notable_only=True),
        "overdue page": lambda: queries.overdue(session, policy, on, limit=5),
        "upcoming": lambda: queries.upcoming(session, policy, on, days=800),
        "upcoming page": lambda: queries.upcoming(session, policy, on, days=3000, limit=4),
        "recent": lambda: queries.recent(session, policy, on, days=1500),
        "recent page": lambda: queries.recent(session, policy, on, days=3000, limit=4),
        "stats": lambda: queries.stats(session, policy, on),
        "labs": lambda: queries.lab_summaries(session, policy, on),
        "scorecard": lambda: queries.lab_scorecard(session, "lab-2", policy, on, recent_days=3000),
    }
    return calls


@pytest.mark.parametrize("policy", POLICIES, ids=["default", "15y-strict", "12y"])
@pytest.mark.parametrize("days_later", [0, 400, -3000], ids=["today", "later", "long-ago"])
def test_lists_and_counts_match_the_in_memory_assessment(evaluated, monkeypatch, policy, days_later):
    on = ON + timedelta(days=days_later)
    session = evaluated
    for name, call in answers(session, policy, on).items():
        stored, in_memory = both(monkeypatch, call)
        assert stored == in_memory, name
    assert queries.overdue(session, policy, on) or days_later < 0  # the lists are not trivially empty


@pytest.mark.parametrize("policy", POLICIES[:2], ids=["default", "15y-strict"])
def test_more_stale_models_than_the_threshold_give_the_answers_of_an_evaluated_database(session, monkeypatch, policy):
    records = varied_records()
    store_records(session, records)  # never evaluated: every model is stale
    session.commit()
    read: list[int] = []
    original = assessments.read_batch

    def spy(session, *, ids):
        read.append(len(ids))
        return original(session, ids=ids)

    with monkeypatch.context() as patched:
        patched.setattr(queries, "STALE_MAX", 10)
        patched.setattr(queries, "STALE_BATCH", 16)
        patched.setattr(assessments, "read_batch", spy)
        patched.setattr(queries, "load_catalogue", lambda *a, **k: pytest.fail("the whole catalogue was loaded"))
        stale = {name: call() for name, call in answers(session, policy, ON).items() if name != "scorecard"}
    assert read and max(read) <= 16  # in batches: memory bounded by the batch, not the number of stale models
    assert sum(read) >= len(records)
    evaluate_all(session, Policy(), ON)
    session.commit()
    evaluated = {name: call() for name, call in answers(session, policy, ON).items() if name != "scorecard"}
    assert stale == evaluated
    assert stale["overdue"] and stale["stats"].models == len([r for r in records if released_by(r, ON)])


def test_a_scorecard_over_many_stale_models_matches_the_evaluated_one(session, monkeypatch):
    store_records(session, varied_records())
    session.commit()
    with monkeypatch.context() as patched:
        patched.setattr(queries, "STALE_MAX", 10)
        patched.setattr(queries, "STALE_BATCH", 16)
        stale = queries.lab_scorecard(session, "lab-2", Policy(), ON, recent_days=3000)
    evaluate_all(session, Policy(), ON)
    session.commit()
    assert stale == queries.lab_scorecard(session, "lab-2", Policy(), ON, recent_days=3000)
    assert stale.models and stale.longest_overdue and stale.recently_opened


def test_the_stored_path_reads_no_model_it_does_not_show(session, monkeypatch):
    evaluated = evaluate_varied(session, scanned=False)
    loaded = []
    original = queries.load_catalogue  # type: ignore[attr-defined]

    def spy(*args, **kwargs):
        loaded.append(kwargs)
        return original(*args, **kwargs)

    monkeypatch.setattr(queries, "load_catalogue", spy)
    queries.overdue(evaluated, Policy(), ON, limit=10)
    queries.stats(evaluated, Policy(), ON)
    assert loaded == []  # every model's stored level holds today: nothing is assessed in memory


def test_a_model_added_since_the_evaluation_is_counted_and_listed_at_once(evaluated):
    before = queries.stats(evaluated, Policy(), ON)
    store_records(evaluated, [replace(record("2010-01-01", slug="fresh-closed"), lab="lab-0")])
    assert evaluated.get(Model, 121) is None or evaluated.get(Model, 121).assessed_on is None
    after = queries.stats(evaluated, Policy(), ON)
    assert after.models == before.models + 1
    assert after.by_status["overdue"] == before.by_status["overdue"] + 1
    assert "fresh-closed" in {row.slug for row in queries.overdue(evaluated, Policy(), ON)}


def test_the_name_index_streamed_from_the_database_answers_as_one_built_from_rows(session, tmp_path):
    sync_catalog(session, catalog_files(write_catalog(tmp_path / "catalog")))
    streamed = queries.load_name_index(session)
    lean = queries.load_name_index(session, texts=False)  # what the bot keeps: names read for the models found
    built = queries.NameIndex(reads.name_rows(session))
    assert len(streamed) == len(lean) == len(built) > 0
    for typed in ("", "o", "old", "net", "olndet", "restricted", "zzz", "LM"):
        assert streamed.search(typed, 5) == built.search(typed, 5), typed
        assert queries.search_names(session, lean, typed, 5) == built.search(typed, 5), typed
    with pytest.raises(ValueError, match="needs `names`"):
        lean.search("old", 5)


def test_a_model_changed_after_the_last_change_scan_is_judged_on_its_new_facts(evaluated):
    store_records(evaluated, [replace(record("2025-01-01", slug="moved"), lab="lab-0")])
    evaluate_all(evaluated, Policy(), ON)
    evaluate_changed(evaluated, Policy(), ON, datetime.now(UTC))  # the scan's mark: everything until now is stored
    evaluated.commit()
    assert "moved" not in {row.slug for row in queries.overdue(evaluated, Policy(), ON)}
    model = evaluated.exec(select(Model).where(Model.slug == "moved")).one()
    model.first_release, model.updated_at = "2010-01-01", utcnow()  # an edit, before the next scan
    evaluated.commit()
    assert "moved" in {row.slug for row in queries.overdue(evaluated, Policy(), ON)}


def whole_catalogue_list(session, policy, on, *, status=None, labs=(), notable_only=False, level=None, sort="notable",
                         limit=None):  # fmt: skip
    """`sunset list` as it was computed before batches: every model loaded and assessed at once."""
    from bot.present.assessment import card_of as present_card
    from trackers.assess import assess
    from trackers.store.models import load_catalogue

    catalogue = load_catalogue(session)
    chosen = [
        a
        for a in (assess(record, policy, on) for record in catalogue.records.values() if released_by(record, on))
        if (not labs or a.record.lab in labs)
        and (a.record.notability or not notable_only)
        and (status is None or a.verdict.status is status)
        and (level is None or a.level is level)
    ]
    chosen.sort(key=lambda a: (queries.LIST_SORTS[sort](a), a.record.slug))
    return [
        present_card(a, lab_name=catalogue.lab_name(a.record), sources=catalogue.sources.get(a.record.slug, ()))
        for a in chosen[:limit]
    ]


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"limit": 7},
        {"sort": "sunset", "limit": 11},
        {"sort": "name"},
        {"status": "overdue", "limit": 5},
        {"status": "open", "sort": "name", "limit": 9},
        {"labs": {"lab-1", "lab-3"}, "notable_only": True},
        {"level": "L2", "sort": "sunset"},
    ],
    ids=["all", "page", "by sunset", "by name", "overdue page", "open by name", "labs notable", "level"],
)
def test_the_model_list_read_in_batches_is_the_whole_catalogues(session, monkeypatch, options):
    from trackers.records import Level
    from trackers.sunset import Status

    evaluate_varied(session, scanned=False)
    if "status" in options:
        options = options | {"status": Status(options["status"])}
    if "level" in options:
        options = options | {"level": Level(options["level"])}
    for policy in POLICIES:
        expected = whole_catalogue_list(session, policy, ON, **options)
        monkeypatch.setattr(queries, "STALE_BATCH", 16)  # 120 models: eight batches
        assert queries.model_list(session, policy, ON, **options) == expected
        assert expected or options.get("level")  # the options select something (a level may select none)
