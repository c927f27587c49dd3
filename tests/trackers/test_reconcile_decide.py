"""The pure half of reconciliation: `Index.find` matches a sighting, `decide` plans what a group does."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from trackers.reconcile import Group, Index, Known, LabRef, Plan, Touched, decide
from trackers.records import Access, Licence, ModelRecord, OpennessState, PartialDate
from trackers.sources import ANNOUNCEMENT, ARTEFACT, CATALOG, DATASET, THIRD_PARTY, Sighting
from trackers.store.observations import ArtefactChange, Claim, KnownModel

TODAY = date(2026, 11, 10)
LAB = LabRef(1, "testlab")
OTHER = LabRef(2, "otherlab")
REPO = "testlab/zephyr-3"
HUB = f"https://hub.example/{REPO}"
NEWS = "https://testlab.example/zephyr-3"


def hub(fact: str, value: str, rank: int = ARTEFACT, repo: str = REPO, name: str = "Zephyr 3") -> Sighting:
    return Sighting(name, fact, value, f"https://hub.example/{repo}", rank, hf_repo=repo)


def news(fact: str, value: str, url: str = NEWS) -> Sighting:
    return Sighting("Zephyr 3", fact, value, url, ANNOUNCEMENT)


def model(**changes) -> KnownModel:
    known = KnownModel(7, "zephyr-3", "Zephyr 3", LAB.id, "confirmed", "testlab-news", "2026-10", NEWS)
    return replace(known, **changes)


def record(access: Access = Access.HOSTED, licence: str | None = None, released: str = "2026-10") -> ModelRecord:
    state = OpennessState(access=access, licence=Licence(licence) if licence else None)
    return ModelRecord("zephyr-3", "Zephyr 3", "testlab", PartialDate.parse(released), state)


def news_group(*sightings: Sighting) -> Group:
    return Group(sightings, "testlab-news", "rss", None, LAB)


def hub_group(*sightings: Sighting, official: LabRef | None = LAB) -> Group:
    return Group(sightings, "testlab-hub", "huggingface", official, official or LAB)


def stored(*sightings: Sighting) -> frozenset[tuple[str, str, str]]:
    return frozenset((s.fact, s.value, s.url) for s in sightings)


# ── matching ─────────────────────────────────────────────────────────────────────────────────────

INDEX = Index(
    models={7: ("confirmed", LAB.id), 8: ("confirmed", OTHER.id), 9: ("unconfirmed", LAB.id)},
    by_key={"zephyr3": [7], "testlabzephyr3instruct": [9], "gale": [8], "nimbus": [9]},
    labs={"testlab": LAB, "otherlab": OTHER},
    lab_of_org={"testlab": LAB, "otherlab": OTHER},
)


@pytest.mark.parametrize(
    ("sighting", "expected"),
    [
        (news("announced", "2026-10"), 7),  # by name
        (Sighting("ZEPHYR-3", "announced", "2026", NEWS, ANNOUNCEMENT), 7),  # names are compared normalised
        (Sighting("Nimbus", "announced", "2026", NEWS, ANNOUNCEMENT), 9),  # an unconfirmed model matches too
        (hub("access", "download", repo="testlab/zephyr-3-instruct", name="Whatever"), 9),  # by repo id first
        (hub("access", "download"), 7),  # a repo of the lab's own organisation, by name within the lab
        (hub("access", "download", repo="otherlab/gale", name="Gale"), 8),
        (hub("access", "download", repo="otherlab/zephyr-3"), None),  # another lab's repo never takes the name
        (hub("access", "download", repo="someone/zephyr-3", rank=THIRD_PARTY), None),  # nor a stranger's repo
        (Sighting("Unheard Of", "announced", "2026", NEWS, ANNOUNCEMENT), None),
    ],
)
def test_a_sighting_matches_by_repo_id_then_by_name_and_hub_names_only_within_the_owning_lab(sighting, expected):
    assert INDEX.find(sighting) == expected


def test_the_official_lab_is_read_from_the_repositorys_organisation_ignoring_case():
    assert INDEX.official_lab("TestLab/x") == LAB
    assert INDEX.official_lab("someone/x") is None
    assert INDEX.official_lab(None) is None
    assert INDEX.official_lab("no-organisation") is None


# ── deciding ─────────────────────────────────────────────────────────────────────────────────────


def test_an_announced_unknown_name_becomes_an_unconfirmed_model_with_its_name_as_alias():
    announced = news("announced", "2026-11-09")
    plan = decide(news_group(announced, news("cue:access", "api")), Known(), today=TODAY)
    assert plan.action == "write" and plan.new_model is not None
    assert (plan.new_model.slug, plan.new_model.lab, plan.new_model.state, plan.state) == (
        "zephyr-3", LAB, "unconfirmed", "unconfirmed",
    )  # fmt: skip
    assert plan.aliases == (("Zephyr 3", "zephyr3", "name"),)  # the slug has the same key: one alias
    assert [claim.fact for claim in plan.claims] == ["announced", "cue:access"]
    assert plan.release == ("2026-11-09", NEWS)
    assert plan.artefact is None  # an announcement never opens a model
    assert plan.changed and plan.touched is None  # not visible: nobody is told yet


def test_an_unknown_repo_of_the_labs_own_organisation_becomes_a_confirmed_model_with_its_release_state():
    group = hub_group(hub("released", "2026-10-20"), hub("access", "download"), hub("license", "apache-2.0"))
    plan = decide(group, Known(), today=TODAY)
    assert plan.new_model is not None and plan.new_model.state == "confirmed"
    assert [(name, kind) for name, _, kind in plan.aliases] == [("Zephyr 3", "name"), (REPO, "hf_repo")]
    assert plan.artefact == ArtefactChange("release", "download", "apache-2.0", HUB)
    assert plan.release == ("2026-10-20", HUB)
    assert plan.touched == Touched("zephyr-3", None)


@pytest.mark.parametrize(
    ("group", "why"),
    [
        (Group((Sighting("Zephyr 3", "released", "2026", "https://epoch", DATASET),), "epoch", "epoch"), "dataset"),
        (Group((news("announced", "2026"),), "news", "rss", None, None), "no lab to put it in"),
    ],
)
def test_a_name_that_may_not_create_a_model_is_counted_unmatched(group, why):
    assert decide(group, Known(), today=TODAY) == Plan("unmatched"), why


def test_a_new_models_slug_avoids_those_taken():
    group = news_group(news("announced", "2026"))

    def slug(*taken: str) -> str | None:
        new = decide(group, Known(taken_slugs=frozenset(taken)), today=TODAY).new_model
        return new.slug if new else None

    assert slug("zephyr-3") == "testlab-zephyr-3"
    assert slug("zephyr-3", "testlab-zephyr-3", "zephyr-3-2") == "zephyr-3-3"
    with pytest.raises(RuntimeError, match="no free slug"):
        slug("zephyr-3", "testlab-zephyr-3", *(f"zephyr-3-{n}" for n in range(2, 100)))


def test_claims_already_stored_by_the_source_change_nothing():
    announced = news("announced", "2026-10")
    assert decide(news_group(announced), Known(model=model(), claims=stored(announced)), today=TODAY) == Plan("nothing")


@pytest.mark.parametrize("state", ["rejected", "withdrawn"])
def test_a_rejected_or_withdrawn_model_is_matched_but_never_touched(state):
    known = Known(model=model(state=state))
    assert decide(news_group(news("announced", "2026-09-01")), known, today=TODAY) == Plan("nothing")


def test_a_new_claim_about_a_known_model_is_stored_without_changing_it():
    known = Known(model=model(), record=record())
    plan = decide(news_group(news("cue:access", "api")), known, today=TODAY)
    assert plan.action == "write" and plan.new_model is None and plan.state == "confirmed"
    assert plan.claims == (Claim("cue:access", "api", NEWS, ANNOUNCEMENT),)
    assert plan.aliases == () and not plan.changed and plan.touched is None


def test_repeated_sightings_in_a_group_become_one_claim_cut_to_the_column_sizes():
    long = news("summary", "x" * 3000, url="https://testlab.example/" + "y" * 2000)
    plan = decide(news_group(long, long), Known(model=model()), today=TODAY)
    assert [(len(c.value), len(c.url)) for c in plan.claims] == [(2000, 1000)]


def test_a_stranger_hub_repo_is_third_party_evidence_that_neither_opens_nor_confirms():
    repo = "someone/zephyr-3-gguf"
    sightings = (hub("access", "download", repo=repo), hub("released", "2026-01", repo=repo))
    plan = decide(hub_group(*sightings, official=None), Known(model=model(state="unconfirmed")), today=TODAY)
    assert {claim.rank for claim in plan.claims} == {THIRD_PARTY}
    assert plan.state == "unconfirmed" and plan.artefact is None and plan.touched is None
    assert plan.aliases == ()


def test_the_labs_own_artefact_confirms_an_announced_name_and_keeps_the_earlier_announced_date():
    announced = (news("announced", "2026-10-01"),)
    known = Known(
        model=model(state="unconfirmed", first_release="2026-10-01"),
        release_claims=(("2026-10-01", NEWS, ANNOUNCEMENT),),
    )
    group = hub_group(hub("released", "2026-10-20"), hub("access", "download"))
    plan = decide(group, replace(known, claims=stored(*announced)), today=TODAY)
    assert plan.state == "confirmed" and plan.new_model is None
    assert plan.release is None  # the announced 2026-10-01 stands (it was replaced by the repo's date before)
    assert plan.artefact == ArtefactChange("release", "download", None, HUB)
    assert plan.touched == Touched("zephyr-3", None)  # it was not visible before: announced as new
    assert [(name, kind) for name, _, kind in plan.aliases] == [(REPO, "hf_repo")]


def test_a_repo_mentioned_under_the_models_name_becomes_an_alias_of_a_new_model_only():
    mentions = (
        news("announced", "2026-11"),
        news("hf_repo_mentioned", "testlab/Zephyr-3-Instruct"),
        news("hf_repo_mentioned", "testlab/other-thing"),
    )
    new = decide(news_group(*mentions), Known(), today=TODAY)
    assert ("testlab/Zephyr-3-Instruct", "testlabzephyr3instruct", "hf_repo") in new.aliases
    assert all(name != "testlab/other-thing" for name, _, _ in new.aliases)
    assert decide(news_group(*mentions), Known(model=model()), today=TODAY).aliases == ()


@pytest.mark.parametrize(
    ("claims", "known_model", "expected"),
    [
        ([news("released", "2026-09-15")], model(), ("2026-09-15", NEWS)),  # earlier than the stored 2026-10
        ([news("released", "2026-12")], model(), None),  # later: the earliest credible claim stands
        ([news("released", "2026-09-15")], model(origin="catalog"), None),  # the catalog's date is not moved
        ([news("released", "2026-09-15")], model(origin="moderator"), None),
        ([Sighting("Zephyr 3", "released", "2020", NEWS, 0)], model(), None),  # rank 0 is not credible
        ([news("released", "undated")], model(), None),
        ([news("summary", "2020")], model(), None),  # only release facts move the date
    ],
)
def test_a_new_release_claim_moves_a_tracker_made_models_date_to_the_earliest_credible_one(
    claims, known_model, expected
):
    known = Known(model=known_model, record=record(), release_claims=(("2026-10", NEWS, ANNOUNCEMENT),))
    plan = decide(news_group(*claims), known, today=TODAY)
    assert plan.release == expected
    assert plan.changed == (expected is not None)


def test_a_stored_catalog_claim_outranks_an_earlier_tracker_claim():
    stored_date = model(first_release="2026-10", first_release_url="https://catalog")
    known = Known(model=stored_date, release_claims=(("2026-10", "https://catalog", CATALOG),))
    assert decide(news_group(news("released", "2026-01")), known, today=TODAY).release is None


def test_weights_released_on_the_labs_hub_open_a_hosted_model_on_the_repos_creation_date():
    known = Known(model=model(), record=record(Access.HOSTED), openness_origins=("testlab-news",))
    group = hub_group(hub("released", "2026-11-02"), hub("access", "download"), hub("license", "apache-2.0"))
    plan = decide(group, known, today=TODAY)
    assert plan.artefact == ArtefactChange(
        "weights_released", "download", "apache-2.0", HUB, date(2026, 11, 2), f"seen on the Hub as {REPO}"
    )
    assert plan.changed and plan.touched == Touched("zephyr-3", known.record)


@pytest.mark.parametrize(
    ("created", "expected"),
    [
        ("2026-11-02", date(2026, 11, 2)),
        ("2026-09-01", TODAY),  # before the model's release: not credible, so today
        ("2027-01-01", TODAY),  # never in the future
    ],
)
def test_an_opening_is_dated_by_the_repos_creation_when_credible(created, expected):
    known = Known(model=model(), record=record(Access.HOSTED), openness_origins=("testlab-news",))
    plan = decide(hub_group(hub("released", created), hub("access", "download")), known, today=TODAY)
    assert plan.artefact is not None and plan.artefact.on == expected


def test_a_more_open_licence_on_the_labs_hub_is_a_relicensing():
    known = Known(model=model(), record=record(Access.DOWNLOAD, "cc-by-nc-4.0"), openness_origins=("testlab-hub",))
    plan = decide(hub_group(hub("access", "download"), hub("license", "apache-2.0")), known, today=TODAY)
    assert plan.artefact is not None and (plan.artefact.kind, plan.artefact.access) == ("relicensed", None)


def test_an_artefact_that_does_not_raise_the_level_changes_nothing_but_is_kept_as_evidence():
    known = Known(model=model(), record=record(Access.DOWNLOAD, "apache-2.0"), openness_origins=("testlab-hub",))
    plan = decide(hub_group(hub("access", "gated"), hub("license", "llama")), known, today=TODAY)
    assert plan.artefact is None and not plan.changed
    assert {claim.fact for claim in plan.claims} == {"access", "license"}


def test_the_catalogs_curated_weights_stand_against_a_disagreeing_card_which_stays_as_evidence():
    known = Known(model=model(origin="catalog"), record=record(Access.DOWNLOAD, "llama"), openness_origins=("catalog",))
    plan = decide(hub_group(hub("access", "download"), hub("license", "apache-2.0")), known, today=TODAY)
    assert plan.artefact is None and not plan.changed
    assert {(claim.fact, claim.value) for claim in plan.claims} == {("access", "download"), ("license", "apache-2.0")}


def test_a_model_with_a_history_is_opened_only_against_its_record():
    known = Known(model=model(state="unconfirmed"), openness_origins=("testlab-hub",))  # hidden: no record read
    plan = decide(hub_group(hub("access", "download")), known, today=TODAY)
    assert plan.state == "confirmed" and plan.artefact is None


def test_another_labs_repo_never_opens_or_confirms_a_model():
    known = Known(model=model(state="unconfirmed"), record=record(), openness_origins=("testlab-news",))
    plan = decide(hub_group(hub("access", "download", repo="otherlab/zephyr-3"), official=OTHER), known, today=TODAY)
    assert plan.state == "unconfirmed" and plan.artefact is None and plan.aliases == ()
