"""Sources: one small module per kind, each a `read(document, context) -> Parsed` function.

The HTTP layer (`trackers.http`) fetches; a reader only turns one document into sightings (sourced
claims about models) and, where a source spans several documents (the Hub's pages and model cards),
names the follow-up documents to fetch. Readers are pure: bytes in, records out.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

# C0 controls and DEL (but tab and newlines), and the bidirectional controls that let text display reversed
# (U+202E makes "gpt-4" read "4-tpg"; trojan-source tricks): nothing from outside carries them.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")

# Precedence of a claim (Observation.rank): higher wins.
MODERATOR = 100
CATALOG = 80
ARTEFACT = 60  # the lab's own Hub organisation or GitHub repository
ANNOUNCEMENT = 40  # the lab's own blog or news feed
THIRD_PARTY = 30  # a Hub author that is not a lab's official organisation
DATASET = 20  # third-party datasets (Epoch AI)


@dataclass(frozen=True)
class SourceSpec:
    """One configured source: its name, kind, lab and kind-specific options."""

    name: str
    kind: str
    lab: str | None = None
    interval_minutes: int | None = None
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Document:
    """One fetched document: where it came from, its bytes, and what role it plays in its source.

    `content_location` is the server's Content-Location (RFC 9110 §8.7): what relative links resolve against.
    """

    url: str
    body: bytes
    content_type: str | None = None
    role: str = "main"
    subject: str | None = None
    next_url: str | None = None
    content_location: str | None = None


@dataclass(frozen=True)
class FollowUp:
    """Another document of the same source to fetch (a next page, a model card)."""

    url: str
    role: str
    subject: str | None = None


def storable(text: str) -> str:
    """Text without control or direction-override characters (tab and newlines kept): what a document or a
    person says never carries them into storage (PostgreSQL cannot even hold NUL) or onto a screen."""
    return _CONTROL.sub("", text) if _CONTROL.search(text) else text


@dataclass(frozen=True)
class Sighting:
    """One sourced claim read from a document: `fact` = `value` about the model called `name`."""

    name: str
    fact: str
    value: str
    url: str
    rank: int
    hf_repo: str | None = None
    note: str | None = None

    def __post_init__(self) -> None:
        for name in ("name", "fact", "value", "url", "hf_repo", "note"):
            text = getattr(self, name)
            if text is not None:
                object.__setattr__(self, name, storable(text))


@dataclass(frozen=True)
class Context:
    """What a reader may know besides the document: its source, today (for future dates), Hub repos already read."""

    spec: SourceSpec
    today: date
    known_repos: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Parsed:
    """A reader's answer: sightings, follow-ups, problems worth recording (warnings), items read."""

    sightings: tuple[Sighting, ...] = ()
    follow: tuple[FollowUp, ...] = ()
    problems: tuple[str, ...] = ()
    items: int = 0


class ParseError(Exception):
    """The document is not what this source expects (HTML instead of a feed, a broken CSV…)."""


Reader = Callable[[Document, Context], Parsed]


def reader_for(kind: str) -> Reader:
    """The reader of a source kind."""
    from trackers.sources import epoch, github, huggingface, rss

    readers: dict[str, Reader] = {
        "rss": rss.read,
        "github": github.read,
        "huggingface": huggingface.read,
        "epoch": epoch.read,
    }
    return readers[kind]


def start_url(spec: SourceSpec) -> str:
    """The first document of a source, from its kind-specific options."""
    from trackers.sources import epoch, github, huggingface, rss

    builders: dict[str, Callable[[Mapping[str, Any]], str]] = {
        "rss": rss.start_url,
        "github": github.start_url,
        "huggingface": huggingface.start_url,
        "epoch": epoch.start_url,
    }
    return builders[spec.kind](spec.options)
