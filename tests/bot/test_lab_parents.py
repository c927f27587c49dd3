"""A lab that is part of another (Google DeepMind of Google): `--lab`, Discord's `lab:`, the lab scorecard and
lab subscriptions take in the labs below the one named and say so, `sunset labs` shows the tree, and
`catalog check` refuses a parent that is not a lab or leads back to itself."""

import asyncio
import io
import json
from datetime import date

import pytest
from rich.console import Console
from sqlmodel import Session, select
from typer.testing import CliRunner

from bot.cli.commands import app
from bot.outbox.delivery import fan_out
from bot.runtime.app import open_app
from bot.runtime.config import load_settings
from bot.runtime.runner import run
from bot.services import queries
from db.models import Delivery, Event, Lab, Model, Subscription, utcnow
from tests.bot.discord.standin import StandIn, embed_text
from tests.helpers import SMALL_CATALOG, write_catalog, write_config
from trackers.catalog.lab_files import check_catalog, load_catalog
from trackers.store.labs import lab_and_children, lab_and_parents, lab_parents
from trackers.sunset import Policy

ON = date(2026, 11, 28)
ROBOTICS_LAB = """
[lab]
slug = "robotics"
name = "Test Lab Robotics"
url = "https://robotics.testlab.example/"
{parent}

[[models]]
slug = "armnet"
name = "ArmNet"
released = {{ date = "2015-02-01", source = "https://robotics.testlab.example/armnet" }}
access = {{ value = "api", source = "https://robotics.testlab.example/armnet" }}
"""
PART_OF_TEST_LAB = 'parent = { slug = "testlab", source = "https://testlab.example/robotics-joins" }'
runner = CliRunner()


@pytest.fixture
def config(tmp_path, database_url):
    config = write_config(tmp_path, database_url)
    (tmp_path / "catalog" / "robotics.toml").write_text(ROBOTICS_LAB.format(parent=PART_OF_TEST_LAB))
    return config


def sunset(config, *args):
    return runner.invoke(app, ["--config", str(config), *args])


def test_lab_takes_in_the_labs_that_are_part_of_it_and_says_so(config):
    result = sunset(config, "list", "--json", "--lab", "testlab", "--on", ON.isoformat())
    assert {m["slug"] for m in json.loads(result.stdout)} == {"oldnet", "opened-later", "restricted", "armnet"}
    assert "note: --lab testlab includes its child labs (see `sunset labs`): Test Lab Robotics (robotics)" in (
        result.stderr
    )
    assert "separate lab" not in result.stderr  # it is not separate: it is already in
    child = sunset(config, "list", "--json", "--lab", "robotics", "--on", ON.isoformat())
    assert [m["slug"] for m in json.loads(child.stdout)] == ["armnet"] and "note" not in child.stderr


def test_labs_shows_each_lab_under_the_one_it_is_part_of(config):
    data = json.loads(sunset(config, "labs", "--json", "--on", ON.isoformat()).stdout)
    assert [(lab["slug"], lab["parent"]) for lab in data] == [("testlab", None), ("robotics", "testlab")]
    lines = sunset(config, "labs", "--on", ON.isoformat()).stdout.splitlines()
    row = next(line for line in lines if "robotics" in line)
    assert "└ Test Lab Robotics" in row and lines.index(row) == 1 + next(
        number for number, line in enumerate(lines) if "│ testlab" in line
    )


def test_discords_overdue_by_lab_takes_in_the_child_labs(config):
    with open_app(load_settings(config, env={})) as application, application.session() as session:
        rows = queries.overdue(session, Policy(), ON, lab="Test Lab")
        family = queries.lab_family(session, "testlab")
    assert {row.name for row in rows} == {"OldNet", "ArmNet"}
    assert family.children == (("robotics", "Test Lab Robotics"),)


def test_a_parent_removed_from_the_file_is_removed_from_the_database(tmp_path, config):
    settings = load_settings(config, env={})
    with open_app(settings) as application, application.session() as session:
        assert lab_parents(session) == {"robotics": "testlab"}
    (tmp_path / "catalog" / "robotics.toml").write_text(ROBOTICS_LAB.format(parent=""))
    with open_app(settings) as application, application.session() as session:
        assert lab_parents(session) == {}


def test_children_are_found_however_deep_and_a_loop_is_followed_once(session: Session):
    for slug, parent in [("alphabet", None), ("google", "alphabet"), ("deepmind", "google"), ("x", "alphabet")]:
        session.add(Lab(slug=slug, name=slug.title(), parent_slug=parent))
    session.add_all([Lab(slug="a", name="A", parent_slug="b"), Lab(slug="b", name="B", parent_slug="a")])
    session.flush()
    assert lab_and_children(session, slug="alphabet").children == (
        ("deepmind", "Deepmind"), ("google", "Google"), ("x", "X"),
    )  # fmt: skip
    assert lab_and_children(session, slug="deepmind").slugs == {"deepmind"}
    assert lab_and_children(session, slug="a").slugs == {"a", "b"}
    parents = lab_parents(session)
    assert lab_and_parents(parents, "deepmind") == ("deepmind", "google", "alphabet")
    assert lab_and_parents(parents, "alphabet") == ("alphabet",)
    assert lab_and_parents(parents, "a") == ("a", "b")


