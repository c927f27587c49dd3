"""Pure embed builders: records in, `discord.Embed` out. Every outside string goes through `clean`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

import discord

from bot.discord.text import (
    DESCRIPTION_MAX,
    EMBED_TOTAL_MAX,
    FIELD_VALUE_MAX,
    FIELDS_MAX,
    FOOTER_MAX,
    TITLE_MAX,
    clean,
    link,
    truncate,
)
from bot.outbox.delivery import Outgoing
from bot.present.messages import event_text, event_title, kind_words
from bot.runtime.config import PROJECT_URL
from bot.services.community import SubscriptionInfo
from bot.services.digest import SUBSCRIPTION_PAUSED, WEEKLY_DIGEST, Digest
from bot.services.queries import ListRow, ModelCard, ModelHistory, Scorecard, Stats, TrackerStatus
from bot.site.paths import model_url
from db.models import GuildSettings
from trackers import events
from trackers.records import PartialDate
from trackers.sunset import Policy, Status, describe_days

STATUS_COLOURS = {
    "overdue": discord.Colour.from_rgb(214, 40, 40),
    "due_soon": discord.Colour.from_rgb(244, 162, 97),
    "in_window": discord.Colour.from_rgb(69, 123, 157),
    "open": discord.Colour.from_rgb(42, 157, 143),
    "unknown": discord.Colour.light_grey(),
}
EVENT_COLOURS = {
    events.SUNSET_PASSED: STATUS_COLOURS["overdue"],
    events.SUNSET_APPROACHING: STATUS_COLOURS["due_soon"],
    events.OPENED_AFTER_SUNSET: STATUS_COLOURS["open"],
    events.OPENNESS_CHANGED: STATUS_COLOURS["open"],
    events.NEW_MODEL: STATUS_COLOURS["in_window"],
}
NEUTRAL = discord.Colour.blurple()
PER_PAGE = 10
CHART_FILENAME = "chart.png"
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def fit(embed: discord.Embed) -> discord.Embed:
    """Trim an embed to Discord's limits: 25 fields and 6,000 characters in all (fields dropped from the end)."""
    while len(embed.fields) > FIELDS_MAX:
        embed.remove_field(-1)
    while len(embed) > EMBED_TOTAL_MAX and embed.fields:
        embed.remove_field(-1)
    if len(embed) > EMBED_TOTAL_MAX and embed.description:
        excess = len(embed) - EMBED_TOTAL_MAX
        embed.description = truncate(embed.description, max(1, len(embed.description) - excess))
    return embed


def _embed(title: str, *, description: str = "", colour: discord.Colour = NEUTRAL) -> discord.Embed:
    return discord.Embed(
        title=truncate(title, TITLE_MAX), description=truncate(description, DESCRIPTION_MAX) or None, colour=colour
    )


def policy_text(policy: Policy) -> str:
    """'10-year window, weights profile'."""
    return f"{policy.window_years}-year window, {policy.profile.value} profile"


# ── one model ────────────────────────────────────────────────────────────────────────────────────


def _yes_no(value: bool | None) -> str:
    return {True: "yes", False: "no", None: "unknown"}[value]


Mention = Callable[[str], str]


def plain_command(path: str) -> str:
    """A command as text, for when its id is unknown (a clickable mention needs it)."""
    return f"/{path}"


