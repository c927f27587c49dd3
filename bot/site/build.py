"""A build of the board: read the record (one step), render (pure), write what changed."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlmodel import Session

from bot.site.board import load_board
from bot.site.render import render_board
from bot.site.write import WriteReport, write_site
from trackers.sunset import Policy

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BuildReport:
    """A build's outcome: how many models and files, what was written, and how long it took."""

    models: int
    files: int
    write: WriteReport
    seconds: float


def build_site(session: Session, folder: Path, *, policy: Policy, on: date, base_url: str = "") -> BuildReport:
    """Build the whole board into `folder` from the database, as of `on` under `policy`."""
    started = time.perf_counter()
    board = load_board(session, policy, on)
    files = render_board(board, base_url=base_url)
    written = write_site(files, folder)
    report = BuildReport(len(board.results), len(files), written, time.perf_counter() - started)
    log.info(
        "site folder=%s models=%d files=%d written=%d removed=%d seconds=%.2f",
        folder,
        report.models,
        report.files,
        written.written,
        written.removed,
        report.seconds,
    )
    return report
