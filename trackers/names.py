"""Model names: normalisation for exact matching and fuzzy suggestions (rapidfuzz). Pure."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from rapidfuzz import fuzz, process


def normalise_name(text: str) -> str:
    """Case-folded, accents and punctuation removed, '+' spelled out: 'Command R+' → 'commandrplus'."""
    decomposed = unicodedata.normalize("NFKD", text).replace("+", "plus")
    return re.sub(r"[\W_]+", "", decomposed.encode("ascii", "ignore").decode().casefold())


def suggest(query: str, names: Iterable[tuple[str, str]], limit: int = 5, cutoff: float = 60) -> list[str]:
    """Up to `limit` keys whose names best match `query`; `names` yields (key, name) pairs."""
    choices = list(names)
    matches = process.extract(
        normalise_name(query),
        [normalise_name(name) for _, name in choices],
        scorer=_blended,
        processor=None,
        limit=limit * 6,
        score_cutoff=cutoff,
    )
    ranked: list[str] = []
    for _, _, index in matches:  # already best first; keep each key's best appearance
        key = choices[index][0]
        if key not in ranked:
            ranked.append(key)
    return ranked[:limit]


def _blended(a: str, b: str, *, score_cutoff: float | None = None, **_: object) -> float:
    """WRatio finds partial matches ('opus'), QRatio prefers whole-name likeness ('gpt7' → 'gpt1')."""
    return (fuzz.WRatio(a, b) + fuzz.QRatio(a, b)) / 2