def model_embed(card: ModelCard, *, on: date, base_url: str = "", mention: Mention = plain_command) -> discord.Embed:
    """A model's status card: lab, release, age, openness grid, level, sunset, status in words and colour.

    With the board's `base_url`, the title links to the model's page there.
    """
    r, openness = card.card, card.card.openness
    status_words = "open — meets the sunset clause" if r.status is Status.OPEN and r.released else r.status_text
    embed = _embed(f"{clean(r.name, 200)} — {clean(r.lab, 50)}", colour=STATUS_COLOURS[r.status])
    embed.url = model_url(base_url, r.slug)
    embed.description = f"**{clean(status_words, 300)}**"
    release = r.first_release
    if release:
        released_on = PartialDate.parse(release).latest
        age = describe_days(max(0, (on - released_on).days))
        precision = r.release_precision.value if r.release_precision else None
        embed.add_field(name="First release", value=f"{release} ({precision} precision) · {age} ago")
    else:
        embed.add_field(name="First release", value="unknown")
    embed.add_field(name="Level", value=f"{r.level.value} {r.level_label}")
    licence = clean(openness.licence or "none recorded", 300)
    weights = openness.weights_release_date or "not released"
    embed.add_field(name="Access", value=clean(openness.access.value, 50))
    embed.add_field(name="Weights", value=f"{weights}\n{licence} (tier {openness.licence_tier.value})")
    embed.add_field(name="Training code", value=clean(openness.training_code, 50))
    embed.add_field(name="Training data", value=clean(openness.training_data, 50))
    embed.add_field(name="Checkpoints", value=_yes_no(openness.checkpoints))
    embed.add_field(name="Paper", value=clean(openness.paper, 300) if openness.paper else "—")
    embed.add_field(
        name="Sunset",
        value=f"{r.sunset_date or 'unknown'} ({r.window_years}-year window, {r.profile.value} profile)",
    )
    if r.aliases:
        embed.add_field(name="Also known as", value=clean(", ".join(r.aliases[:10]), 300), inline=False)
    wants = "person wants" if card.pledges == 1 else "people want"
    embed.add_field(name="Pledges", value=f"{card.pledges} {wants} it opened")
    sources = [link(url) for url in r.sources[:5]]
    if sources:
        embed.add_field(name="Sources", value=truncate("\n".join(sources), FIELD_VALUE_MAX), inline=False)
    checked = f" · verified on {r.verified.on}" if r.verified else ""
    # A footer shows no mention, so the command to click goes in a field.
    embed.add_field(name="The record", value=f"{mention('model history')} name:{clean(r.slug, 80)}", inline=False)
    embed.set_footer(text=f"as of {r.on}{checked}")
    return fit(embed)


def history_pages(history: ModelHistory) -> list[discord.Embed]:
    """A model's events and observations as pages of dated lines."""
    lines = [f"`{e.on}` {clean(e.text, 300)}" for e in history.events]
    lines += [
        f"`{o.on}` seen {clean(o.text, 300)}" + (f" — {link(o.url)}" if o.url else "") for o in history.observations
    ]
    return line_pages(f"History of {clean(history.name, 200)}", lines or ["Nothing recorded yet."])


# ── lists ────────────────────────────────────────────────────────────────────────────────────────


def chunk(items: Sequence[str], per_page: int = PER_PAGE) -> list[list[str]]:
    """Items split into pages of at most `per_page` (one empty page when there are none)."""
    return [list(items[i : i + per_page]) for i in range(0, len(items), per_page)] or [[]]


def line_pages(title: str, lines: Sequence[str], *, per_page: int = PER_PAGE, footer: str = "") -> list[discord.Embed]:
    """Lines as numbered pages of embeds that each fit Discord's limits."""
    pages = chunk(lines, per_page)
    embeds = []
    for number, page in enumerate(pages, start=1):
        embed = _embed(title, description=truncate("\n".join(page), DESCRIPTION_MAX) or "Nothing to show.")
        suffix = f" · page {number}/{len(pages)}" if len(pages) > 1 else ""
        embed.set_footer(text=truncate(f"{footer}{suffix}".strip(" ·"), FOOTER_MAX) or None)
        embeds.append(fit(embed))
    return embeds


def row_line(row: ListRow) -> str:
    """One model in a list: name, lab, release, level, sunset and status."""
    sunset = row.sunset.isoformat() if row.sunset else "—"
    return (
        f"**{clean(row.name, 100)}** ({clean(row.lab, 60)}) · released {row.released} · {row.level} · "
        f"sunset {sunset} · {clean(row.summary, 100)}"
    )


def list_pages(
    title: str, rows: Sequence[ListRow], policy: Policy, on: date, *, most: int | None = None
) -> list[discord.Embed]:
    """A sorted list of models as pages; at most `most` rows (a longer list says it shows the first ones)."""
    shown = rows[:most]
    count = f"first {len(shown)} models" if len(rows) > len(shown) else f"{len(rows)} models"
    footer = f"{count} · {policy_text(policy)} · on {on}"
    return line_pages(title, [row_line(row) for row in shown] or ["No models."], footer=footer)


