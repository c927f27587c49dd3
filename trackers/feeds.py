"""RSS/Atom documents into entries (feedparser; bozo judged by what parsed), and the model names and cues an
announcement carries. Pure.

Feedparser's `bozo` flag is not a failure on its own: encoding overrides set it on feeds that parse
fully. Failure is decided from what was parsed: no feed version and no entries means "not a feed".
A feed is untrusted input: its texts are cleaned in linear time (`trackers.htmltext`), its links must
be absolute http(s) URLs once resolved, and parsing one document has a budget of size and time.
"""

from __future__ import annotations

import calendar
import hashlib
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

from trackers.htmltext import html_to_text, plain
from trackers.sources import Document, ParseError

# Feeds began in 1999; an entry dated before this is a placeholder (1970-01-01, 1900-01-01), not a date,
# and believing it would make "the earliest credible release date" absurdly early.
EARLIEST_FEED_DATE = date(1995, 1, 1)

# Encoding overrides and a text/plain Content-Type say nothing about whether the feed was read.
_BENIGN_BOZO = {"CharacterEncodingOverride", "NonXMLContentType"}

# What feedparser calls HTML in a text construct's `type` (RSS titles are guessed, Atom's are declared).
_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_FIRST_ELEMENT = re.compile(rb"<\w")


@dataclass(frozen=True)
class ParseBudget:
    """How much one feed document may cost to read before it is recorded as an error.

    feedparser cannot be interrupted: the size bounds its work (the slowest input measured, broken
    markup read by its loose parser, costs ≈ 8 s per MiB), and the time is checked between entries.
    """

    max_bytes: int = 4 * 1024 * 1024
    seconds: float = 20.0
    # What comes before the first element (XML declaration, DOCTYPE, comments: a few hundred bytes in the
    # real feeds we hold). feedparser scans it with `^\s*<!DOCTYPE` line by line, in time quadratic in its
    # white space: 80,000 newlines there took 34 s, in one call that holds the interpreter lock.
    max_prolog_bytes: int = 16 * 1024


@dataclass(frozen=True)
class Entry:
    """One feed entry, reduced to what the trackers read."""

    id: str
    title: str
    link: str
    published: date | None
    text: str


@dataclass(frozen=True)
class Feed:
    """The entries of a feed and the problems met while reading it (duplicates, odd dates, broken XML)."""

    entries: tuple[Entry, ...]
    problems: tuple[str, ...]


def parse_feed(
    document: Document,
    today: date,
    *,
    budget: ParseBudget = ParseBudget(),
    clock: Callable[[], float] = time.monotonic,
) -> Feed:
    """Entries of an RSS/Atom document; ParseError when it is not a feed at all, or costs more than the budget."""
    if not document.body.strip():
        raise ParseError("empty document")
    if len(document.body) > budget.max_bytes:
        raise ParseError(f"feed of {len(document.body)} bytes is larger than the {budget.max_bytes}-byte parse budget")
    first_element = _FIRST_ELEMENT.search(document.body)
    if first_element is not None and first_element.start() > budget.max_prolog_bytes:
        raise ParseError(f"not a feed: {first_element.start()} bytes before the first element")
    deadline = clock() + budget.seconds
    headers = {"content-type": document.content_type} if document.content_type else {}
    # Imported here, not at the top: the settings import every kind to check options, and start-up stays fast.
    import feedparser

    # No base URL for feedparser: it would resolve a bare guid ("12345") it copies into `link` into a
    # made-up URL. Links are resolved here instead, after feedparser has applied any xml:base.
    parsed = feedparser.parse(document.body, response_headers=headers, sanitize_html=False, resolve_relative_uris=False)
    problems: list[str] = []
    if parsed.get("bozo") and type(parsed.get("bozo_exception")).__name__ not in _BENIGN_BOZO:
        if not parsed.get("version") and not parsed.entries:
            raise ParseError(f"not a feed: {_reason(parsed)}")
        problems.append(f"feed is not well-formed ({_reason(parsed)}); read {len(parsed.entries)} entries")
    elif not parsed.get("version") and not parsed.entries:
        raise ParseError("not a feed: no RSS or Atom root element")
    base = _base_url(document)
    entries: dict[str, Entry] = {}
    duplicates = undated = future = placeholder = 0
    for number, raw in enumerate(parsed.entries):
        if clock() > deadline:
            raise ParseError(
                f"parse budget of {budget.seconds:g}s spent after {number} of {len(parsed.entries)} entries"
            )
        entry = _entry(raw, base, document.url)
        if entry.published is None:
            undated += 1
        elif entry.published > today or entry.published < EARLIEST_FEED_DATE:
            if entry.published > today:
                future += 1
            else:
                placeholder += 1
            entry = Entry(entry.id, entry.title, entry.link, None, entry.text)
        if entry.id in entries:
            duplicates += 1
            continue
        entries[entry.id] = entry
    if duplicates:
        problems.append(f"{duplicates} entries repeat an earlier id (kept the first)")
    if undated:
        problems.append(f"{undated} entries have no date")
    if future:
        problems.append(f"{future} entries are dated in the future (date ignored)")
    if placeholder:
        problems.append(f"{placeholder} entries are dated before {EARLIEST_FEED_DATE.year}: a placeholder, ignored")
    return Feed(tuple(entries.values()), tuple(problems))


