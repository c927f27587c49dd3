"""Alerts and weekly posts as plain text or Markdown for chat and social services (pure, no Apprise).

Every string from a feed, a card or the catalog goes through `defuse`: no `@everyone`, `@here`, Matrix or
Slack `@room`/`@channel`, `<!channel>` or `<@…>` survives to ping anyone, and no `@user@instance` becomes a
Mastodon mention. Each message fits its medium's limit (a 500-character social post, 280 on Bluesky as
Apprise counts it); cuts fall between items, never inside a link.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from bot.present.messages import event_text
from bot.runtime.config import WEEKLY_CAMPAIGN, WEEKLY_DIGEST
from trackers import events
from trackers.sources import storable

Style = Literal["text", "markdown", "social"]

SOCIAL_MAX, BLUESKY_MAX, TEXT_MAX = 500, 280, 4000
# Apprise schemes of microblogs: a post there is short, untitled and public.
SOCIAL_SCHEMES = frozenset({"mastodon", "mastodons", "toot", "toots", "bluesky", "bsky", "misskey", "misskeys",
                            "twitter", "x", "tweet", "threads"})  # fmt: skip
TITLES = {
    events.SUNSET_PASSED: "Sunset passed",
    events.SUNSET_APPROACHING: "Sunset approaching",
    events.OPENED_AFTER_SUNSET: "Opened after its sunset",
    events.OPENNESS_CHANGED: "Openness changed",
    events.NEW_MODEL: "New model tracked",
}

# A mention needs "@" right before a name or a keyword; a zero-width space in between keeps the text readable.
_AT = re.compile(r"@(?=[\w.-])")
_ANGLE = re.compile(r"<([!@#&])")  # Slack's <!channel>, <@U123>; Discord's <@123>, <#123>, <@&123>
_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+!|>~-])")


@dataclass(frozen=True)
class PlainMessage:
    """What one service is sent: a title (empty for social posts) and a body within the medium's limit."""

    title: str
    body: str
    markdown: bool = False


def style_for(scheme: str, configured: str) -> Style:
    """The style a target's messages take: as configured, or social for microblogs and text otherwise."""
    if configured in ("text", "markdown", "social"):
        return configured  # type: ignore[return-value]
    return "social" if scheme.lower() in SOCIAL_SCHEMES else "text"


def limit_for(scheme: str, style: Style, configured: int | None) -> int:
    """Characters per message: as configured, else 280 on Bluesky, 500 for other social posts, 4,000 otherwise."""
    if configured is not None:
        return configured
    if scheme.lower() in ("bluesky", "bsky"):
        return BLUESKY_MAX
    return SOCIAL_MAX if style == "social" else TEXT_MAX


def defuse(text: object, *, markdown: bool = False) -> str:
    """Untrusted text made inert: control characters dropped, mentions broken, Markdown escaped if asked."""
    clean = storable(str(text))
    if markdown:
        clean = _MARKDOWN.sub(r"\\\1", clean)
    return _ANGLE.sub("<\u200b\\1", _AT.sub("@\u200b", clean))


def cut(text: str, limit: int) -> str:
    """`text` within `limit` characters, ending in an ellipsis when cut."""
    return text if len(text) <= limit else text[: max(limit - 1, 0)].rstrip() + "…"


def model_link(board_url: str | None, slug: object) -> str | None:
    """The model's page on the board when `[site] base_url` is set (slugs are [a-z0-9-], safe in a URL)."""
    if not board_url or not isinstance(slug, str) or not re.fullmatch(r"[a-z0-9][a-z0-9._-]*", slug):
        return None
    return f"{board_url}models/{slug}/"


