"""`github`: a repository's releases.atom. Code releases and weights-release cues from the lab's own repo."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from trackers.feeds import cues, model_names, parse_feed
from trackers.sources import ARTEFACT, Context, Document, Parsed, Sighting

_REPO = re.compile(r"^[\w.-]+/[\w.-]+$")


def start_url(options: Mapping[str, Any]) -> str:
    """`https://github.com/OWNER/REPO/releases.atom` (or `url` when given, e.g. a mirror)."""
    if options.get("url"):
        return str(options["url"])
    repo = str(options["repo"])
    if not _REPO.match(repo):
        raise ValueError(f"repo must be OWNER/NAME (got {repo!r})")
    return f"https://github.com/{repo}/releases.atom"


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
