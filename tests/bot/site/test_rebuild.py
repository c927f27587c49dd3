"""A long-running builder (`sunset run`) re-renders only the model that changed, its lab and the shared files."""

from datetime import date

from sqlmodel import select

from bot.runtime.app import open_app
from bot.runtime.config import load_settings
from bot.site.build import SiteBuilder
from db.models import Model
from tests.helpers import write_config

ON = date(2026, 11, 28)


def test_after_one_model_changes_only_its_pages_its_lab_and_the_shared_files_are_rendered(tmp_path, database_url):
    settings = load_settings(write_config(tmp_path, database_url), env={})
    builder = SiteBuilder(tmp_path / "board")
    policy = settings.sunset.policy()
    with open_app(settings) as app:
        with app.session() as session:
            first = builder.build(session, policy=policy, on=ON)
            models = {row.slug: row for row in session.exec(select(Model)).all()}
        assert first.write.written == first.files and first.models == 3
        with app.session() as session:
            unchanged = builder.build(session, policy=policy, on=ON)
        assert unchanged.write.written == 0
        with app.session() as session:
            changed = session.get(Model, models["oldnet"].id)
            assert changed is not None
            changed.verified_on = date(2026, 11, 1)
            session.add(changed)
            session.commit()
        with app.session() as session:
            after = builder.build(session, policy=policy, on=ON)
    reused = builder._cache.reused
    assert "models/oldnet/index.html" not in reused and "api/v1/models/oldnet.json" not in reused
    others = [slug for slug in models if slug != "oldnet"]
    assert all(f"models/{slug}/index.html" in reused for slug in others)
    assert "verified" in (tmp_path / "board/api/v1/models/oldnet.json").read_text()
    assert "2026-11-01" in (tmp_path / "board/models/oldnet/index.html").read_text()
    assert 0 < after.write.written < 10  # its page and JSON, its lab's page, the home page and the API lists


def test_a_big_lab_is_split_into_linked_pages_that_list_every_model_once(tmp_path, database_url, monkeypatch):
    from bot.site import render

    monkeypatch.setattr(render, "LAB_PAGE_MODELS", 2)
    settings = load_settings(write_config(tmp_path, database_url), env={})
    with open_app(settings) as app, app.session() as session:
        SiteBuilder(tmp_path / "board").build(session, policy=settings.sunset.policy(), on=ON)
    first, second = tmp_path / "board/labs/testlab/index.html", tmp_path / "board/labs/testlab/2/index.html"
    assert 'href="../../labs/testlab/2/index.html"' in first.read_text()
    assert 'href="../../../labs/testlab/index.html"' in second.read_text()
    both = first.read_text() + second.read_text()
    assert [both.count(f"models/{slug}/index.html") for slug in ("oldnet", "opened-later", "restricted")] == [1, 1, 1]
