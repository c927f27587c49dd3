"""Pure embed builders, text safety and page turning: no network, no database."""

from dataclasses import replace
from datetime import date

import discord

from bot.discord.embeds import chunk, fit, line_pages, model_embed, outgoing_embed
from bot.discord.text import EMBED_TOTAL_MAX, FIELD_VALUE_MAX, clean, link, truncate
from bot.discord.views import Pages
from bot.outbox.delivery import Outgoing
from bot.present.assessment import card_of
from bot.services.queries import ModelCard, NameIndex
from tests.helpers import LLAMA2, change, record
from trackers.assess import assess
from trackers.events import due_events
from trackers.records import Access, Verified
from trackers.sunset import Policy


def test_clean_defuses_mentions_and_escapes_markdown_everywhere():
    text = clean("@everyone @here <@&123> <@!4> <#5> **b** __u__ ~~s~~ ||x|| `c` [l](https://e.x) > q")
    assert "@everyone" not in text and "@here" not in text
    assert "<@&\u200b123>" in text and "<@!\u200b4>" in text and "<#\u200b5>" in text
    for escaped in ("\\*\\*b\\*\\*", "\\_\\_u\\_\\_", "\\~\\~s\\~\\~", "\\|\\|x\\|\\|", "\\`c\\`", "\\[l\\]"):
        assert escaped in text


def test_truncation_respects_limits_and_never_leaves_a_dangling_escape():
    assert truncate("abcdef", 4) == "abc…"
    long = clean("*" * 5000)
    assert len(long) <= FIELD_VALUE_MAX and long.endswith("\\*…")
    assert not truncate("ab\\*", 4).endswith("\\…")


def test_links_are_shown_only_when_they_are_plain_http_urls():
    assert link("https://example.org/a_b") == "<https://example.org/a_b>"
    assert link("javascript:alert(1)") == "javascript:alert(1)"
    assert link("https://x.org/<@&1>") != "<https://x.org/<@&1>>"


def test_fit_keeps_an_embed_within_discords_totals():
    embed = discord.Embed(title="t", description="d" * 4000)
    for n in range(40):
        embed.add_field(name=f"f{n}", value="v" * 1000)
    fitted = fit(embed)
    assert len(fitted.fields) <= 25 and len(fitted) <= EMBED_TOTAL_MAX


def test_model_embed_shows_status_in_words_and_colour():
    gated = record(
        "2012-03-01", access=Access.API, changes=(change("2020-01-01", access=Access.GATED, licence=LLAMA2),)
    )
    result = card_of(assess(gated, Policy(), date(2026, 1, 1)), lab_name="Lab **X**", sources=("https://a.example/x",))
    embed = model_embed(ModelCard(card=result, pledges=3), on=date(2026, 1, 1))
    assert embed.title == "Model X — Lab \\*\\*X\\*\\*"
    assert "weights out, licence still restrictive" in (embed.description or "")
    assert embed.colour == discord.Colour.from_rgb(214, 40, 40)
    fields = {field.name: field.value for field in embed.fields}
    assert fields["Level"] == "L1 weights, restricted"
    assert "13 years ago" in (fields["First release"] or "")
    assert fields["Pledges"] == "3 people want it opened"
    assert fields["Sources"] == "<https://a.example/x>"


def test_event_alerts_escape_payload_text():
    outgoing = Outgoing(1, "channel:1", "n" * 25, "new_model", "2026-01-01", {"name": "@here *x*", "lab": "l"})
    embed = outgoing_embed(outgoing)
    assert "@\u200bhere" in (embed.description or "") and "\\*x\\*" in (embed.description or "")


def test_long_lists_become_numbered_pages():
    assert chunk([str(n) for n in range(25)], 10) == [
        [str(n) for n in range(10)],
        [str(n) for n in range(10, 20)],
        [str(n) for n in range(20, 25)],
    ]
    assert chunk([]) == [[]]
    pages = line_pages("T", [f"line {n}" for n in range(25)])
    assert len(pages) == 3 and pages[2].footer.text == "page 3/3" and "line 24" in (pages[2].description or "")


