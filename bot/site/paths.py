"""Stable paths of the board's files (relative to its folder) and the public URL of a model's page."""

from __future__ import annotations

from urllib.parse import quote


def path_slug(slug: str) -> str:
    """A slug as one safe path segment (catalog slugs are already safe; anything else is percent-encoded)."""
    return quote(slug, safe="-._~") if slug not in {".", ".."} else quote(slug.replace(".", "%2E"), safe="")


def model_page(slug: str) -> str:
    """`models/<slug>/index.html`."""
    return f"models/{path_slug(slug)}/index.html"


def lab_page(slug: str, number: int = 1) -> str:
    """`labs/<slug>/index.html`, and `labs/<slug>/<n>/index.html` for its n-th page of models."""
    return f"labs/{path_slug(slug)}/index.html" if number == 1 else f"labs/{path_slug(slug)}/{number}/index.html"


def model_url(base_url: str, slug: str) -> str | None:
    """The published page of a model (`<base_url>models/<slug>/`), or None when no base URL is configured."""
    if not base_url:
        return None
    return f"{base_url.rstrip('/')}/models/{path_slug(slug)}/"
