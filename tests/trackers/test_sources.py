"""Each reader on our own fixtures: document in, sightings out (pure; the cycle tests cover them over HTTP)."""

from __future__ import annotations

import json
from datetime import date

import pytest

from tests.trackers.conftest import fixture
from trackers.cards import card_facts, front_matter
from trackers.feeds import cues, model_names
from trackers.sources import (
    ANNOUNCEMENT,
    ARTEFACT,
    DATASET,
    Context,
    Document,
    ParseError,
    SourceSpec,
    epoch,
    github,
    huggingface,
    rss,
    source_kind,
)

TODAY = date(2026, 11, 10)


def context(kind: str, known: frozenset[str] = frozenset(), **options) -> Context:
    return Context(SourceSpec("s", kind, "testlab", options=options), TODAY, known)


def facts(parsed, name=None) -> set[tuple[str, str, str]]:
    return {(s.name, s.fact, s.value) for s in parsed.sightings if name is None or s.name == name}


def test_rss_reads_announced_models_with_dates_and_cues():
    parsed = rss.read(Document("https://t.example/rss", fixture("feeds/testlab_news.rss")), context("rss"))
    assert parsed.items == 3 and parsed.problems == ()
    assert facts(parsed, "Nimbus 2") == {("Nimbus 2", "announced", "2026-11-09"), ("Nimbus 2", "cue:access", "api")}
    assert facts(parsed, "Nimbus Mini 1.5") >= {
        ("Nimbus Mini 1.5", "cue:weights", "claimed"),
        ("Nimbus Mini 1.5", "cue:licence", "Apache-2.0"),
        ("Nimbus Mini 1.5", "hf_repo_mentioned", "testlab/nimbus-mini-1.5"),
    }
    assert all(s.rank == ANNOUNCEMENT for s in parsed.sightings)
    assert not any("safety" in s.name.lower() for s in parsed.sightings)


@pytest.mark.parametrize(
    ("title", "names"),
    [
        ("Introducing Claude 3.5 Sonnet", ["Claude 3.5 Sonnet"]),
        ("Llama 3.1: our most capable models to date", ["Llama 3.1"]),
        ("Announcing Grok-1.5, with improved reasoning", ["Grok-1.5"]),
        ("Gemini 2.0 is now available to everyone", ["Gemini 2.0"]),
        ("Meet the new Phi-3 family", ["Phi-3"]),
        ("Introducing the Nimbus 4 world model and new benchmarks", ["Nimbus 4"]),
        ("Introducing Nimbus 3: our most capable model", ["Nimbus 3"]),
        ("Introducing Nimbus Draw by Testlab Studio", ["Nimbus Draw"]),
        ("Announcing Nimbus 5 for developers", ["Nimbus 5"]),
        ("Introducing o3-mini", ["o3-mini"]),
        ("Introducing gpt-oss", ["gpt-oss"]),
        ("How we think about safety: 2024 edition", []),
        ("Our approach to responsible AI", []),
        # Not models: common words, programmes, offers for an audience, datasets, tours, possessives.
        ("Introducing a way to see how you use Nimbus", []),
        ("Introducing computer use and a new Nimbus", []),
        ("Introducing Nimbus for Teachers", []),
        ("Introducing Nimbus to Portugal", []),
        ("Announcing the Testlab Safety and Security Advisory Council", []),
        ("Introducing Testlab's Transparency Portal", []),
        ("Introducing Orbit, a dataset for robot motion", []),
        ("Introducing Quill: an open source Rust library for provenance", []),
        ("Inside Nimbus Glasses 2: the hardware behind them", []),
        ("Reimagining School 2.0: what AI changes", []),
        ("Elections and AI in 2028: what we learned", []),
        ("Announcing AI for Citizens", []),
    ],
)
def test_model_names_come_from_announcement_titles(title, names):
    assert model_names(title) == names


def test_cues_tell_closed_from_open_but_never_decide_openness():
    assert cues("Rolling out in the app today")["cue:access"] == "hosted"
    assert cues("We are now open-sourcing the weights under the MIT License") == {
        "cue:weights": "claimed", "cue:licence": "MIT", "cue:opened": "claimed",
    }  # fmt: skip


