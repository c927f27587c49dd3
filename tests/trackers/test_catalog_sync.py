from datetime import date

import pytest
from sqlmodel import select

from db.models import Lab, Model, Observation, Pledge
from tests.helpers import SMALL_CATALOG, write_catalog
from trackers.catalog import CatalogError, catalog_files
from trackers.catalog.sync import sync_catalog
from trackers.records import Level
from trackers.store.models import load_catalogue, resolve_name


@pytest.fixture
def catalog_dir(tmp_path):
    return write_catalog(tmp_path / "catalog")


def test_loading_a_catalog_creates_labs_models_and_sourced_facts(session, catalog_dir):
    result = sync_catalog(session, catalog_files(catalog_dir))
    assert (result.files_loaded, result.models) == (1, 3)
    assert session.exec(select(Lab.name)).all() == ["Test Lab"]
    catalogue = load_catalogue(session)
    assert set(catalogue.records) == {"oldnet", "opened-later", "restricted"}
    released = session.exec(select(Observation).where(Observation.fact == "released")).all()
    assert {o.url for o in released} == {
        "https://testlab.example/oldnet", "https://testlab.example/ol", "https://testlab.example/r",
    }  # fmt: skip


def test_history_survives_the_round_trip_so_levels_replay_by_date(session, catalog_dir):
    from trackers.openness import level_as_of

    sync_catalog(session, catalog_files(catalog_dir))
    record = load_catalogue(session).records["opened-later"]
    assert level_as_of(record, date(2019, 12, 31)) is Level.L0
    assert level_as_of(record, date(2020, 1, 15)) is Level.L2


def test_an_unchanged_file_is_not_loaded_again(session, catalog_dir):
    sync_catalog(session, catalog_files(catalog_dir))
    again = sync_catalog(session, catalog_files(catalog_dir))
    assert (again.files_loaded, again.files_unchanged) == (0, 1)


def test_a_changed_file_updates_facts_and_keeps_pledges(session, catalog_dir):
    sync_catalog(session, catalog_files(catalog_dir))
    oldnet = session.exec(select(Model).where(Model.slug == "oldnet")).one()
    session.add(Pledge(model_id=oldnet.id, user_id=2**62, guild_id=2**61))
    session.commit()
    text = SMALL_CATALOG["testlab.toml"].replace('date = "2012-09"', 'date = "2012-09-30"')
    (catalog_dir / "testlab.toml").write_text(text.replace("Restricted LM", "Restricted LM v2"))
    result = sync_catalog(session, catalog_files(catalog_dir))
    assert result.files_loaded == 1
    session.expire_all()
    assert session.exec(select(Model.first_release).where(Model.slug == "oldnet")).one() == "2012-09-30"
    assert session.exec(select(Model.name).where(Model.slug == "restricted")).one() == "Restricted LM v2"
    assert session.exec(select(Pledge.user_id)).all() == [2**62]


def test_a_model_removed_from_its_file_is_withdrawn_not_deleted(session, catalog_dir):
    sync_catalog(session, catalog_files(catalog_dir))
    text = SMALL_CATALOG["testlab.toml"]
    (catalog_dir / "testlab.toml").write_text(text[: text.index('[[models]]\nslug = "restricted"')])
    sync_catalog(session, catalog_files(catalog_dir))
    assert session.exec(select(Model.state).where(Model.slug == "restricted")).one() == "withdrawn"
    assert "restricted" not in load_catalogue(session).records


def test_a_malformed_file_raises_a_readable_error_and_writes_nothing(session, catalog_dir):
    (catalog_dir / "broken.toml").write_text('[lab]\nslug = "broken"\nname = "B"\nurl = "not a url"\n')
    with pytest.raises(CatalogError, match=r"broken\.toml: lab\.url"):
        sync_catalog(session, catalog_files(catalog_dir))
    session.rollback()
    assert session.exec(select(Model)).all() == []


@pytest.mark.parametrize(
    ("typed", "slug"),
    [("OldNet", "oldnet"), ("old-net", "oldnet"), ("OLD NET 2012", "oldnet"), ("testlab/opened-later", "opened-later")],
)
def test_names_resolve_ignoring_case_and_punctuation(session, catalog_dir, typed, slug):
    sync_catalog(session, catalog_files(catalog_dir))
    assert resolve_name(session, typed).slug == slug


def test_a_hub_repository_typed_without_its_owner_resolves(session, catalog_dir):
    (catalog_dir / "more.toml").write_text(
        '[lab]\nslug = "more"\nname = "More"\nurl = "https://more.example/"\n\n[[models]]\nslug = "m-chat"\n'
        'name = "M Chat"\nhf_repos = ["more-org/M-7b-chat-hf"]\n'
        'released = { date = "2020-01-01", source = "https://more.example/m" }\n'
        'access = { value = "api", source = "https://more.example/m" }\n'
    )
    sync_catalog(session, catalog_files(catalog_dir))
    assert resolve_name(session, "M-7b-chat-hf").slug == "m-chat"
    assert resolve_name(session, "m 7b chat hf").slug == "m-chat"


def test_an_unknown_name_gets_fuzzy_suggestions(session, catalog_dir):
    sync_catalog(session, catalog_files(catalog_dir))
    resolution = resolve_name(session, "Restrictd LM")
    assert resolution.slug is None
    assert resolution.suggestions[0] == "restricted"
    assert resolve_name(session, "zzzzqqq").suggestions == ()
