"""Challenges: anyone may dispute one fact of a model with a proposed value and a source URL.

A challenge waits in the review queue beside the fact it disputes. A moderator accepts it — the model's
catalog file is edited like any edit (the fact replaced, or a dated change added), the challenge kept
in the entry as evidence, and the file loaded again — or rejects it with a reason. Either way the
outcome becomes an event delivered to the reporter through the outbox, when they can be told.
"""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import tomlkit
from pydantic import HttpUrl, TypeAdapter, ValidationError
from sqlmodel import Session

from db.models import Challenge, Model
from trackers.catalog import ORIGIN as CATALOG
from trackers.catalog import CatalogError
from trackers.catalog.schema import CatalogFile
from trackers.catalog.sync import sync_catalog
from trackers.records import Access, PartialDate, TrainingCode, TrainingData
from trackers.sources import storable
from trackers.store import challenges as store
from trackers.store.models import resolve_name

FACTS = ("released", "access", "license", "training_code", "training_data", "checkpoints")
PER_REPORTER_PER_DAY = 5
CHALLENGE_DECIDED = "challenge_decided"
_URL = TypeAdapter(HttpUrl)
_CHOICES: dict[str, tuple[str, ...]] = {
    "access": tuple(access.value for access in Access),
    "training_code": tuple(code.value for code in TrainingCode),
    "training_data": tuple(data.value for data in TrainingData),
    "checkpoints": ("true", "false"),
}


class ChallengeError(Exception):
    """A challenge that cannot be made or decided; the message says why, for the person who tried."""


@dataclass(frozen=True)
class Pending:
    """An open challenge beside the fact it disputes: the record's current claims and their sources."""

    challenge: Challenge
    slug: str
    name: str
    current: tuple[tuple[str, str], ...]  # (value, url) of the catalog's claims for that fact


def submit(
    session: Session,
    *,
    name: str,
    fact: str,
    value: str,
    source: str,
    reporter: str,
    now: datetime,
    note: str | None = None,
    notify: str | None = None,
) -> Challenge:
    """Queue a challenge (validated, bounded, at most five a day per reporter); the caller commits."""
    resolution = resolve_name(session, name)
    if resolution.slug is None:
        hint = f" Did you mean: {', '.join(resolution.suggestions)}?" if resolution.suggestions else ""
        raise ChallengeError(f"No model called {_plain(name, 80)!r}.{hint}")
    model = store.visible_model(session, slug=resolution.slug)
    if model is None or model.id is None:
        raise ChallengeError(f"No model called {_plain(name, 80)!r}.")
    recent = store.sent_since(session, reporter=reporter, since=now - timedelta(days=1))
    if recent >= PER_REPORTER_PER_DAY:
        raise ChallengeError(f"You sent {recent} challenges in the last 24 hours; please wait before sending more.")
    challenge = Challenge(
        model_id=model.id,
        fact=fact,
        proposed=proposed_value(fact, value, now.date()),
        source_url=checked_url(source),
        note=_plain(note, 500) or None if note else None,
        reporter=reporter,
        notify=notify,
        created_at=now,
    )
    return store.add(session, challenge=challenge)


def proposed_value(fact: str, value: str, today: date) -> str:
    """The proposed value in the catalog's terms, or ChallengeError saying what the fact accepts."""
    if fact not in FACTS:
        raise ChallengeError(f"A challenge is about one of: {', '.join(FACTS)} (got {_plain(fact, 40)!r}).")
    text = _plain(value, 200)
    if not text:
        raise ChallengeError("The proposed value is empty.")
    if fact == "released":
        try:
            release = PartialDate.parse(text)
        except ValueError:
            raise ChallengeError("A release date is YYYY, YYYY-MM or YYYY-MM-DD.") from None
        if release.earliest > today:
            raise ChallengeError("A release date cannot be in the future.")
        return str(release)
    choices = _CHOICES.get(fact)
    if choices is not None:
        normalised = {"yes": "true", "no": "false"}.get(text.casefold(), text.casefold())
        if normalised not in choices:
            raise ChallengeError(f"{fact} is one of: {', '.join(choices)} (got {text!r}).")
        return normalised
    return text


def checked_url(source: str) -> str:
    """An absolute http(s) URL of at most 1,000 characters, or ChallengeError."""
    text = source.strip()
    try:
        url = _URL.validate_python(text)
    except ValidationError:
        raise ChallengeError("The source must be a full http(s) URL.") from None
    if len(text) > 1000 or url.scheme not in ("http", "https"):
        raise ChallengeError("The source must be an http(s) URL of at most 1,000 characters.")
    return text


def pending(session: Session) -> list[Pending]:
    """Open challenges, oldest first, each with the catalog's current claims for the disputed fact."""
    rows = store.open_challenges(session)
    claims = store.credible_claims(
        session,
        model_ids={model.id for _, model in rows if model.id is not None},
        facts={challenge.fact for challenge, _ in rows},
    )
    return [
        Pending(challenge, model.slug, model.name, tuple(claims.get((model.id or 0, challenge.fact), ())))
        for challenge, model in rows
    ]


def reject(session: Session, challenge_id: int, *, moderator: str, reason: str, now: datetime) -> Challenge:
    """Reject an open challenge with a reason (told to the reporter); the caller commits."""
    challenge, model = _open(session, challenge_id)
    if not _plain(reason, 500):
        raise ChallengeError("A rejection needs a reason: the reporter is told it.")
    _decide(session, challenge, model, "rejected", _plain(reason, 500), moderator, now)
    return challenge