def test_github_releases_give_code_releases_of_the_configured_model():
    parsed = github.read(
        Document("https://github.com/testlab/nimbus/releases.atom", fixture("feeds/testlab_releases.atom")),
        context("github", model="Nimbus Mini 1.5"),
    )
    assert facts(parsed) >= {
        ("Nimbus Mini 1.5", "code_release", "v1.5.0 (2026-11-05)"),
        ("Nimbus Mini 1.5", "code_release", "v1.4.2 (2026-09-01)"),
        ("Nimbus Mini 1.5", "cue:weights", "claimed"),
    }
    assert all(s.rank == ARTEFACT for s in parsed.sightings)
    assert (
        source_kind("github").location(SourceSpec("g", "github", options={"repo": "meta-llama/llama-models"}))
        == "https://github.com/meta-llama/llama-models/releases.atom"
    )
    with pytest.raises(ValueError, match="OWNER/NAME"):
        source_kind("github").location(SourceSpec("g", "github", options={"repo": "not a repo"}))


def test_a_hub_listing_gives_repos_cards_to_read_and_the_next_page():
    document = Document("https://hub/api/models", fixture("hub/testlab_page1.json"), next_url="https://hub/page2")
    parsed = huggingface.read(document, context("huggingface", endpoint="https://hub"))
    assert facts(parsed, "nimbus-mini-1.5") == {
        ("nimbus-mini-1.5", "released", "2026-11-04"),  # createdAt, never lastModified (2026-11-08)
        ("nimbus-mini-1.5", "access", "download"),
        ("nimbus-mini-1.5", "license", "apache-2.0"),
        ("nimbus-mini-1.5", "dataset", "testlab/open-corpus"),
        ("nimbus-mini-1.5", "paper", "https://arxiv.org/abs/2611.01234"),
    }
    assert ("oldnet", "access", "gated") in facts(parsed)
    assert [(f.role, f.subject) for f in parsed.follow] == [
        ("card", "testlab/nimbus-mini-1.5"), ("card", "testlab/oldnet"), ("listing", None),
    ]  # fmt: skip
    caught_up = huggingface.read(
        document, context("huggingface", frozenset({"testlab/nimbus-mini-1.5", "testlab/oldnet"}))
    )
    assert caught_up.follow == ()  # a page of known repositories: no cards, no further pages


def test_the_hub_creation_floor_is_before_then_and_private_repos_are_skipped():
    parsed = huggingface.read(Document("https://hub/p2", fixture("hub/testlab_page2.json")), context("huggingface"))
    assert ("opened-later", "released_before", "2022-03-02") in facts(parsed)
    assert not any(s.fact == "released" for s in parsed.sightings)
    assert not any("secret" in s.name for s in parsed.sightings) and parsed.items == 1


def test_the_listing_url_asks_for_newest_first_with_the_fields_we_read():
    url = source_kind("huggingface").location(SourceSpec("m", "huggingface", options={"author": "meta-llama"}))
    assert url.startswith("https://huggingface.co/api/models?author=meta-llama&sort=createdAt&direction=-1")
    assert "expand%5B%5D=cardData" in url and "expand%5B%5D=gated" in url


def test_model_cards_give_licence_datasets_base_model_and_papers():
    card = front_matter(fixture("cards/nimbus-mini-1.5.md"))
    assert card is not None
    assert card_facts(card, []) == [
        ("license", "apache-2.0"),
        ("dataset", "testlab/open-corpus"),
        ("base_model", "testlab/nimbus-base-1.5"),
        ("paper", "https://arxiv.org/abs/2611.01234"),
    ]
    crlf = front_matter(fixture("cards/oldnet.md"))
    assert crlf is not None and card_facts(crlf, []) == [("license", "apache-2.0"), ("gating_prompt", "yes")]
    assert card_facts({"license": "other", "license_name": "acme-model-license"}, []) == [
        ("license", "acme-model-license")
    ]
    # Hostile but valid YAML: keys that are not strings, values of the wrong type, an alias bomb.
    odd = front_matter(b"---\n1: one\nnull: x\nlicense: [mit]\ndatasets: {a: b}\ntags: 7\n---\n")
    assert odd is not None and card_facts(odd, ["license:mit"]) == [("license", "mit")]
    bomb = b"---\na: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
    bomb += b"c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\ndatasets: [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n---\n"
    assert card_facts(front_matter(bomb) or {}, []) == []  # shared references, never expanded
    assert front_matter(b"# no metadata") is None
    with pytest.raises(ValueError, match="not valid YAML"):
        front_matter(b"---\nlicense: [x\n---\n")


