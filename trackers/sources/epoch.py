"""`epoch`: Epoch AI's notable-models CSV (CC-BY 4.0) — release dates and accessibility, as a cross-check."""

from __future__ import annotations

import csv
import io

from trackers.records import PartialDate
from trackers.sources import DATASET, Context, Document, FeedKind, HttpUrlText, Options, Parsed, ParseError, Sighting

DEFAULT_URL = "https://epoch.ai/data/notable_ai_models.csv"
ATTRIBUTION = "Epoch AI, 'Notable AI Models', CC-BY 4.0 (https://epoch.ai/data/notable-ai-models)"
REQUIRED = ("Model", "Publication date")


class EpochOptions(Options):
    """`url`: the CSV (Epoch AI's published one unless given)."""

    url: HttpUrlText = DEFAULT_URL


def start_url(options: EpochOptions) -> str:
    """The CSV's URL (Epoch's published one unless configured)."""
    return options.url


def access_of(accessibility: str) -> str | None:
    """Epoch's 'Model accessibility' in our access words (None when it says nothing we can use)."""
    text = accessibility.lower()
    for phrase, access in (
        ("open weights", "download"),
        ("api", "api"),
        ("hosted", "hosted"),
        ("unreleased", "unreleased"),
    ):
        if phrase in text:
            return access
    return None


def read(document: Document, context: Context) -> Parsed:
    """One `released` (and `access`) sighting per row, attributed to Epoch AI."""
    try:
        text = document.body.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ParseError(f"Epoch CSV is not UTF-8: {error}") from error
    try:
        return _rows(csv.DictReader(io.StringIO(text)), document.url, context)
    except csv.Error as error:  # a field over the csv module's limit, a stray quote in strict places…
        raise ParseError(f"Epoch CSV is malformed: {error}") from error


def _rows(rows: csv.DictReader[str], url_of_file: str, context: Context) -> Parsed:
    missing = [column for column in REQUIRED if column not in (rows.fieldnames or [])]
    if missing:
        raise ParseError(f"not the Epoch CSV: missing column(s) {', '.join(missing)}")
    sightings: list[Sighting] = []
    bad_dates = count = 0
    for row in rows:
        name = (row.get("Model") or "").strip()
        if not name:
            continue
        count += 1
        url = (row.get("Link") or "").strip() or url_of_file
        released = (row.get("Publication date") or "").strip()[:10]
        try:
            if released and PartialDate.parse(released).earliest <= context.today:
                sightings.append(Sighting(name, "released", released, url, DATASET, note=ATTRIBUTION))
            elif released:
                bad_dates += 1
        except ValueError:
            bad_dates += 1
        access = access_of(row.get("Model accessibility") or "")
        if access:
            sightings.append(Sighting(name, "access", access, url, DATASET, note=ATTRIBUTION))
    problems = (f"{bad_dates} rows with an unreadable or future date",) if bad_dates else ()
    return Parsed(sightings=tuple(sightings), problems=problems, items=count)


KIND = FeedKind("epoch", EpochOptions, start_url, read)
