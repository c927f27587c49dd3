"""`rss`: a lab's announcement feed. Names of announced models, their dates and openness cues (L0 only)."""

from __future__ import annotations

from trackers.feeds import cues, hf_repos_mentioned, model_names, parse_feed
from trackers.sources import ANNOUNCEMENT, Context, Document, FeedKind, HttpUrlText, Options, Parsed, Sighting


class RssOptions(Options):
    """`url`: the feed."""

    url: HttpUrlText


def start_url(options: RssOptions) -> str:
    """The feed URL, as configured."""
    return options.url


def read(document: Document, context: Context) -> Parsed:
    """Sightings of the models each entry announces: `announced` with its date, and any cues."""
    feed = parse_feed(document, context.today)
    sightings: list[Sighting] = []
    for entry in feed.entries:
        names = model_names(entry.title)
        if not names:
            continue
        facts = cues(f"{entry.title} {entry.text}")
        repos = hf_repos_mentioned(entry.text)
        for name in names:
            date_text = entry.published.isoformat() if entry.published else "undated"
            sightings.append(Sighting(name, "announced", date_text, entry.link, ANNOUNCEMENT, note=entry.title[:300]))
            sightings += [Sighting(name, fact, value, entry.link, ANNOUNCEMENT) for fact, value in facts.items()]
            # A linked repository is only a pointer: the Hub source must confirm the artefact.
            sightings += [Sighting(name, "hf_repo_mentioned", repo, entry.link, ANNOUNCEMENT) for repo in repos[:3]]
    return Parsed(sightings=tuple(sightings), problems=feed.problems, items=len(feed.entries))


KIND = FeedKind("rss", RssOptions, start_url, read)
