"""Shared test helpers: where ../shared lives, and a local HTTP server on 127.0.0.1."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.pg import fresh_database, postgres_url  # noqa: F401  (a fixture for the suite)

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("GOVWATCH_SHARED", ROOT.parent / "shared"))
REALPAGES = SHARED / "realpages"
SEEDS = SHARED / "seeds"
FIXTURES = ROOT / "tests" / "fixtures"
GOLDEN = ROOT / "tests" / "golden"

# A route answers (status, headers, body).
Route = Callable[[BaseHTTPRequestHandler], tuple[int, dict[str, str], bytes]]


class LocalServer:
    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        routes, requests = self.routes, self.requests

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                requests.append(("GET", self.path, dict(self.headers)))
                route = routes.get(self.path)
                if route is None:
                    status, headers, body = 404, {"Content-Type": "text/html"}, b"not found"
                else:
                    status, headers, body = route(self)
                try:
                    self.send_response(status)
                    for key, value in headers.items():
                        self.send_header(key, value)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up first (a timeout test): nothing to answer

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def page(
        self,
        path: str,
        body: bytes,
        status: int = 200,
        content_type: str = "text/html; charset=utf-8",
    ) -> str:
        self.routes[path] = lambda _h: (status, {"Content-Type": content_type}, body)
        return self.base + path


@pytest.fixture
def http_server() -> Iterator[LocalServer]:
    server = LocalServer()
    thread = threading.Thread(target=server.httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.httpd.shutdown()
        server.httpd.server_close()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.slow)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """One database per test, on each backend the store supports."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'govwatch.db'}"
    return fresh_database(request.getfixturevalue("postgres_url"))
