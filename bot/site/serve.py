"""`sunset site serve`: a local preview of a built board over HTTP (the standard library's file server)."""

from __future__ import annotations

import functools
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class _QuietHandler(SimpleHTTPRequestHandler):
    extensions_map = {  # noqa: RUF012 — the standard library's own attribute
        **SimpleHTTPRequestHandler.extensions_map,
        ".atom": "application/atom+xml",
        ".ics": "text/calendar",
        ".json": "application/json",
        ".svg": "image/svg+xml",
    }

    def log_message(self, format: str, *args: object) -> None:
        """Requests are not logged: this is a preview."""


def preview_server(folder: Path, *, host: str = "127.0.0.1", port: int = 8000) -> ThreadingHTTPServer:
    """An HTTP server for `folder` (not started: call serve_forever, then server_close)."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    return ThreadingHTTPServer((host, port), handler)
