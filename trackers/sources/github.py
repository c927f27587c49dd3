"""`github`: a repository's releases.atom. Code releases and weights-release cues from the lab's own repo."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import Field, field_validator, model_validator

from trackers.feeds import cues, model_names, parse_feed
from trackers.sources import ARTEFACT, Context, Document, FeedKind, HttpUrlText, Options, Parsed, Sighting


class GithubOptions(Options):
    """`repo` (OWNER/NAME) or `url` (a releases.atom elsewhere, e.g. a mirror); `model`: every release's model."""

    repo: str | None = None
    url: HttpUrlText | None = None
    model: Annotated[str, Field(min_length=1, max_length=200)] | None = None

    @field_validator("repo")
    @classmethod
    def _owner_slash_name(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[\w.-]+/[\w.-]+", value):
            raise ValueError(f"must be OWNER/NAME (got {value!r})")
        return value

    @model_validator(mode="after")
    def _repo_or_url(self) -> GithubOptions:
        if not (self.repo or self.url):
            raise ValueError("needs repo or url")
        return self


def start_url(options: GithubOptions) -> str:
    """`https://github.com/OWNER/REPO/releases.atom` (or `url` when given, e.g. a mirror)."""
    return options.url or f"https://github.com/{options.repo}/releases.atom"


def read(document: Document, context: Context) -> Parsed:
    """Each release: a `code_release` of the configured model (or the model its title names), plus cues."""
    feed = parse_feed(document, context.today)
    default = context.spec.options.get("model")
    sightings: list[Sighting] = []
    for entry in feed.entries:
        names = [str(default)] if default else model_names(entry.title)
        tag = entry.id.rsplit("/", 1)[-1] or entry.title
        date_text = entry.published.isoformat() if entry.published else "undated"
        facts = {fact: value for fact, value in cues(f"{entry.title} {entry.text}").items() if fact != "cue:access"}
        for name in names:
            sightings.append(Sighting(name, "code_release", f"{tag} ({date_text})", entry.link, ARTEFACT))
            sightings += [Sighting(name, fact, value, entry.link, ARTEFACT) for fact, value in facts.items()]
    return Parsed(sightings=tuple(sightings), problems=feed.problems, items=len(feed.entries))


KIND = FeedKind("github", GithubOptions, start_url, read)