def search_pages(query: str, rows: Sequence[tuple[str, str]]) -> list[discord.Embed]:
    """Search results (name, slug) as pages."""
    lines = [f"**{clean(name, 150)}** · `{clean(slug, 80)}`" for name, slug in rows]
    return line_pages(f"Models matching “{clean(query, 100)}”", lines or ["No models match."])


def stats_embed(stats: Stats, *, chart: bool = True) -> discord.Embed:
    """Counts by status and level (the chart attaches as chart.png)."""
    policy = f"{stats.window_years}-year window, {stats.profile} profile"
    embed = _embed(f"{stats.models} models — {policy}", colour=NEUTRAL)
    embed.add_field(name="By status", value="\n".join(f"{k}: {v}" for k, v in stats.by_status.items()) or "—")
    embed.add_field(name="By level", value="\n".join(f"{k}: {v}" for k, v in stats.by_level.items()) or "—")
    if chart:
        embed.set_image(url=f"attachment://{CHART_FILENAME}")
    embed.set_footer(text=f"on {stats.on}")
    return fit(embed)


def scorecard_embed(card: Scorecard, *, on: date) -> discord.Embed:
    """A lab's record: models by level, overdue count, longest overdue, recently opened."""
    colour = STATUS_COLOURS["overdue"] if card.overdue else STATUS_COLOURS["open"]
    embed = _embed(f"{clean(card.name, 200)} — scorecard", colour=colour)
    if card.children:  # say which labs it took in, as the lists filtered by a lab do
        embed.description = f"With {clean(', '.join(card.children), 300)}."
    embed.add_field(name="Models", value=str(card.models))
    embed.add_field(name="By level", value="\n".join(f"{k}: {v}" for k, v in card.by_level.items()) or "—")
    embed.add_field(name="Overdue", value=str(card.overdue))
    if card.longest_overdue:
        name, summary = card.longest_overdue
        embed.add_field(name="Longest overdue", value=f"{clean(name, 200)} — {clean(summary, 200)}", inline=False)
    opened = [f"{clean(name, 150)} ({level}, {on_date})" for name, on_date, level in card.recently_opened]
    embed.add_field(name="Recently opened", value="\n".join(opened) or "none in the last two years", inline=False)
    embed.set_footer(text=f"{policy_text(card.policy)} · on {on}")
    return fit(embed)


# ── community ────────────────────────────────────────────────────────────────────────────────────


def target_text(target: str) -> str:
    """'channel:1' → '<#1>' (a channel link pings no one); 'user:2' → 'your DMs'."""
    kind, _, ident = target.partition(":")
    return f"<#{ident}>" if kind == "channel" and ident.isdigit() else "DMs" if kind == "user" else clean(target, 80)


def subscription_line(info: SubscriptionInfo) -> str:
    """`#12` lab meta → #alerts: sunset_passed, … (paused: reason)."""
    scope = info.scope if info.scope == "all" else f"{info.scope} {clean(info.scope_value or '', 80)}"
    paused = f" — **paused**: {clean(info.pause_reason or '', 200)}" if info.paused else ""
    kinds = ", ".join(kind_words(kind).lower() for kind in info.kinds)
    return f"`#{info.id}` {scope} → {target_text(info.target)}: {kinds}{paused}"


def subscriptions_pages(rows: Sequence[SubscriptionInfo], *, mention: Mention = plain_command) -> list[discord.Embed]:
    """The subscriptions a user can see here, with ids for /unsubscribe (a clickable mention when known)."""
    lines = [subscription_line(row) for row in rows] or [f"No subscriptions yet: try {mention('subscribe')}."]
    if rows:
        lines.append(f"{mention('unsubscribe')} id:… removes one.")
    return line_pages("Subscriptions", lines)


def settings_embed(settings: GuildSettings, policy: Policy, *, default_digest: tuple[int, int]) -> discord.Embed:
    """This server's settings, showing which are overrides."""
    embed = _embed("Server settings")
    channel = f"<#{settings.alerts_channel_id}>" if settings.alerts_channel_id else "not set (`/settings channel`)"
    embed.add_field(name="Alerts channel", value=channel, inline=False)
    own = " (this server)" if settings.window_years else " (default)"
    embed.add_field(name="Window", value=f"{policy.window_years} years{own}")
    own = " (this server)" if settings.profile else " (default)"
    embed.add_field(name="Profile", value=f"{policy.profile.value}{own}")
    if settings.digest_weekday is None:
        default = f"{WEEKDAYS[default_digest[0]]} {default_digest[1]:02d}:00 UTC"
        digest = f"off (`/settings digest` turns it on; default {default})"
    else:
        digest = f"{WEEKDAYS[settings.digest_weekday]} {settings.digest_hour or 0:02d}:00 UTC"
    embed.add_field(name="Weekly digest", value=digest, inline=False)
    return fit(embed)


