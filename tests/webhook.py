"""A local JSON webhook receiver on 127.0.0.x for Apprise's json:// posts.

A message counts as received once the receiver has answered it 200: one it failed on
purpose (`fail_next`), or one whose sender died before the answer (`hold_next`), is not.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any


class Webhook:
    def __init__(self, host: str = "127.0.0.7") -> None:
        self.received: list[dict[str, Any]] = []
        self.paths: list[str] = []
        self.fail_next = 0
        self.hold_next = 0
        self.held = threading.Event()
        """Set when a held request arrived (its sender is waiting for an answer)."""
        self._release = threading.Event()
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer((host, 0), self._handler())
        self.server.daemon_threads = True
        self.host, self.port = host, int(self.server.server_address[1])
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str = "hook") -> str:
        return f"json://{self.host}:{self.port}/{path}"

    def titles(self) -> list[str]:
        with self._lock:
            return [m["title"] for m in self.received]

    def release(self) -> None:
        """Let held requests go, unanswered (their senders are gone by then)."""
        self._release.set()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                with hook._lock:
                    fail = hook.fail_next > 0
                    hold = not fail and hook.hold_next > 0
                    if fail:
                        hook.fail_next -= 1
                    elif hold:
                        hook.hold_next -= 1
                if hold:
                    hook.held.set()
                    hook._release.wait(60)
                    return
                if fail:
                    self.send_response(500)
                    self.end_headers()
                    return
                with hook._lock:
                    hook.received.append(json.loads(body))
                    hook.paths.append(self.path)
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler

    def __enter__(self) -> Webhook:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._release.set()
        self.server.shutdown()
        self.server.server_close()
