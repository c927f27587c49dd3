"""Model names: normalisation for exact matching and fuzzy suggestions (rapidfuzz). Pure."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable


def normalise_name(text: str) -> str:
    """Case-folded, accents and punctuation removed, '+' spelled out: 'Command R+' → 'commandrplus'."""
    decomposed = unicodedata.normalize("NFKD", text).replace("+", "plus")
    return re.sub(r"[\W_]+", "", decomposed.encode("ascii", "ignore").decode().casefold())


def suggest(query: str, names: Iterable[tuple[str, str]], limit: int = 5, cutoff: float = 60) -> list[str]:
    """Up to `limit` keys whose names best match `query`; `names` yields (key, name) pairs."""
    from rapidfuzz import process  # imported when suggesting: an exact lookup (the quick `status`) never needs it

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
    from rapidfuzz import fuzz

    return (fuzz.WRatio(a, b) + fuzz.QRatio(a, b)) / 2


def family_first(query: str, members: Iterable[tuple[str, Iterable[str], str]], limit: int = 5) -> list[str]:
    """Keys of the models a query names as a family prefix ('llama 4', 'stable diffusion'), newest line first.

    `members` yields (key, names, release) with `release` sortable as text (ISO dates). A model belongs
    to the family when one of its names starts with the query (normalised). Its *line* is what follows
    the query up to the first version number or word ('stablediffusion' + 'v15' → '1', + 'xl10' → 'xl'),
    so the newest model of each line comes first (Stable Diffusion 3.5, SDXL 1.0, 2.1, 1.5), then the
    rest, newest first: the versions people mean, rather than the oldest sub-releases.
    """
    prefix = normalise_name(query)
    if not prefix:
        return []
    lines: dict[str, str] = {}
    releases: dict[str, str] = {}
    for key, names, release in members:
        rests = [name[len(prefix) :] for name in map(normalise_name, names) if name.startswith(prefix)]
        if rests and key not in lines:
            match = _LINE.match(min(rests, key=len))
            lines[key], releases[key] = (match.group(1) if match else ""), release or ""
    newest = sorted(lines, key=lambda key: (releases[key], key), reverse=True)
    heads: dict[str, str] = {}
    for key in newest:
        heads.setdefault(lines[key], key)
    ranked = list(heads.values()) + [key for key in newest if key not in heads.values()]
    return ranked[:limit]


_LINE = re.compile(r"v?(\d|[a-z]+)")