def tracker_embed(status: TrackerStatus) -> discord.Embed:
    """Source health (problems first), this server's paused subscriptions, recent operator events."""
    problems = [s for s in status.sources if s.status in {"error", "paused"}]
    colour = STATUS_COLOURS["overdue"] if problems or status.paused_subscriptions else STATUS_COLOURS["open"]
    embed = _embed(f"Trackers — {len(status.sources)} sources, {len(problems)} with problems", colour=colour)
    lines = []
    for s in status.sources[:40]:
        line = f"`{clean(s.name, 60)}` {s.kind} · **{s.status}**"
        if s.failures:
            line += f" · {s.failures} failures"
        if s.last_ok:
            line += f" · last ok {s.last_ok}"
        if s.last_error and s.status in {"error", "paused"}:
            line += f"\n  ↳ {clean(s.last_error, 150)}"
        lines.append(line)
    embed.description = truncate("\n".join(lines) or "No sources recorded yet.", DESCRIPTION_MAX - 500)
    if status.paused_subscriptions:
        paused = [f"`#{i}` {target_text(t)}: {clean(reason, 150)}" for i, t, reason in status.paused_subscriptions]
        embed.add_field(name="Paused subscriptions", value=truncate("\n".join(paused), FIELD_VALUE_MAX), inline=False)
    if status.operator_events:
        text = "\n".join(f"`{e.on}` {clean(e.text, 200)}" for e in status.operator_events)
        embed.add_field(name="Operator events", value=truncate(text, FIELD_VALUE_MAX), inline=False)
    return fit(embed)


def pledges_embed(top: Sequence[tuple[str, int]]) -> discord.Embed:
    """The most-pledged models across all servers."""
    lines = [f"{n}. **{clean(name, 150)}** — {count}" for n, (name, count) in enumerate(top, start=1)]
    return _embed("Most pledged: open these", description="\n".join(lines) or "No pledges yet: `/pledge name:`.")


def about_embed(policy: Policy, settings: GuildSettings | None) -> discord.Embed:
    """What the sunset clause asks and why, how it is judged, where the data comes from, this server's settings."""
    embed = _embed(
        "Sunset Clause",
        description=(
            "Models age fast. The **sunset clause** asks that once a model is older than a window of 10–15 years, "
            "its lab opens it: publishes the weights under an open licence (or more). This bot keeps a sourced "
            "record of when each model was released and how open it is, flags the ones past their sunset that "
            "are still closed, warns before sunsets arrive and celebrates models that open."
        ),
    )
    embed.add_field(
        name="Levels",
        value=(
            "**L0** closed · **L1** weights, restricted licence · **L2** open weights (OSI/open licence) · "
            "**L3** open source (+ training code, data described) · **L4** open science (+ open data, "
            "checkpoints, paper)"
        ),
        inline=False,
    )
    embed.add_field(
        name="Window and profiles",
        value=(
            "Sunset = first release + window. Profile `weights`: opened at L2; `strict`: opened at L3. "
            "A date known only to the month or year counts from its end, so no sunset is claimed early."
        ),
        inline=False,
    )
    embed.add_field(
        name="Where the data comes from",
        value=(
            "A curated catalog where every fact cites its source; lab feeds, GitHub releases and Hugging Face "
            "cards; Epoch AI's Notable AI Models (CC-BY 4.0); the SPDX licence list."
        ),
        inline=False,
    )
    embed.add_field(
        name="Corrections",
        value=f"Open an issue or pull request at {PROJECT_URL} with the fact and its source.",
        inline=False,
    )
    channel = f"<#{settings.alerts_channel_id}>" if settings and settings.alerts_channel_id else "not set"
    embed.add_field(name="This server", value=f"{policy_text(policy)} · alerts in {channel}", inline=False)
    return fit(embed)