def test_a_hostile_listing_keeps_what_is_well_formed_and_counts_the_rest():
    items = [
        {"id": 5}, {"id": "../../admin"}, {"id": "a/b/c"}, "testlab/x", None,
        {"id": "testlab/ok", "createdAt": "not-a-date", "tags": 7, "cardData": ["license: mit"], "gated": "manual"},
    ]  # fmt: skip
    parsed = huggingface.read(Document("https://hub/api/models", json.dumps(items).encode()), context("huggingface"))
    assert facts(parsed) == {("ok", "access", "gated")}  # no date from a non-date, no facts from wrong types
    assert parsed.problems == ("5 listing items without a valid repository id",)
    assert [follow.subject for follow in parsed.follow] == ["testlab/ok"]


def test_a_card_that_fails_is_a_problem_not_a_failure():
    parsed = huggingface.read(
        Document("https://hub/x/raw/main/README.md", b"---\n: :\n  - [\n---\n", role="card", subject="t/x"),
        context("huggingface"),
    )
    assert parsed.sightings == () and "card t/x" in parsed.problems[0]


def test_epoch_rows_give_dated_attributed_evidence():
    parsed = epoch.read(Document("https://epoch.example/notable.csv", fixture("epoch_notable.csv")), context("epoch"))
    assert parsed.items == 3
    assert ("OldNet", "released", "2012-09-14") in facts(parsed)
    assert ("Restricted LM", "access", "download") in facts(parsed)
    assert ("Unknown Model X", "access", "api") in facts(parsed)
    assert all(s.rank == DATASET and "CC-BY" in (s.note or "") for s in parsed.sightings)
    with pytest.raises(ParseError, match="missing column"):
        epoch.read(Document("x", b"name,date\na,2020\n"), context("epoch"))
    huge = b'Model,Publication date,Abstract\nBig,2020-01-01,"' + b"x" * 200_000 + b'"\n'
    with pytest.raises(ParseError, match="Epoch CSV is malformed: field larger than field limit"):
        epoch.read(Document("x", huge), context("epoch"))


@pytest.mark.parametrize("body", [b"", b"   ", b"<html><body>Moved</body></html>", json.dumps({"a": 1}).encode()])
def test_what_is_not_a_feed_is_a_parse_error(body):
    with pytest.raises(ParseError):
        rss.read(Document("https://x/feed", body), context("rss"))


def test_undeclared_latin1_is_read_not_failed():
    body = "<rss version='2.0'><channel><title>Not\xedcias</title><item><title>Introducing Modelo 2</title><guid>1</guid></item></channel></rss>".encode(
        "latin-1"
    )
    parsed = rss.read(Document("https://x/feed", body, "application/rss+xml"), context("rss"))
    assert ("Modelo 2", "announced", "undated") in facts(parsed)


def test_a_placeholder_date_is_read_as_undated_not_as_a_release_date():
    body = (
        b'<rss version="2.0"><channel><title>T</title><item><title>Introducing Orbit 2</title>'
        b"<guid>o2</guid><pubDate>Thu, 01 Jan 1970 00:00:00 +0000</pubDate></item></channel></rss>"
    )
    parsed = rss.read(Document("https://t.example/rss", body), context("rss"))
    assert ("Orbit 2", "announced", "undated") in facts(parsed)
    assert any("before 1995" in problem for problem in parsed.problems)


def test_every_source_module_registers_its_kind_and_the_settings_accept_exactly_those():
    from bot.runtime.config import SourceSettings
    from trackers.sources import FeedKind, LocalKind, kinds

    assert set(kinds()) == {"catalog", "epoch", "github", "huggingface", "rss"}
    assert isinstance(kinds()["catalog"], LocalKind)
    assert all(isinstance(kind, FeedKind) for name, kind in kinds().items() if name != "catalog")
    for name in kinds():
        assert SourceSettings.model_validate({"name": "s", "kind": name, **EXAMPLE_OPTIONS[name]}).kind == name
    with pytest.raises(ValueError, match="'catalog', 'epoch', 'github', 'huggingface' or 'rss'"):
        SourceSettings.model_validate({"name": "s", "kind": "ftp"})


EXAMPLE_OPTIONS: dict[str, dict[str, object]] = {
    "catalog": {},
    "epoch": {},
    "github": {"repo": "owner/name"},
    "huggingface": {"author": "testlab", "page_size": 50},
    "rss": {"url": "https://testlab.example/news.rss"},
}
