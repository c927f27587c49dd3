"""`sunset status` as people read it: the card as a two-column table, then its sources. Rich only, so that
the quick path (`bot.cli.quick`) and the full command print the very same thing."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from bot.present.assessment import STATUS_WORDS, Card
from trackers.sunset import Status


def print_status(card: Card, out: Console) -> None:
    """Print one model's card."""
    openness = card.openness
    table = Table(title=f"{card.name} — {card.lab}", show_header=False)
    table.add_column(style="bold")
    table.add_column()
    licence = openness.licence or "none recorded"
    precision = card.release_precision.value if card.release_precision else "—"
    sunset = card.sunset_date.isoformat() if card.sunset_date else "unknown"
    rows = [
        ("First release", f"{card.first_release or 'unknown'} ({precision} precision)"),
        ("Level", f"{card.level.value} {card.level_label}"),
        ("Access", openness.access.value),
        ("Weights released", openness.weights_release_date.isoformat() if openness.weights_release_date else "—"),
        ("Licence", f"{licence} (tier {openness.licence_tier.value})"),
        ("Training code", openness.training_code),
        ("Training data", openness.training_data),
        ("Checkpoints", {True: "yes", False: "no", None: "unknown"}[openness.checkpoints]),
        ("Paper", openness.paper or "—"),
        ("Sunset", f"{sunset} ({card.window_years}-year window, {card.profile.value} profile)"),
        ("Status", STATUS_WORDS[Status.OPEN] if card.status is Status.OPEN and card.released else card.status_text),
        ("Verified", f"on {card.verified.on.isoformat()}" if card.verified else "not yet"),
    ]
    if card.notability:
        rows.append(("Notable (Epoch AI)", ", ".join(card.notability)))
    if card.aliases:
        rows.insert(0, ("Also known as", ", ".join(card.aliases[:8])))
    for label, value in rows:
        table.add_row(label, str(value))
    out.print(table)
    for url in card.sources:
        out.print(f"  source: {url}", soft_wrap=True)
