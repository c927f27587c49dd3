"""RSS/Atom documents into entries (feedparser), and the model names and cues an announcement carries. Pure.

Feedparser's `bozo` flag is not a failure on its own: encoding overrides set it on feeds that parse
fully. Failure is decided from what was parsed: no feed version and no entries means "not a feed".
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import feedparser

from trackers.sources import Document, ParseError

# Encoding overrides and a text/plain Content-Type say nothing about whether the feed was read.
_BENIGN_BOZO = {"CharacterEncodingOverride", "NonXMLContentType"}


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


def parse_feed(document: Document, today: date) -> Feed:
    """Entries of an RSS/Atom document; ParseError when it is not a feed at all."""
    if not document.body.strip():
        raise ParseError("empty document")
    headers = {"content-type": document.content_type} if document.content_type else {}
    parsed = feedparser.parse(document.body, response_headers=headers, sanitize_html=False)
    problems: list[str] = []
    if parsed.get("bozo") and type(parsed.get("bozo_exception")).__name__ not in _BENIGN_BOZO:
        if not parsed.get("version") and not parsed.entries:
            raise ParseError(f"not a feed: {_reason(parsed)}")
        problems.append(f"feed is not well-formed ({_reason(parsed)}); read {len(parsed.entries)} entries")
    elif not parsed.get("version") and not parsed.entries:
        raise ParseError("not a feed: no RSS or Atom root element")
    entries: dict[str, Entry] = {}
    duplicates = undated = future = 0
    for raw in parsed.entries:
        entry = _entry(raw, document.url)
        if entry.published is None:
            undated += 1
        elif entry.published > today:
            future += 1
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
    return Feed(tuple(entries.values()), tuple(problems))


def _entry(raw: Any, base_url: str) -> Entry:
    title = _clean(raw.get("title", ""))
    link = raw.get("link") or ""
    text = " ".join(_clean(part.get("value", "")) for part in raw.get("content", []) or [])
    text = " ".join(part for part in (_clean(raw.get("summary", "")), text) if part)
    identifier = raw.get("id") or link or title
    published = None
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        stamp = dict.get(raw, key)  # plain lookup: FeedParserDict would alias updated↔published with a warning
        if stamp:
            published = datetime.fromtimestamp(calendar.timegm(stamp), UTC).date()
            break
    return Entry(id=str(identifier), title=title, link=str(link) or base_url, published=published, text=text)


def _reason(parsed: Any) -> str:
    error = parsed.get("bozo_exception")
    text = str(error).strip() if error else "unknown problem"
    return text.splitlines()[0][:200] if text else type(error).__name__


_TAGS = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")


def _clean(text: str) -> str:
    return _SPACE.sub(" ", _TAGS.sub(" ", text or "")).strip()


# --- what an announcement says ------------------------------------------------------------------

_LEAD = re.compile(
    r"^(?:introducing|announcing|meet|releasing|launching|unveiling|presenting|say hello to|hello,?)\s+(?P<rest>.+)",
    re.IGNORECASE,
)
_HERE = re.compile(
    r"^(?P<name>.+?)\s+(?:is here|is now available|now available|is available|is out|released)\b", re.IGNORECASE
)
_COLON = re.compile(r"^(?P<name>[^:]{2,40}?):\s")
_STOP = re.compile(
    r"\s*(?::|—|–|\s-\s|,|!|\?|\(|\bis\b|\band\b|\bwith\b|\bfor\b|\bin\b|\bon\b|\bto\b|\bnow\b|\bour\b|\bthe new\b)",
    re.IGNORECASE,
)
_ARTICLE = re.compile(r"^(?:(?:the|our|a|an|new)\s+)+", re.IGNORECASE)
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
    """Names a title announces ("Introducing Foo 2", "Foo 2: …", "Foo 2 is here"); short and with a version."""
    names: list[str] = []
    lead = _LEAD.match(title)
    if lead:
        names.append(_cut(lead.group("rest")))
    for pattern in (_HERE, _COLON):
        match = pattern.match(title)
        if match and re.search(r"\d", match.group("name")):
            names.append(_cut(match.group("name")))
    return [name for name in dict.fromkeys(names) if _plausible(name)]


def _cut(text: str) -> str:
    text = _ARTICLE.sub("", text.strip())
    stop = _STOP.search(text)
    return (text[: stop.start()] if stop and stop.start() > 0 else text).strip(" .'\"")


def _plausible(name: str) -> bool:
    words = name.split()
    return 0 < len(words) <= 5 and len(name) <= 60 and name[0].isalnum() and not name.lower().startswith("how ")


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