def test_the_scorecard_of_a_lab_counts_the_labs_below_it_and_names_them(config):
    with open_app(load_settings(config, env={})) as application, application.session() as session:
        parent = queries.lab_scorecard(session, "testlab", Policy(), ON)
        child = queries.lab_scorecard(session, "robotics", Policy(), ON)
    assert parent.children == ("Test Lab Robotics",) and child.children == ()
    assert (parent.models, parent.overdue) == (4, 2) and (child.models, child.overdue) == (1, 1)
    assert parent.longest_overdue is not None and parent.longest_overdue[0] == "OldNet"  # overdue since 2022
    assert child.longest_overdue is not None and child.longest_overdue[0] == "ArmNet"


def test_following_a_lab_brings_the_news_of_the_labs_below_it_not_above(config):
    with open_app(load_settings(config, env={})) as application, application.session() as session:
        follows = {
            lab: Subscription(target=f"channel:{n}", scope="lab", scope_value=lab, kinds="")
            for n, lab in enumerate(["testlab", "robotics"], start=1)
        }
        session.add_all(follows.values())
        session.commit()
        events = {}
        for slug in ("armnet", "oldnet"):
            model = session.exec(select(Model).where(Model.slug == slug)).one()
            events[slug] = Event(
                subject=f"model:{slug}", model_id=model.id, kind="new_model", key="", occurred_on=ON, payload="{}",
                created_at=utcnow(),
            )  # fmt: skip
        session.add_all(events.values())
        session.commit()
        fan_out(session, events.values())
        got = {(d.event_id, d.target) for d in session.exec(select(Delivery)).all()}
    assert got == {
        (events["armnet"].id, "channel:1"), (events["armnet"].id, "channel:2"), (events["oldnet"].id, "channel:1"),
    }  # fmt: skip


@pytest.mark.parametrize(
    ("parent", "message"),
    [
        ('parent = { slug = "nolab", source = "https://x.example/" }', "robotics.toml: parent 'nolab' is not a lab"),
        ('parent = { slug = "robotics", source = "https://x.example/" }', "parents form a loop: robotics → robotics"),
    ],
)
def test_catalog_check_refuses_a_parent_that_is_no_lab_or_leads_back(tmp_path, parent, message):
    files = {**SMALL_CATALOG, "robotics.toml": ROBOTICS_LAB.format(parent=parent)}
    problems = [str(p) for p in check_catalog(load_catalog(write_catalog(tmp_path / "c", files)), ON)]
    assert any(message in problem for problem in problems), problems


def test_the_bundled_catalogs_parents_are_sourced_labs():
    files = load_catalog()
    parents = {f.content.lab.slug: f.content.lab.parent for f in files if f.content.lab.parent}
    assert {slug: parent.slug for slug, parent in parents.items()} == {"deepmind": "google", "mosaicml": "databricks"}
    assert all(str(parent.source).startswith("https://") for parent in parents.values())


async def test_discords_overdue_lab_lists_the_child_labs_models_and_names_them_in_the_title(
    config, restore_discord_urls
):
    standin = StandIn()
    await standin.start()
    env = {"DISCORD_TOKEN": "test-token", "DISCORD_API_BASE": standin.base}
    stop = asyncio.Event()
    try:
        with open_app(load_settings(config, env=env), today=lambda: ON) as application:
            task = asyncio.create_task(run(application, Console(file=io.StringIO(), width=200), stop))
            await asyncio.wait_for(standin.identified.wait(), 30)
            await asyncio.wait_for(standin.synced.wait(), 30)
            answer = await standin.command("sunset overdue", lab="testlab")
            alone = await standin.command("sunset overdue", lab="robotics")
            card = await standin.command("lab scorecard", name="testlab")
            followed = await standin.command("subscribe", scope="lab", name="testlab")
            stop.set()
            await asyncio.wait_for(task, 30)
    finally:
        await standin.stop()
    assert "Overdue — testlab (with Test Lab Robotics)" in embed_text(answer)
    assert "OldNet" in embed_text(answer) and "ArmNet" in embed_text(answer)
    assert "ArmNet" in embed_text(alone) and "OldNet" not in embed_text(alone) and "(with" not in embed_text(alone)
    assert "testlab — scorecard" not in embed_text(card) and "With Test Lab Robotics." in embed_text(card)
    assert "It takes in Test Lab Robotics." in followed["data"]["content"]
