"""Event messages in words: one pure function used by the console and by Discord."""

from __future__ import annotations

from typing import Any

from trackers import events
from trackers.challenges import CHALLENGE_DECIDED

FACT_WORDS = {"released": "release date", "license": "licence", "training_code": "training code",
              "training_data": "training data"}  # fmt: skip


# What people read instead of the stored identifiers (`sunset_passed`, `weights_released`).
KIND_WORDS = {
    events.NEW_MODEL: "New model",
    events.OPENNESS_CHANGED: "Openness changed",
    events.SUNSET_APPROACHING: "Sunset approaching",
    events.SUNSET_PASSED: "Sunset passed",
    events.OPENED_AFTER_SUNSET: "Opened after its sunset",
    events.SOURCE_PAUSED: "Source paused",
    CHALLENGE_DECIDED: "Challenge decided",
}
CHANGE_WORDS = {"weights_released": "weights released", "relicensed": "relicensed", "opened": "opened",
                "access_changed": "access changed", "retired": "retired"}  # fmt: skip


def kind_words(kind: str) -> str:
    """An event kind as words: 'sunset_passed' → 'Sunset passed'."""
    return KIND_WORDS.get(kind, kind.replace("_", " ").capitalize())


def event_title(kind: str, payload: dict[str, Any]) -> str:
    """An alert's title, naming what it is about: 'Sunset passed: AlphaGo'."""
    name = payload.get("name") or payload.get("model") or payload.get("source")
    return f"{kind_words(kind)}: {name}" if name else kind_words(kind)


def event_text(kind: str, payload: dict[str, Any]) -> str:
    """One line describing an event, from its stored payload."""
    name = payload.get("name") or payload.get("model") or payload.get("source") or "?"
    window, sunset = payload.get("window"), payload.get("sunset")
    checked = f" (verified on {payload['verified_on']})" if payload.get("verified_on") else ""
    if kind == events.SUNSET_PASSED:
        return f"{name} passed its {window}-year sunset on {sunset} and is still not open{checked}."
    if kind == events.SUNSET_APPROACHING:
        lead = payload.get("lead_days")
        return f"{name} reaches its {window}-year sunset on {sunset} ({lead} days' warning){checked}."
    if kind == events.OPENED_AFTER_SUNSET:
        return f"{name} was opened ({payload.get('from')} → {payload.get('to')}) after its sunset of {sunset}."
    if kind == events.OPENNESS_CHANGED:
        change = CHANGE_WORDS.get(str(payload.get("change")), str(payload.get("change")).replace("_", " "))
        return f"{name} openness changed: {payload.get('from')} → {payload.get('to')} ({change})."
    if kind == events.NEW_MODEL:
        return f"New model tracked: {name} ({payload.get('lab', 'unknown lab')})."
    if kind == CHALLENGE_DECIDED:
        fact = FACT_WORDS.get(str(payload.get("fact")), str(payload.get("fact")))
        about = f"Your challenge #{payload.get('challenge')} to {name}'s {fact}"
        if payload.get("status") == "accepted":
            return f"{about} ({payload.get('proposed')}) was accepted: the record now says so."
        return f"{about} ({payload.get('proposed')}) was not accepted: {payload.get('reason')}"
    if kind == events.SOURCE_PAUSED:
        return f"Source {name} paused after {payload.get('failures')} consecutive failures: {payload.get('error')}"
    return f"{kind_words(kind)}: {name}"