def render(kind: str, payload: dict[str, Any], *, style: Style, limit: int, board_url: str | None) -> PlainMessage:
    """The message for one outbox delivery in the target's style."""
    if kind == WEEKLY_CAMPAIGN:
        return campaign_post(payload, limit=limit, board_url=board_url)
    if kind == WEEKLY_DIGEST:
        return digest_text(payload, style=style, limit=limit, board_url=board_url)
    markdown = style == "markdown"
    text = defuse(event_text(kind, payload), markdown=markdown)
    link = model_link(board_url, payload.get("model"))
    if style == "social":
        tail = f" {link}" if link else ""
        return PlainMessage("", cut(text, limit - len(tail)) + tail)
    title = TITLES.get(kind, "Sunset Clause")
    tail = f"\n{link}" if link else ""
    return PlainMessage(title, cut(text, limit - len(title) - len(tail) - 1) + tail, markdown)


def _fit_items(head: str, items: list[str], tail: str, limit: int, *, sep: str = ", ") -> str:
    """`head` + as many items as fit + "and N more" + `tail`, within `limit`."""
    shown: list[str] = []
    for number, item in enumerate(items):
        rest = len(items) - number - 1
        more = f"{sep}and {rest} more" if rest else ""
        if len(head) + len(sep.join([*shown, item])) + len(more) + len(tail) > limit:
            left = len(items) - len(shown)
            return head + sep.join(shown) + (f"{sep if shown else ''}and {left} more" if left else "") + tail
        shown.append(item)
    return head + sep.join(shown) + tail


def campaign_post(payload: dict[str, Any], *, limit: int, board_url: str | None) -> PlainMessage:
    """The weekly campaign post: the week's newly overdue and newly opened models, with the board's link."""
    digest = payload.get("digest", {})
    slugs: dict[str, str] = payload.get("slugs", {})
    passed = [f"{defuse(name)} (sunset {sunset})" for name, sunset in digest.get("sunsets_passed", [])]
    opened = [f"{defuse(name)} ({level})" for name, level in digest.get("opened", [])]
    only = [name for name, _ in digest.get("sunsets_passed", []) + digest.get("opened", [])]
    link = model_link(board_url, slugs.get(only[0])) if len(only) == 1 else board_url
    tail = f" {link}" if link else ""
    tail += " #SunsetClause"
    sections = [
        (label, items) for label, items in (("Past sunset, still closed: ", passed), ("Opened: ", opened)) if items
    ]
    body, budget = f"This week in AI openness (to {digest.get('on', '?')}). ", limit - len(tail)
    for number, (label, items) in enumerate(sections):
        room = budget - len(body)
        body += _fit_items(label, items, ". ", room if number == len(sections) - 1 else room * 2 // 3)
    if not sections:
        body += "No model passed its sunset or opened this week."
    return PlainMessage("", cut(body.rstrip(), budget) + tail)


def digest_text(payload: dict[str, Any], *, style: Style, limit: int, board_url: str | None) -> PlainMessage:
    """The weekly digest as sections of items: plain text, Markdown, or a social post when the target is one."""
    digest = payload.get("digest", {})
    if style == "social":
        return campaign_post(payload, limit=limit, board_url=board_url)
    markdown = style == "markdown"
    sections = [
        ("Newly tracked", [defuse(name, markdown=markdown) for name in digest.get("new_models", [])]),
        ("Sunsets passed", [f"{defuse(n, markdown=markdown)} ({d})" for n, d in digest.get("sunsets_passed", [])]),
        ("Sunsets approaching", [f"{defuse(n, markdown=markdown)} ({d})" for n, d in digest.get("approaching", [])]),
        ("Opened", [f"{defuse(n, markdown=markdown)} → {lvl}" for n, lvl in digest.get("opened", [])]),
    ]
    title = f"Weekly digest — {digest.get('since', '?')} to {digest.get('on', '?')}"
    lines = [f"{digest.get('window_years', '?')}-year window, {digest.get('profile', '?')} profile"]
    bullet = "- " if markdown else "• "
    for heading, items in sections:
        lines.append(f"**{heading}**" if markdown else f"{heading}:")
        lines.extend(f"{bullet}{item}" for item in items or ["none"])
    if board_url:
        lines.append(board_url)
    budget, body = limit - len(title) - 1, ""
    for line in lines:
        if len(body) + len(line) + 1 > budget:
            body += "…"
            break
        body += ("\n" if body else "") + line
    return PlainMessage(title, body, markdown)