def _entry(raw: Any, base: str, feed_url: str) -> Entry:
    title = _text(raw.get("title"), raw.get("title_detail"))
    link = _link(raw, base)
    parts = [
        (raw.get("summary"), raw.get("summary_detail")),
        *((part.get("value"), part) for part in raw.get("content") or []),
    ]
    text = " ".join(cleaned for cleaned in (_text(value, detail) for value, detail in parts) if cleaned)
    published = None
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        stamp = dict.get(raw, key)  # plain lookup: FeedParserDict would alias updated↔published with a warning
        if stamp:
            published = datetime.fromtimestamp(calendar.timegm(stamp), UTC).date()
            break
    identifier = raw.get("id") or link or title or _digest(text, published)
    # An entry without a link of its own is sourced by the feed it came from.
    return Entry(id=str(identifier), title=title, link=link or feed_url, published=published, text=text)


def _text(value: object, detail: Any) -> str:
    """A text construct as plain text: HTML (as feedparser typed it) cleaned and decoded once; text kept as is."""
    if not isinstance(value, str) or not value:
        return ""
    kind = detail.get("type") if isinstance(detail, dict) else None
    return html_to_text(value) if kind is None or kind in _HTML_TYPES else plain(value)


def _base_url(document: Document) -> str:
    """What relative links resolve against: the Content-Location the server gave, else the document's URL."""
    if document.content_location:
        try:
            return urljoin(document.url, document.content_location)
        except ValueError:
            pass
    return document.url


def _link(raw: Any, base: str) -> str | None:
    """The entry's web page as an absolute http(s) URL, or None.

    feedparser copies a permalink guid into `link` when the entry has no link element; a guid is often
    no URL at all ("12345", "tag:…"), so it counts only when it already is an absolute http(s) URL.
    """
    link = raw.get("link")
    if not isinstance(link, str) or not link.strip():
        return None
    alternates = any(item.get("rel", "alternate") == "alternate" for item in raw.get("links") or [])
    if not (raw.get("guidislink") and not alternates):
        try:
            link = urljoin(base, link.strip())
        except ValueError:
            return None
    return link if _is_web_url(link) else None


def _is_web_url(text: str) -> bool:
    try:
        parts = urlsplit(text)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _digest(text: str, published: date | None) -> str:
    """A stable identity for an entry with no id, link or title: what it says and when."""
    content = f"{published}\n{text}".encode()
    return "sha256:" + hashlib.sha256(content).hexdigest()[:32]


def _reason(parsed: Any) -> str:
    error = parsed.get("bozo_exception")
    text = str(error).strip() if error else "unknown problem"
    return text.splitlines()[0][:200] if text else type(error).__name__


# --- what an announcement says ------------------------------------------------------------------

_LEAD = re.compile(
    r"^(?:introducing|announcing|meet|releasing|launching|unveiling|presenting|say hello to|hello,?)\s+(?P<rest>.+)",
    re.IGNORECASE,
)
_HERE = re.compile(
    r"^(?P<name>.+?)\s+(?:is here|is now available|now available|is available|is out|released)\b", re.IGNORECASE
)
_COLON = re.compile(r"^(?P<name>[^:]{2,40}?):\s")
_PUNCTUATION = re.compile(r"\s*(?::|—|–|\s-\s|,|!|\?|\()")
_STOP = re.compile(r"\s+(?:is|and|with|for|in|on|to|now|our|by|from|via|the new)\b", re.IGNORECASE)
_ARTICLE = re.compile(r"^(?:(?:the|our|a|an|new)\s+)+", re.IGNORECASE)
_GENERIC_TAIL = re.compile(r"\s+(?:world\s+)?(?:models?|family|series|herd|collection)$", re.IGNORECASE)
# Titles that name something other than a model: questions, tours, "Reimagining …", possessives.
_NOT_A_NAME = re.compile(r"^(?:how|why|what|when|where|who|inside|behind|[a-z]{3,}ing)\b|['’]s\b", re.IGNORECASE)
_DESCRIBED_AS_NOT_A_MODEL = re.compile(
    r"\s*(?:an?\s+|the\s+|open[- ]source\s+)*(?:\S+\s+){0,2}"
    r"(?:dataset|library|benchmark|toolkit|framework|tool|app)s?\b",
    re.IGNORECASE,
)
# fmt: off
_NOT_A_MODEL = frozenset({  # last words of what labs announce besides models
    "program", "programme", "council", "policy", "institute", "protocol", "hub", "track", "cohort", "conference",
    "hackathon", "fund", "fellowship", "initiative", "summit", "report", "partnership", "network", "grants",
    "awards", "academy", "challenge", "competition", "office", "government", "citizens", "education", "teachers",
})
# fmt: on
_HF_REPO = re.compile(r"huggingface\.co/(?!datasets/|spaces/|blog/|docs/|papers/)([\w.-]+/[\w.-]+)")

