import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import insert, inspect, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel, select

from db.engine import make_engine
from db.migrate import alembic_config, compare_type, current_revision, is_current, upgrade
from db.models import Lab, Model, Observation, claim_digest, utcnow
from db.revisions import script_heads

EXPECTED_TABLES = {
    "lab", "model", "alias", "observation", "opennesschange", "source", "event",
    "subscription", "guildsettings", "delivery", "pledge", "meta", "challenge",
}  # fmt: skip


def test_an_empty_database_migrates_to_head_with_every_table(database_url):
    engine = make_engine(database_url)
    assert current_revision(engine) is None
    upgrade(engine)
    assert current_revision(engine) is not None
    assert set(inspect(engine).get_table_names()) >= EXPECTED_TABLES
    engine.dispose()


def test_autogenerate_finds_no_difference_between_migrations_and_models(engine):
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": compare_type})
        differences = compare_metadata(context, SQLModel.metadata)
    assert differences == []


def test_upgrading_twice_is_harmless(engine):
    revision = current_revision(engine)
    upgrade(engine)
    assert current_revision(engine) == revision


def test_the_heads_read_from_the_migration_files_are_alembics(engine):
    from alembic.script import ScriptDirectory

    assert script_heads() == frozenset(ScriptDirectory.from_config(alembic_config(engine)).get_heads())


def test_only_a_database_at_the_head_counts_as_current(database_url):
    engine = make_engine(database_url)
    assert not is_current(engine)  # empty: no version table
    upgrade(engine, "0001")
    assert not is_current(engine)
    upgrade(engine)  # the check says "not current", so Alembic runs and brings it to the head
    assert current_revision(engine) in (script_heads() or ())
    assert is_current(engine)
    engine.dispose()


def test_sqlite_runs_with_wal_and_foreign_keys(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'x' / 'nested.sqlite3'}")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000
    engine.dispose()


def test_a_0001_database_upgrades_and_then_keeps_long_release_urls(database_url):
    engine = make_engine(database_url)
    upgrade(engine, "0001")
    upgrade(engine)
    url = "https://lab.example/" + "a" * 900
    with Session(engine) as session:
        lab = Lab(slug="lab", name="Lab")
        session.add(lab)
        session.flush()
        assert lab.id is not None
        session.add(Model(slug="m", name="M", lab_id=lab.id, first_release="2026", first_release_url=url))
        session.commit()
        assert session.exec(select(Model.first_release_url)).one() == url
    engine.dispose()


def test_0003_fills_each_observations_claim_and_keeps_them_unique(database_url):
    engine = make_engine(database_url)
    upgrade(engine, "0002")
    rows = [("released", "2020-01-01", "https://a.example/1"), ("license", "MIT", "https://a.example/2")]
    lab, model = SQLModel.metadata.tables["lab"], SQLModel.metadata.tables["model"]
    with engine.begin() as connection:  # the 0002 schema, written to directly: no claim column yet
        connection.execute(insert(lab).values(id=1, slug="lab", name="Lab", hf_orgs=""))
        connection.execute(
            insert(model).values(id=1, slug="m", name="M", lab_id=1, state="confirmed", origin="catalog",
                                 created_at=utcnow(), updated_at=utcnow())
        )  # fmt: skip
        for fact, value, url in rows:
            connection.execute(
                text("INSERT INTO observation (model_id, origin, rank, fact, value, url, seen_at) "
                     "VALUES (1, 'catalog', 80, :fact, :value, :url, :seen)"),
                {"fact": fact, "value": value, "url": url, "seen": utcnow()},
            )  # fmt: skip
    upgrade(engine)
    with Session(engine) as session:
        stored = session.exec(select(Observation.fact, Observation.value, Observation.url, Observation.claim)).all()
        assert sorted(claim for *_, claim in stored) == sorted(claim_digest(*row) for row in rows)
        session.add(Observation(model_id=1, origin="catalog", rank=80, fact="license", value="MIT",
                                url="https://a.example/2"))  # fmt: skip
        with pytest.raises(IntegrityError):
            session.commit()
    engine.dispose()
