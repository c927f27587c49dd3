"""A build of the board: read the record (one step), render (pure), write what changed."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlmodel import Session

from bot.site.board import load_board
from bot.site.render import RenderCache, render_board
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


def build_site(
    session: Session,
    folder: Path,
    *,
    policy: Policy,
    on: date,
    base_url: str = "",
    cache: RenderCache | None = None,
) -> BuildReport:
    """Build the board into `folder` from the database, as of `on` under `policy`.

    With a `cache` from an earlier build in this process, unchanged models and labs are neither rendered nor
    compared with the files on disk again: a rebuild after one change costs the reading and that model's pages.
    """
    started = time.perf_counter()
    board = load_board(session, policy, on)
    files = render_board(board, base_url=base_url, cache=cache)
    try:
        written = write_site(files, folder, known=cache.reused if cache else ())
    except BaseException:
        if cache is not None:  # what it remembers may not be on disk: the next build starts afresh
            cache.models.clear()
            cache.labs.clear()
        raise
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


class SiteBuilder:
    """The board of a long-running process (`sunset run`): each build re-renders only what changed since the last."""

    def __init__(self, folder: Path, *, base_url: str = "") -> None:
        self.folder = folder
        self.base_url = base_url
        self._cache = RenderCache()
        self._lock = threading.Lock()  # the daily evaluation and a tracking cycle may finish at the same time

    def build(self, session: Session, *, policy: Policy, on: date) -> BuildReport:
        """Rebuild the board; models and labs unchanged since the previous build keep their files."""
        with self._lock:
            return build_site(session, self.folder, policy=policy, on=on, base_url=self.base_url, cache=self._cache)