CLOSED_API = (
    "available in our api",
    "available via our api",
    "available via the api",
    "available through our api",
    "available in the api",
    "api access",
    "in the gemini api",
)
CLOSED_APP = ("rolling out in the app", "rolling out to", "available in chatgpt", "available in the app", "in the app")
OPEN_WEIGHTS = (
    "weights on hugging face",
    "open weights",
    "open-weight",
    "weights are available",
    "download the weights",
    "released the weights",
    "releasing the weights",
    "model weights",
    "the weights",
)
OPENED = ("now open source", "open-sourcing", "open sourcing", "relicens", "now available under")
LICENCES = {
    "apache 2.0": "Apache-2.0",
    "apache-2.0": "Apache-2.0",
    "apache license": "Apache-2.0",
    "mit license": "MIT",
    "cc-by 4.0": "CC-BY-4.0",
    "cc by 4.0": "CC-BY-4.0",
    "cc-by-nc": "CC-BY-NC-4.0",
}


def model_names(title: str) -> list[str]:
    """Names a title announces ("Introducing Foo 2", "Foo 2: …", "Foo 2 is here"), without the lead word.

    Without a lead word a name must carry a version ("Llama 3.1: …"), so that "Elections and AI in
    2024: …" names nothing. A name is a proper noun: "Introducing a way to …" names nothing either.
    """
    names: list[str] = []
    lead = _LEAD.match(title)
    rest = lead.group("rest") if lead else title
    if lead:
        names.append(_cut(rest))
    for pattern in (_HERE, _COLON):
        match = pattern.match(rest)
        name = _cut(match.group("name")) if match else ""
        if re.search(r"\d", name):
            names.append(name)
    return [name for name in dict.fromkeys(names) if _plausible(name)]


def _cut(text: str) -> str:
    """The name at the start of a phrase ("" when the phrase names a programme, or a product for an audience)."""
    phrase, *rest = _PUNCTUATION.split(_ARTICLE.sub("", text.strip()), maxsplit=1)
    phrase, description = phrase.strip(" .'\""), rest[0] if rest else ""
    if not phrase or phrase.split()[-1].lower() in _NOT_A_MODEL or _DESCRIBED_AS_NOT_A_MODEL.match(description):
        return ""  # "the … Advisory Council", "Claude for Education", "Nymeria, a dataset for …"
    stop = _STOP.search(phrase)
    name = phrase[: stop.start()] if stop else phrase
    if stop and stop.group().split()[0].lower() in ("for", "to") and not any(char.isdigit() for char in name):
        return ""  # "Claude for Small Business", "Claude to Canada": an offer, not a model
    return _GENERIC_TAIL.sub("", name.strip(" .'\""))


def _plausible(name: str) -> bool:
    words = name.split()
    if not 0 < len(words) <= 5 or len(name) > 60 or not name[0].isalnum() or _NOT_A_NAME.search(name):
        return False
    if re.fullmatch(r"[a-z]+", words[0]) or words[-1].lower() in _NOT_A_MODEL:
        return False  # a common word ("a way to …", "computer use"), or an organisation's programme
    return len(name) >= 3 or any(char.isdigit() for char in name)


def cues(text: str) -> dict[str, str]:
    """Openness cues in an announcement: access (api/hosted), weights claimed, a licence, an opening."""
    lowered = text.lower()
    found: dict[str, str] = {}
    if _any(lowered, CLOSED_API):
        found["cue:access"] = "api"
    elif _any(lowered, CLOSED_APP):
        found["cue:access"] = "hosted"
    if _any(lowered, OPEN_WEIGHTS) or _HF_REPO.search(text):
        found["cue:weights"] = "claimed"
    for phrase, spdx in LICENCES.items():
        if phrase in lowered:
            found["cue:licence"] = spdx
            break
    if _any(lowered, OPENED):
        found["cue:opened"] = "claimed"
    return found


def hf_repos_mentioned(text: str) -> list[str]:
    """Hugging Face model repositories linked from a text."""
    return list(dict.fromkeys(repo.rstrip(".") for repo in _HF_REPO.findall(text)))


def _any(text: str, phrases: Iterable[str]) -> bool:
    return any(phrase in text for phrase in phrases)
