"""A real HTTP server on 127.0.0.1 whose routes script failures, for fetch tests.

Besides status, headers and a delay, a reply can trickle its bytes (a server that
sends one byte now and then never trips a read timeout) or be sent as raw bytes,
exactly as given, for replies no well-behaved server would write. ``serve`` answers
from a fixed table of routes; ``serve_handler`` hands every request to one function,
for a site that answers from its own state (``crawl_site.py``).
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    drip: float = 0.0  # seconds between single bytes of the body
    drip_head: bool = False  # trickle the status line and headers too
    raw: bytes | None = None  # the whole response as sent; the connection then closes

    def head(self, version: str, reason: str) -> bytes:
        headers = {"Content-Type": "text/html; charset=utf-8", **self.headers,
                   "Content-Length": str(len(self.body))}
        lines = [f"{version} {self.status} {reason}", *(f"{k}: {v}" for k, v in headers.items())]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


Route = Callable[[int], Reply]  # receives how many times the path was requested before


@dataclass
class Site:
    base: str
    routes: dict[str, Route]
    hits: Counter = field(default_factory=Counter)

    def url(self, path: str) -> str:
        return self.base + path


@dataclass(frozen=True)
class Request:
    """What a handler sees of a request: the path as sent (query included) and its headers."""

    method: str
    path: str
    headers: Mapping[str, str]


Handle = Callable[[Request], Reply]


@contextmanager
def serve_handler(handle: Handle) -> Iterator[str]:
    """Serve every GET with ``handle`` on 127.0.0.1 (a free port); yields the base URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            reply = handle(Request("GET", self.path, self.headers))
            if reply.delay:
                time.sleep(reply.delay)
            if reply.raw is not None:
                head, body = reply.raw, b""
                self.close_connection = True
            else:
                reason = self.responses.get(reply.status, ("",))[0]
                head, body = reply.head(self.protocol_version, reason), reply.body
            try:
                self._send(head, reply.drip if reply.drip_head else 0.0)
                self._send(body, reply.drip)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True

        def _send(self, data: bytes, drip: float) -> None:
            if not drip:
                self.wfile.write(data)
                return
            for i in range(len(data)):
                self.wfile.write(data[i : i + 1])
                self.wfile.flush()
                time.sleep(drip)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    # a short poll, so shutting down takes a twentieth of a second, not the default half
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def serve(routes: dict[str, Route]) -> Iterator[Site]:
    site = Site("", routes)
    lock = threading.Lock()

    def handle(request: Request) -> Reply:
        with lock:
            count = site.hits[request.path]
            site.hits[request.path] += 1
        route = site.routes.get(request.path)
        return route(count) if route else Reply(404, b"not found")

    with serve_handler(handle) as base:
        site.base = base
        yield site


def always(reply: Reply) -> Route:
    return lambda _count: reply


def fail_then(failure: Reply, times: int, success: Reply) -> Route:
    return lambda count: failure if count < times else success