def help_embed(commands: Sequence[tuple[str, str]], *, mention: Mention = plain_command) -> discord.Embed:
    """Every slash command with what it does, each a clickable mention when its id is known."""
    lines = [f"{mention(path)} — {clean(description, 150)}" for path, description in sorted(commands)]
    embed = _embed("Commands", description=truncate("\n".join(lines), DESCRIPTION_MAX))
    embed.set_footer(text="Admin commands (settings, channel subscriptions) need Manage Server.")
    return fit(embed)


# ── alerts and digests ───────────────────────────────────────────────────────────────────────────


def event_embed(outgoing: Outgoing, *, base_url: str = "", mention: Mention = plain_command) -> discord.Embed:
    """One event as an alert; with the board's `base_url`, the title links to the model's page there."""
    payload = outgoing.payload
    embed = _embed(
        clean(event_title(outgoing.kind, payload), TITLE_MAX),
        description=clean(event_text(outgoing.kind, payload), DESCRIPTION_MAX),
        colour=EVENT_COLOURS.get(outgoing.kind, NEUTRAL),
    )
    if payload.get("model"):
        embed.url = model_url(base_url, str(payload["model"]))
    url = payload.get("url")
    if isinstance(url, str) and url:
        embed.add_field(name="Source", value=link(url), inline=False)
    if payload.get("model"):
        embed.add_field(name="More", value=f"{mention('model status')} name:{clean(str(payload['model']), 100)}")
    embed.set_footer(text=str(outgoing.occurred_on))
    return fit(embed)


def notice_embed(outgoing: Outgoing) -> discord.Embed:
    """A subscription paused because its channel is gone or forbids posting."""
    p = outgoing.payload
    return _embed(
        "A subscription was paused",
        description=(
            f"Subscription `#{p.get('id')}` to {target_text(str(p.get('target')))} was paused: "
            f"{clean(p.get('reason') or 'the target is unavailable', 300)}. Fix the channel's permissions, then "
            "`/subscribe` again to resume. `/tracker status` lists paused subscriptions."
        ),
        colour=STATUS_COLOURS["overdue"],
    )


def _listing(items: Sequence[Any], fmt: str, empty: str, limit: int = 10) -> str:
    lines = [fmt.format(*(clean(part, 150) for part in item)) for item in items[:limit]]
    if len(items) > limit:
        lines.append(f"… and {len(items) - limit} more")
    return truncate("\n".join(lines) or empty, FIELD_VALUE_MAX)


def digest_embed(digest: Digest) -> discord.Embed:
    """The weekly digest: new, passed, approaching, opened, top pledges (the chart attaches as chart.png)."""
    embed = _embed(
        f"Weekly digest — {digest.since} to {digest.on}",
        description=f"{digest.window_years}-year window, {digest.profile} profile",
    )
    embed.add_field(name="Newly tracked", value=_listing([(n,) for n in digest.new_models], "{}", "none"), inline=False)
    embed.add_field(
        name="Sunsets passed", value=_listing(digest.sunsets_passed, "{} ({})", "none this week"), inline=False
    )
    approaching = _listing(digest.approaching, "{} ({})", "none soon")
    embed.add_field(name="Sunsets approaching", value=approaching, inline=False)
    embed.add_field(name="Opened", value=_listing(digest.opened, "{} → {}", "none this week"), inline=False)
    embed.add_field(
        name="Top pledges",
        value=_listing([(n, str(c)) for n, c in digest.top_pledges], "{} — {}", "no pledges yet"),
        inline=False,
    )
    embed.set_image(url=f"attachment://{CHART_FILENAME}")
    return fit(embed)


def outgoing_embed(outgoing: Outgoing, *, base_url: str = "", mention: Mention = plain_command) -> discord.Embed:
    """The embed for any outbox message, by kind (alerts link to the board when `base_url` is set)."""
    if outgoing.kind == WEEKLY_DIGEST:
        return digest_embed(Digest.from_payload(outgoing.payload))
    if outgoing.kind == SUBSCRIPTION_PAUSED:
        return notice_embed(outgoing)
    return event_embed(outgoing, base_url=base_url, mention=mention)


def error_embed(message: str) -> discord.Embed:
    """A friendly, ephemeral error."""
    return _embed("Sorry", description=truncate(message, DESCRIPTION_MAX), colour=STATUS_COLOURS["overdue"])
