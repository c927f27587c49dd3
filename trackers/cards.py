"""Model cards: the YAML front matter of a Hub README, and the facts it states. Pure."""

from __future__ import annotations

import re
from typing import Any

_FRONT = re.compile(rb"\A\s*---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.DOTALL)
_ARXIV = re.compile(r"^arxiv:(\d{4}\.\d{4,5})$")


def front_matter(body: bytes) -> dict[str, Any] | None:
    """The card's metadata block: None when there is none; ValueError when it is broken or not a mapping."""
    match = _FRONT.match(body.lstrip(b"\xef\xbb\xbf"))
    if not match:
        return None
    import yaml  # here, not at the top: the settings import every kind to check options; start-up stays fast

    try:
        data = yaml.safe_load(match.group(1).decode("utf-8", errors="replace"))
    except yaml.YAMLError as error:
        first = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ValueError(f"front matter is not valid YAML ({first})") from error
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ValueError(f"front matter is not a mapping (got {type(data).__name__})")
    return data


def card_facts(card: dict[str, Any], tags: list[str]) -> list[tuple[str, str]]:
    """(fact, value) pairs from card metadata and Hub tags: licence, datasets, base model, papers, gating."""
    facts: list[tuple[str, str]] = []
    licence = _text(card.get("license"))
    if licence in (None, "other") and _text(card.get("license_name")):
        licence = _text(card.get("license_name"))
    if licence is None:
        licence = next((tag.removeprefix("license:") for tag in tags if tag.startswith("license:")), None)
    if licence:
        facts.append(("license", licence))
    for dataset in _list(card.get("datasets")):
        facts.append(("dataset", dataset))
    for base in _list(card.get("base_model")):
        facts.append(("base_model", base))
    for tag in [*tags, *_list(card.get("tags"))]:
        match = _ARXIV.match(tag)
        if match:
            facts.append(("paper", f"https://arxiv.org/abs/{match.group(1)}"))
    if any(isinstance(key, str) and key.startswith("extra_gated_") for key in card):
        facts.append(("gating_prompt", "yes"))  # the listing's `gated` decides access; this is the card's wording
    return facts


def _text(value: object) -> str | None:
    if isinstance(value, str) and value.strip():
        return value.strip()[:200]
    return None


def _list(value: object) -> list[str]:
    items = value if isinstance(value, list) else [value]
    return [item.strip()[:200] for item in items if isinstance(item, str) and item.strip()][:20]