def accept(
    session: Session,
    challenge_id: int,
    *,
    moderator: str,
    now: datetime,
    catalog_dirs: Iterable[Path],
    since: date | None = None,
) -> Challenge:
    """Apply an open challenge to the model's catalog file — the fact at release replaced, or (with `since`)
    a change dated `since` — with the challenge kept as evidence; load the file again; tell the reporter."""
    challenge, model = _open(session, challenge_id)
    lab = store.lab_slug(session, lab_id=model.lab_id)
    path = next((d / f"{lab}.toml" for d in catalog_dirs if lab and (d / f"{lab}.toml").exists()), None)
    if path is None or model.origin != CATALOG:
        raise ChallengeError(f"{model.name} is not in a catalog file here; correct it by hand.")
    if since is not None and challenge.fact == "released":
        raise ChallengeError("A release date is corrected in place; it has no dated change.")
    text = edit_entry(path.read_text(encoding="utf-8"), model.slug, challenge, moderator, now.date(), since)
    temporary = path.with_name(f".{path.name}.challenge")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)  # the file is whole before and after: never half-written
    how = f"applied as a change dated {since}" if since else "the fact at release corrected"
    _decide(session, challenge, model, "accepted", how, moderator, now)
    sync_catalog(session, [path])
    session.commit()  # the decision with the file's new facts
    return challenge


def edit_entry(text: str, slug: str, challenge: Challenge, moderator: str, today: date, since: date | None) -> str:
    """The lab file's text with the challenge applied to model `slug` (comments and layout kept)."""
    document = tomlkit.parse(text)
    entry = next((item for item in document.get("models", []) if item.get("slug") == slug), None)
    if entry is None:
        raise ChallengeError(f"{slug} is not in that catalog file.")
    fact, value, url = challenge.fact, challenge.proposed, challenge.source_url
    old = entry.get(fact)
    was = f"said {_fact_text(fact, old)}" if old is not None else "had no value"
    if since is None:
        entry[fact] = _fact_table(fact, value, url)
    else:
        change = tomlkit.table()
        change.update({"date": since.isoformat(), "kind": _change_kind(fact, value), "source": url})
        if fact == "license":
            change[fact] = tomlkit.parse(f"x = {{ raw = {json.dumps(value)} }}")["x"]
        else:
            change[fact] = value == "true" if fact == "checkpoints" else value
        _append(entry, "changes", change)
    evidence = tomlkit.table()
    evidence.update(
        {
            "fact": fact,
            "value": value,
            "source": url,
            "note": _plain(f"Challenge #{challenge.id}, accepted {today} by {moderator}; the record {was}.", 500),
        }
    )
    _append(entry, "evidence", evidence)
    result = tomlkit.dumps(document)
    try:
        CatalogFile.model_validate(tomllib.loads(result))
    except (tomllib.TOMLDecodeError, ValidationError) as error:
        raise CatalogError(f"the edited entry would not be valid: {error}") from error
    return result


def _append(entry: Any, key: str, table: Any) -> None:
    """Append a table to the entry's array of tables, a blank line on each side as in the hand-written files."""
    if key not in entry:
        entry.add(tomlkit.nl())
        entry[key] = tomlkit.aot()
    table.add(tomlkit.nl())
    entry[key].append(table)


def _fact_table(fact: str, value: str, url: str) -> Any:
    """`{ date|raw|value = …, source = … }`, spaced like the hand-written entries."""
    key = {"released": "date", "license": "raw"}.get(fact, "value")
    shown = value if fact == "checkpoints" else json.dumps(value)  # a JSON string is a valid TOML basic string
    return tomlkit.parse(f"x = {{ {key} = {shown}, source = {json.dumps(url)} }}")["x"]


def _fact_text(fact: str, old: Any) -> str:
    key = {"released": "date", "license": "raw"}.get(fact, "value")
    return f"{old.get(key)!s} ({old.get('source')})" if hasattr(old, "get") else str(old)


def _change_kind(fact: str, value: str) -> str:
    if fact == "license":
        return "relicensed"
    if fact == "access":
        return "weights_released" if Access(value).weights_available else "access_changed"
    return "opened"


def _open(session: Session, challenge_id: int) -> tuple[Challenge, Model]:
    challenge, model = store.challenge_with_model(session, challenge_id=challenge_id)
    if challenge is None:
        raise ChallengeError(f"No challenge #{challenge_id}.")
    if challenge.status != "open":
        raise ChallengeError(f"Challenge #{challenge_id} was already {challenge.status}.")
    assert model is not None  # the foreign key cascades
    return challenge, model


def _decide(
    session: Session, challenge: Challenge, model: Model, status: str, reason: str, moderator: str, now: datetime
) -> None:
    payload = {
        "challenge": challenge.id,
        "model": model.slug,
        "name": model.name,
        "lab": store.lab_slug(session, lab_id=model.lab_id),
        "fact": challenge.fact,
        "proposed": challenge.proposed,
        "url": challenge.source_url,
        "status": status,
        "reason": reason,
    }
    store.record_decision(
        session,
        challenge=challenge,
        model_id=model.id or 0,
        kind=CHALLENGE_DECIDED,
        status=status,
        reason=reason,
        moderator=moderator,
        payload=payload,
        now=now,
    )


def _plain(text: str | None, limit: int) -> str:
    """Text from a person: no control or direction-override characters, trimmed, at most `limit` characters."""
    return storable(text or "").strip()[:limit]
