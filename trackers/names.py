"""Model names: normalisation for exact matching and fuzzy suggestions (rapidfuzz). Pure."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from rapidfuzz import fuzz, process, utils


def normalise_name(text: str) -> str:
    """Case-folded, accents and punctuation removed, '+' spelled out: 'Command R+' → 'commandrplus'."""
    decomposed = unicodedata.normalize("NFKD", text).replace("+", "plus")
    return re.sub(r"[\W_]+", "", decomposed.encode("ascii", "ignore").decode().casefold())


def suggest(query: str, names: Iterable[tuple[str, str]], limit: int = 5, cutoff: float = 55) -> list[str]:
    """Up to `limit` keys whose names best match `query`; `names` yields (key, name) pairs."""
    best: dict[str, float] = {}
    choices = list(names)
    matches = process.extract(
        query,
        [name for _, name in choices],
        scorer=fuzz.WRatio,
        processor=utils.default_process,
        limit=limit * 4,
        score_cutoff=cutoff,
    )
    for _, score, index in matches:
        key = choices[index][0]
        best[key] = max(best.get(key, 0), score)
    return [key for key, _ in sorted(best.items(), key=lambda item: -item[1])][:limit]
