"""Sources: one small module per kind, discovered here; each declares its `KIND` and nothing else lists kinds.

A kind is either fetched (`FeedKind`: a start URL from its options and a pure `read(document, context)
-> Parsed`) or local (`LocalKind`: read on this machine and applied whole, as the catalog is). Every
kind has a pydantic model of its own `[[sources]]` keys, which the settings check at start-up.

The HTTP layer (`trackers.http`) fetches; a reader only turns one document into sightings (sourced
claims about models) and, where a source spans several documents (the Hub's pages and model cards),
names the follow-up documents to fetch. Readers are pure: bytes in, records out.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from types import MappingProxyType
from typing import TYPE_CHECKING, Annotated, Any, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from sqlmodel import Session

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


def _http_url(value: str) -> str:
    if not re.fullmatch(r"https?://[^\s/]+\S*", value):
        raise ValueError(f"must be an http(s) URL (got {value!r})")
    return value


HttpUrlText = Annotated[str, Field(max_length=1000), AfterValidator(_http_url)]
"""An option naming a document to fetch: an absolute http(s) URL."""


class Options(BaseModel):
    """A kind's own keys in a `[[sources]]` entry: strictly typed, any other key refused."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


_O = TypeVar("_O", bound=Options)


@dataclass(frozen=True)
class FeedKind(Generic[_O]):
    """A kind fetched over HTTP: its first document's URL from its options, and the reader of its documents.

    `hub_token`: its requests (to its own host only) carry the configured Hugging Face token.
    `known_repos`: its reader is told which Hub repositories are already known (to skip their cards).
    """

    name: str
    options: type[_O]
    start_url: Callable[[_O], str]
    read: Reader
    hub_token: bool = False
    known_repos: bool = False

    def location(self, spec: SourceSpec) -> str:
        """Where the source is read from: its start URL (ValueError when its options are invalid)."""
        return self.start_url(self.options.model_validate(spec.options))


@dataclass(frozen=True)
class Applied:
    """What a local source's apply step changed: `changed` documents (files) loaded, `items` they hold."""

    changed: int
    items: int


@dataclass(frozen=True)
class LocalKind(Generic[_O]):
    """A kind read on this machine and applied whole, in a transaction of its own (the catalog).

    `apply(session, spec)` writes what changed without committing and raises ParseError, before writing
    anything of the faulty document, when one is malformed (the caller rolls back and records the error).
    """

    name: str
    options: type[_O]
    folder: Callable[[_O], str]
    apply: Callable[[Session, SourceSpec], Applied]

    def location(self, spec: SourceSpec) -> str:
        """Where the source is read from: its folder (ValueError when its options are invalid)."""
        return self.folder(self.options.model_validate(spec.options))


SourceKind = FeedKind[Any] | LocalKind[Any]


@cache
def kinds() -> Mapping[str, SourceKind]:
    """Every source kind by name, discovered: each module of this package that declares a `KIND`."""
    found: dict[str, SourceKind] = {}
    for module_info in sorted(pkgutil.iter_modules(__path__), key=lambda item: item.name):
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        kind = getattr(module, "KIND", None)
        if isinstance(kind, FeedKind | LocalKind):
            found[kind.name] = kind
    return MappingProxyType(found)


def source_kind(name: str) -> SourceKind:
    """The kind called `name` (KeyError when there is none)."""
    return kinds()[name]
