"""Messages for chat and social services: nothing pings, everything fits, links survive the cut."""

import pytest

from bot.present.plain_text import (
    BLUESKY_MAX,
    SOCIAL_MAX,
    TEXT_MAX,
    campaign_post,
    defuse,
    digest_text,
    limit_for,
    render,
    style_for,
)

BOARD = "https://board.example/"
PINGS = [
    "@everyone",
    "@here",
    "@room",
    "@channel",
    "<!channel>",
    "<!here>",
    "<@U024BE7LH>",
    "<@&123>",
    "@bob@mastodon.social",
]


@pytest.mark.parametrize("ping", PINGS)
def test_no_mention_syntax_survives(ping):
    text = defuse(f"Model {ping} 2")
    assert ping not in text
    assert text.replace("\u200b", "") == f"Model {ping} 2"  # still readable


def test_markdown_is_escaped_when_the_target_reads_markdown():
    assert defuse("*bold* [x](y)", markdown=True) == "\\*bold\\* \\[x\\]\\(y\\)"
    assert defuse("*bold*") == "*bold*"


@pytest.mark.parametrize(
    ("scheme", "configured", "style", "limit"),
    [
        ("mastodons", "auto", "social", SOCIAL_MAX),
        ("bluesky", "auto", "social", BLUESKY_MAX),
        ("slack", "auto", "text", TEXT_MAX),
        ("matrixs", "markdown", "markdown", TEXT_MAX),
        ("json", "social", "social", SOCIAL_MAX),
    ],
)
def test_each_medium_gets_its_style_and_limit(scheme, configured, style, limit):
    assert style_for(scheme, configured) == style
    assert limit_for(scheme, style, None) == limit
    assert limit_for(scheme, style, 1234) == 1234


def test_an_alert_for_chat_has_a_title_the_line_and_the_board_link():
    payload = {"model": "alphago", "name": "AlphaGo", "window": 10, "sunset": "2026-01-27"}
    message = render("sunset_passed", payload, style="text", limit=TEXT_MAX, board_url=BOARD)
    assert message.title == "Sunset passed"
    assert message.body == (
        "AlphaGo passed its 10-year sunset on 2026-01-27 and is still not open.\nhttps://board.example/models/alphago/"
    )
    assert "models/" not in render("sunset_passed", payload, style="text", limit=TEXT_MAX, board_url=None).body


def test_a_social_post_is_cut_to_its_limit_keeping_the_link_whole():
    payload = {"model": "alphago", "name": "A" * 2000, "window": 10, "sunset": "2026-01-27"}
    for limit in (SOCIAL_MAX, BLUESKY_MAX):
        message = render("sunset_passed", payload, style="social", limit=limit, board_url=BOARD)
        assert message.title == "" and len(message.body) <= limit
        assert message.body.endswith("… https://board.example/models/alphago/")


def week(passed, opened, **more):
    digest = {"since": "2026-11-23", "on": "2026-11-30", "window_years": 10, "profile": "weights",
              "new_models": [], "approaching": [], "top_pledges": [], "by_year_level": {}}  # fmt: skip
    slugs = {name: name.lower().replace(" ", "-") for name, _ in passed + opened}
    return {"digest": digest | {"sunsets_passed": passed, "opened": opened} | more, "slugs": slugs}


def test_the_campaign_post_names_the_weeks_overdue_and_opened_models_and_links_the_board():
    post = campaign_post(week([["AlphaGo", "2026-01-27"]], [["GPT-2", "L2"]]), limit=SOCIAL_MAX, board_url=BOARD)
    assert post.body == (
        "This week in AI openness (to 2026-11-30). Past sunset, still closed: AlphaGo (sunset 2026-01-27). "
        "Opened: GPT-2 (L2). https://board.example/ #SunsetClause"
    )
    one = campaign_post(week([["AlphaGo", "2026-01-27"]], []), limit=SOCIAL_MAX, board_url=BOARD)
    assert "https://board.example/models/alphago/" in one.body  # a single model: its own page


def test_a_busy_week_still_fits_one_post_and_says_how_many_more():
    passed = [[f"Model number {n} @everyone", f"2026-11-2{n % 7}"] for n in range(60)]
    post = campaign_post(week(passed, [["GPT-2", "L2"]]), limit=SOCIAL_MAX, board_url=BOARD)
    assert len(post.body) <= SOCIAL_MAX
    assert "more" in post.body and "Opened: GPT-2 (L2)" in post.body and "@everyone" not in post.body
    assert post.body.endswith("https://board.example/ #SunsetClause")


def test_the_digest_reads_as_sections_within_the_limit():
    payload = week([["AlphaGo", "2026-01-27"]], [], new_models=["New-Net"])
    message = digest_text(payload, style="markdown", limit=TEXT_MAX, board_url=BOARD)
    assert message.title == "Weekly digest — 2026-11-23 to 2026-11-30" and message.markdown
    assert "**Sunsets passed**\n- AlphaGo (2026-01-27)" in message.body
    assert "**Newly tracked**\n- New\\-Net" in message.body
    long = week([[f"Model {n}", "2026-11-25"] for n in range(500)], [])
    assert len(digest_text(long, style="text", limit=1000, board_url=None).body) <= 1000
