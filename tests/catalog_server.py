"""A real HTTP server on 127.0.0.1 for the catalog scraper's tests, with fixture pages and faults.

Each route answers with a list of replies, one per request (the last one repeats). Every request
is recorded (path, headers, monotonic time), so tests can check what the scraper sent.
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import yaml


@dataclass
class Reply:
    status: int = 200
    body: bytes | str = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str | None = "text/html; charset=utf-8"
    delay: float = 0.0  # seconds before answering (a hang when longer than the read timeout)
    truncate_to: int | None = None  # announce the whole length, send only this many bytes, close
    length: bool = True  # send Content-Length (else the body ends when the connection closes)

    def data(self) -> bytes:
        return self.body.encode("utf-8") if isinstance(self.body, str) else self.body


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def do_GET(self):  # noqa: N802 - http.server's name
        server: CatalogServer = self.server.owner
        reply = server._next(self.path, dict(self.headers))
        if reply.delay:
            time.sleep(reply.delay)
        data = reply.data()
        try:
            self.send_response(reply.status)
            if reply.content_type:
                self.send_header("Content-Type", reply.content_type)
            if reply.length:
                self.send_header("Content-Length", str(len(data)))
            for k, v in reply.headers.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data if reply.truncate_to is None else data[: reply.truncate_to])
            self.wfile.flush()
        except OSError:  # the client gave up (timeout): nothing to do
            pass
        self.close_connection = True

    def log_message(self, *args):
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def handle_error(self, request, client_address):
        pass


class CatalogServer:
    """Start with `with CatalogServer() as server:`; `server.url('/path')` is the address."""

    def __init__(self):
        self.routes: dict[str, list[Reply]] = {}
        self.requests: list[dict] = []
        self._lock = threading.Lock()
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.owner = self
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self) -> "CatalogServer":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def route(self, path: str, *replies: Reply) -> None:
        with self._lock:
            self.routes[path] = list(replies)

    def hits(self, path: str) -> list[dict]:
        return [r for r in self.requests if r["path"] == path]

    def _next(self, path: str, headers: dict) -> Reply:
        with self._lock:
            self.requests.append(
                {"path": path, "headers": {k.lower(): v for k, v in headers.items()}, "at": time.monotonic()}
            )
            replies = self.routes.get(path)
            if not replies:
                return Reply(404, "không có trang này")
            return replies.pop(0) if len(replies) > 1 else replies[0]


def refused_url() -> str:
    """An address on 127.0.0.1 where nothing listens (connection refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


def card(name: str = "", provider: str = "", link: str = "", field: str = "") -> str:
    """One platform in the fixture layout (the selectors of write_sources)."""
    return (
        f'<div class="platform-card"><h3>{name}</h3><span class="provider">{provider}</span>'
        f'<a href="{link}">Xem chi tiết</a><span class="category">{field}</span></div>'
    )


def page(*cards: str, next_link: str | None = None) -> str:
    nav = f'<a class="next" href="{next_link}">Trang sau</a>' if next_link else ""
    return f"<!doctype html><html><head><meta charset='utf-8'><title>Danh mục</title></head><body>{''.join(cards)}{nav}</body></html>"


FAST_HTTP = {
    "connect_timeout": 0.5,
    "read_timeout": 0.3,
    "retries": 1,
    "backoff": 0.01,
    "max_retry_after": 5,
    "pause": 0,
    "max_bytes": 20000,
    "max_redirects": 3,
}


def write_sources(
    path,
    snapshots,
    urls: dict[str, str],
    *,
    item: str = "div.platform-card",
    fields: dict[str, str] | None = None,
    next_link: str | None = "a.next@href",
    http: dict | None = None,
    guards: dict | None = None,
    max_pages: int | None = None,
):
    """A sources file (version 1) for the fixture layout, with tiny timeouts and backoff."""
    fields = fields or {"name": "h3", "provider": ".provider", "link": "a@href", "field": ".category"}
    catalogs = {}
    for key, url in urls.items():
        entry = {"title": f"Danh mục {key}", "url": url, "item": item, "fields": fields}
        if next_link:
            entry["next"] = next_link
        if max_pages:
            entry["max_pages"] = max_pages
        catalogs[key] = entry
    data = {
        "version": 1,
        "snapshots": str(snapshots),
        "http": {**FAST_HTTP, **(http or {})},
        "guards": guards or {"max_pages": 10, "min_items": 1, "min_items_ratio": 0.5},
        "catalogs": catalogs,
    }
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path