async def test_pages_turn_within_bounds_and_disable_the_ends():
    pages = Pages(line_pages("T", [str(n) for n in range(25)]), owner_id=1)

    def state():
        return pages.index, pages.previous.disabled, pages.next.disabled, pages.counter.label

    assert state() == (0, True, False, "1/3")
    pages.turn(1)
    assert state() == (1, False, False, "2/3")
    pages.turn(5)
    assert state() == (2, False, True, "3/3")
    pages.turn(-9)
    assert state() == (0, True, False, "1/3")


def test_the_name_index_finds_prefixes_substrings_and_typos_within_25():
    index = NameIndex([("gpt-3", "GPT-3", "GPT-3"), ("gpt-2", "GPT-2", "GPT-2"), ("llama-2", "Llama 2", "Llama 2"),
                       ("llama-2", "Llama 2", "Llama-2-70b"), ("bert", "BERT", "BERT")])  # fmt: skip
    assert [c.value for c in index.search("gpt")] == ["gpt-2", "gpt-3"]
    assert [c.value for c in index.search("70b")] == ["llama-2"]
    assert "llama-2" in [c.value for c in index.search("lamma 2")]
    assert len(index.search("", limit=25)) == 4


def test_a_verified_accusation_says_when_it_was_checked_in_the_answer_and_the_alert():
    checked = replace(record("2012-03-01"), verified=Verified(date(2026, 10, 2), ("https://a.example/v",)))
    result = card_of(assess(checked, Policy(), date(2026, 12, 5)), lab_name="Lab", sources=())
    assert "verified on 2026-10-02" in (model_embed(ModelCard(result, 0), on=date(2026, 12, 5)).footer.text or "")
    unchecked = card_of(assess(record("2012-03-01"), Policy(), date(2026, 12, 5)), lab_name="Lab", sources=())
    assert "verified" not in (model_embed(ModelCard(unchecked, 0), on=date(2026, 12, 5)).footer.text or "")
    (passed,) = [d for d in due_events(checked, Policy(), date(2026, 12, 5)) if d.kind == "sunset_passed"]
    alert = outgoing_embed(Outgoing(1, "channel:1", "n" * 25, passed.kind, "2022-03-02", passed.payload))
    assert "(verified on 2026-10-02)" in (alert.description or "")


def test_direction_overrides_from_outside_never_reach_a_screen():
    assert clean("\u202eGPT-4 \u2066open\u2069 \u200fweights") == "GPT-4 open weights"
    outgoing = Outgoing(1, "channel:1", "n" * 25, "new_model", "2026-01-01", {"name": "evil\u202egnp.exe", "lab": "l"})
    assert "\u202e" not in (outgoing_embed(outgoing).description or "")


def test_with_the_boards_base_url_the_card_and_the_alert_link_to_the_models_page():
    result = card_of(assess(record("2012-03-01"), Policy(), date(2026, 12, 5)), lab_name="Lab", sources=())
    card = ModelCard(result, 0)
    assert model_embed(card, on=date(2026, 12, 5)).url is None
    linked = model_embed(card, on=date(2026, 12, 5), base_url="https://sunset.example.org/")
    assert linked.url == "https://sunset.example.org/models/model-x/"
    (passed,) = [d for d in due_events(record("2012-03-01"), Policy(), date(2026, 12, 5)) if d.kind == "sunset_passed"]
    outgoing = Outgoing(1, "channel:1", "n" * 25, passed.kind, "2022-03-02", passed.payload)
    assert outgoing_embed(outgoing).url is None
    assert outgoing_embed(outgoing, base_url="https://sunset.example.org/").url == (
        "https://sunset.example.org/models/model-x/"
    )


async def test_an_alerts_buttons_link_the_board_page_first_then_the_source_then_pledge():
    from bot.discord.views import model_view

    def labels(view):  # the pledge button is a DynamicItem wrapping its Button
        return [getattr(item, "label", None) or item.item.label for item in view.children]

    view = model_view("wavenet", ["https://deepmind.google/wavenet"], board="https://board.example/models/wavenet/")
    assert labels(view) == ["On the board", "Source 1: deepmind.google", "Pledge: open it"]
    assert getattr(view.children[0], "url", None) == "https://board.example/models/wavenet/"
    assert labels(model_view("wavenet", [])) == ["Pledge: open it"]
