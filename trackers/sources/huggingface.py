"""`huggingface`: an author's models on the Hub (newest first, paged by `Link`) and their model cards.

Dates come from `createdAt` only (never `lastModified`); the Hub back-filled 2022-03-02 for every
older repository, so that value means "before then", not a release date.
"""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from pydantic import Field

from trackers.cards import card_facts, front_matter
from trackers.sources import (
    ARTEFACT,
    Context,
    Document,
    FeedKind,
    FollowUp,
    HttpUrlText,
    Options,
    Parsed,
    ParseError,
    Sighting,
)

HUB = "https://huggingface.co"
CREATED_AT_FLOOR = "2022-03-02"
PAGE_SIZE = 100
_REPO_ID = re.compile(r"[\w.-]{1,96}/[\w.-]{1,96}")  # OWNER/NAME, as the Hub allows them
MAX_CARDS = 20  # card fetches per listing page; the rest rely on the listing's cardData
EXPAND = ("createdAt", "gated", "private", "disabled", "tags", "cardData")


class HubOptions(Options):
    """`author`: the Hub organisation or user; `endpoint`: another Hub; `page_size`: models per listing page."""

    author: Annotated[str, Field(pattern=r"^[\w.-]{1,96}$")]
    endpoint: HttpUrlText | None = None
    page_size: Annotated[int, Field(ge=1, le=1000)] = PAGE_SIZE


def start_url(options: HubOptions) -> str:
    """The author's listing: newest first, with the fields we read expanded."""
    endpoint = (options.endpoint or HUB).rstrip("/")
    query = [("author", options.author), ("sort", "createdAt"), ("direction", "-1")]
    query += [("limit", str(options.page_size))] + [("expand[]", field) for field in EXPAND]
    return f"{endpoint}/api/models?{urlencode(query)}"


def read(document: Document, context: Context) -> Parsed:
    """A listing page (sightings per repo, next page, cards to read) or one model card."""
    if document.role == "card":
        return _card(document)
    try:
        items = json.loads(document.body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ParseError(f"Hub listing is not JSON: {error}") from error
    if not isinstance(items, list):
        raise ParseError(f"Hub listing is not a JSON array (got {type(items).__name__})")
    endpoint = str(context.spec.options.get("endpoint") or HUB).rstrip("/")
    sightings: list[Sighting] = []
    cards: list[FollowUp] = []
    problems: list[str] = []
    repos = [item for item in items if isinstance(item, dict) and _REPO_ID.fullmatch(str(item.get("id")))]
    public = [item for item in repos if not item.get("private") and not item.get("disabled")]
    for item in public:
        repo = item["id"]
        sightings += _listing_sightings(item, f"{endpoint}/{repo}")
        if repo not in context.known_repos and len(cards) < MAX_CARDS:
            cards.append(FollowUp(f"{endpoint}/{quote(repo)}/raw/main/README.md", "card", repo))
    if len(repos) < len(items):
        problems.append(f"{len(items) - len(repos)} listing items without a valid repository id")
    follow = list(cards)
    fresh = any(item["id"] not in context.known_repos for item in repos)
    if document.next_url and fresh:  # newest first: a page of known repositories means we are caught up
        follow.append(FollowUp(document.next_url, "listing"))
    return Parsed(tuple(sightings), tuple(follow), tuple(problems), items=len(public))


def _listing_sightings(item: dict[str, Any], url: str) -> list[Sighting]:
    repo: str = item["id"]
    name = repo.split("/", 1)[-1]
    facts: list[tuple[str, str]] = []
    created = _day(item.get("createdAt"))
    if created and created > CREATED_AT_FLOOR:
        facts.append(("released", created))
    elif created:
        facts.append(("released_before", CREATED_AT_FLOOR))
    facts.append(("access", "gated" if item.get("gated") not in (None, False, "false") else "download"))
    card = item.get("cardData") if isinstance(item.get("cardData"), dict) else None
    listed = item.get("tags")
    tags = [tag for tag in listed if isinstance(tag, str)] if isinstance(listed, list) else []
    facts += card_facts(card or {}, tags)
    return [Sighting(name, fact, value, url, ARTEFACT, hf_repo=repo) for fact, value in dict.fromkeys(facts)]


def _day(value: object) -> str | None:
    """The date of an ISO 8601 timestamp ("2024-07-23T15:00:00.000Z" → "2024-07-23"); None when it is not one."""
    try:
        return date.fromisoformat(str(value)[:10]).isoformat()
    except ValueError:
        return None


def _card(document: Document) -> Parsed:
    repo = document.subject or ""
    url = document.url.replace("/raw/", "/blob/")
    try:
        data = front_matter(document.body)
    except ValueError as error:
        return Parsed(problems=(f"card {repo}: {error}",))
    if data is None:
        return Parsed(problems=(f"card {repo}: no YAML front matter (licence unknown)",))
    facts = card_facts(data, [])
    name = repo.split("/", 1)[-1]
    return Parsed(tuple(Sighting(name, fact, value, url, ARTEFACT, hf_repo=repo) for fact, value in facts))


KIND = FeedKind("huggingface", HubOptions, start_url, read, hub_token=True, known_repos=True)
