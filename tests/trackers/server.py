"""A real HTTP server on 127.0.0.1 for the tracker tests: routes of our own fixtures, faults on demand."""

from __future__ import annotations

import gzip
import struct
import threading
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def gzip_of_zeros(size: int, block: int = 1 << 20) -> bytes:
    """A gzip member of `size` zero bytes, made fast for any size: one compressed block repeated.

    After a full flush deflate starts afresh, so each block of zeros compresses to the same bytes;
    1 GiB becomes about 1 MB, and gzipping that again about 2.5 KB.
    """
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    zeros = b"\0" * block
    piece = compressor.compress(zeros) + compressor.flush(zlib.Z_FULL_FLUSH)
    crc = 0
    for _ in range(size // block):
        crc = zlib.crc32(zeros, crc)
    last = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS).flush()  # an empty final block
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    return header + piece * (size // block) + last + struct.pack("<II", crc, size & 0xFFFFFFFF)


@dataclass
class Route:
    """What one path answers."""

    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    etag: str | None = None  # answer 304 to a matching If-None-Match
    gzip: bool = False
    hang: bool = False  # never answer (until the server stops): a read timeout
    handler: Callable[[BaseHTTPRequestHandler], Route] | None = None


class LoopbackServer:
    """A threading HTTP/1.1 server; `routes` maps a path (with its query, or without) to a Route.

    GET, POST and PUT answer alike; the body of each POST or PUT is kept in `bodies` beside its request.
    """

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.bodies: list[tuple[str, dict[str, str], bytes]] = []
        self.fallback = Route(b"not found", 404)  # what a path with no route answers
        self._release = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                server.bodies.append((self.path, dict(self.headers.items()), body))
                self.do_GET()

            do_PUT = do_POST

            def do_GET(self) -> None:
                server.requests.append((self.path, dict(self.headers.items())))
                route = server.routes.get(self.path) or server.routes.get(self.path.split("?", 1)[0])
                if route is None:
                    route = server.fallback
                if route.handler is not None:
                    route = route.handler(self)
                if route.hang:
                    server._release.wait(10)
                    return
                if route.etag and self.headers.get("If-None-Match") == route.etag:
                    self.send_response(304)
                    self.send_header("ETag", route.etag)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body = gzip.compress(route.body) if route.gzip else route.body
                self.send_response(route.status)
                for name, value in route.headers.items():
                    self.send_header(name, value)
                if route.etag:
                    self.send_header("ETag", route.etag)
                if route.gzip:
                    self.send_header("Content-Encoding", "gzip")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def posted(self, path: str) -> list[bytes]:
        """The bodies sent to `path` (without its query), in order."""
        return [body for requested, _, body in self.bodies if requested.split("?", 1)[0] == path]

    def hits(self, path: str) -> int:
        return sum(1 for requested, _ in self.requests if requested.split("?", 1)[0] == path.split("?", 1)[0])

    def __enter__(self) -> LoopbackServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._release.set()
        self._server.shutdown()
        self._server.server_close()
