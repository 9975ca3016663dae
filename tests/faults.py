"""A fault-injecting HTTP server on 127.0.0.1, for the reliability tests.

Real sites fail in ways a well-behaved test server cannot show: they hang, drip bytes,
reset connections, cut bodies short, loop redirects, send hundreds of MB, mislabel their
encoding or answer with an anti-bot challenge or a "page does not exist" page with status
200. `FaultServer` answers each request on a raw socket (so it can misbehave at the byte
level) and serves a path either from its own routes or by proxying an upstream server
(the local mirror), unless a fault is switched on for that path:

    with FaultServer(upstream=site.base_url) as server:
        server.set_fault("/tzgg/202406/t20240628_3100171.html", "hang")
        ...                       # crawl server.url("/tzgg/index.html")
        server.clear()

Faults match the path without its query. Every request is logged with the Host header it
carried, so a test can prove a redirect target was never contacted. `FAULTS` lists every
kind with what it does; docs/reliability.md is checked against it.
"""

from __future__ import annotations

import http.client
import random
import re
import select
import socket
import socketserver
import struct
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http import HTTPStatus
from ipaddress import ip_address
from typing import Any
from urllib.parse import urlsplit

FAULTS: dict[str, str] = {
    "http_500": "answers 500 Internal Server Error",
    "http_502": "answers 502 Bad Gateway",
    "http_503": "answers 503 Service Unavailable with Retry-After",
    "http_429": "answers 429 Too Many Requests with Retry-After",
    "hang": "accepts the request and answers nothing until long after any timeout",
    "drip": "sends the headers, then the body one byte at a time",
    "reset": "resets the connection (TCP RST) instead of answering",
    "truncate": "closes the connection halfway through the declared Content-Length",
    "redirect_loop": "redirects A → A?loop → A …",
    "redirect_chain": "redirects to a new URL on every hop, without end",
    "redirect_offsite": "redirects to another host (localhost, same server)",
    "redirect_private": "redirects to a private address (10.0.0.1)",
    "redirect_link_local": "redirects to the cloud metadata address (169.254.169.254)",
    "huge": "sends a 512 MiB body, chunked, generated as it goes",
    "garbage": "sends binary garbage as text/html",
    "gbk_as_utf8": "declares UTF-8 (header and <meta>) and sends the page in GBK",
    "utf8_as_gbk": "declares GBK (header and <meta>) and sends the page in UTF-8",
    "ruishu": "answers a 瑞数 (Ruishu) 412 challenge",
    "jsl": "answers a 加速乐 (JSL) 521 challenge",
    "empty": "answers 200 with an empty body",
    "soft_404": "answers 200 with a 页面不存在 page in the site's chrome",
}

HUGE_BYTES = 512 * 2**20
_CHUNK = 64 * 1024
_SOFT_404_MESSAGES = ("很抱歉，您访问的页面不存在！", "页面不存在")
_META_CHARSET = re.compile(rb"""(<meta[^>]+charset\s*=\s*["']?)([A-Za-z0-9_\-]+)""", re.I)

RUISHU_PAGE = (
    b'<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8">'
    b'<meta id="9DhefwqGPrzGxEp9hPaoag" content="vpC816dOwf_iZoNcE2q8QVa" r="m">'
    b"<script type=\"text/javascript\" r='m'>$_ts=window['$_ts'];if(!$_ts)$_ts={};"
    b'$_ts.nsd=24858;$_ts.cd="qE2qrrAlqGWmcqAlxG3qrrAlDGLmcq";</script>'
    b'<script type="text/javascript" charset="utf-8" src="/4QbVtADbnLVIc/c.FxJzG50F.d2d9e0d.js"'
    b" r='m'></script></head><body></body></html>"
)
JSL_PAGE = (
    b"<html><body><script>document.cookie=('_')+('_jsl_clearance_s=1700000000.123|0|')"
    b"+('sT6yQ%2FRr1kVJ%3D')+(';max-age=3600;path=/');"
    b"location.href=location.pathname+location.search</script></body></html>"
)


def soft_404_page(message: str) -> bytes:
    """The error page a CMS serves with status 200: the site's chrome around one message."""
    return f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{message}</title>
<link rel="stylesheet" href="/css/style.css"></head>
<body>
<div class="top"><div class="wrap"><span>欢迎访问本网站</span>
<span class="links"><a href="/">首页</a> | <a href="/m/">手机版</a></span></div></div>
<div class="header"><div class="wrap"><div class="logo"><a href="/">教育局</a></div>
<form class="search" action="/search.html"><input type="text" name="q"><button>搜索</button></form></div></div>
<div class="nav"><ul class="wrap"><li><a href="/">首页</a></li><li><a href="/jggk/index.html">机构概况</a></li>
<li><a href="/zwgk/index.html">政务公开</a></li><li><a href="/tzgg/index.html">通知公告</a></li>
<li><a href="/bszn/index.html">办事指南</a></li><li><a href="/hdjl/index.html">互动交流</a></li></ul></div>
<div class="wrap main"><div class="error-box">
<img src="/images/404.png" alt="">
<h2>{message}</h2>
<p>可能原因：网址有错误，请检查地址是否完整或存在多余字符；网址已失效，可能页面已删除，活动已下线等。</p>
<p><a href="/">返回首页</a> <span id="second">5</span>秒后自动跳转</p>
</div></div>
<div class="footer"><div class="wrap"><p><a href="/wzdt.html">网站地图</a> | <a href="/lxwm.html">联系我们</a></p>
<p>主办：教育局　版权所有：教育局</p><p>网站标识码：3300000001　浙ICP备10000001号-1</p></div></div>
</body></html>
""".encode()


@dataclass(frozen=True)
class Hit:
    """One request the server received."""

    method: str
    target: str
    host: str
    fault: str | None


@dataclass(frozen=True)
class _Request:
    method: str
    target: str
    headers: dict[str, str]
    body: bytes

    @property
    def path(self) -> str:
        return urlsplit(self.target).path


_Answer = tuple[int, list[tuple[str, str]], bytes]


class FaultServer:
    """An HTTP server on 127.0.0.1 that serves routes or an upstream, or a fault per path.

    `hang` is how long a hanging request waits (it gives up early when the client hangs
    up), `drip_interval` the pause between dripped bytes, `retry_after` the Retry-After of
    429 and 503 answers.
    """

    def __init__(
        self,
        upstream: str | None = None,
        *,
        hang: float = 60.0,
        drip_interval: float = 0.05,
        retry_after: int = 1,
    ) -> None:
        self.upstream = urlsplit(upstream) if upstream else None
        self.hang = hang
        self.drip_interval = drip_interval
        self.retry_after = retry_after
        self.routes: dict[str, _Answer] = {}
        self._faults: dict[str, str] = {}
        self._hits: list[Hit] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._soft_404s = 0
        self._tcp = _TCPServer(self)
        self.port = int(self._tcp.server_address[1])
        self.base = f"http://127.0.0.1:{self.port}"
        self._thread: threading.Thread | None = None

    # --- control ------------------------------------------------------------

    def url(self, path: str) -> str:
        return self.base + path

    def route(
        self,
        path: str,
        body: bytes,
        status: int = 200,
        content_type: str = "text/html; charset=utf-8",
        headers: tuple[tuple[str, str], ...] = (),
    ) -> str:
        """Serve `body` at `path` (instead of the upstream); returns the URL."""
        self.routes[path] = (status, [("Content-Type", content_type), *headers], body)
        return self.url(path)

    def set_fault(self, path: str, kind: str) -> None:
        if kind not in FAULTS:
            raise ValueError(f"unknown fault {kind!r} (known: {', '.join(FAULTS)})")
        with self._lock:
            self._faults[urlsplit(path).path] = kind

    def clear(self, path: str | None = None) -> None:
        """Switch off the fault of `path`, or every fault."""
        with self._lock:
            if path is None:
                self._faults.clear()
            else:
                self._faults.pop(urlsplit(path).path, None)

    @property
    def hits(self) -> list[Hit]:
        with self._lock:
            return list(self._hits)

    def start(self) -> FaultServer:
        self._thread = threading.Thread(
            target=self._tcp.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._tcp.shutdown()
        self._tcp.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FaultServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- serving ------------------------------------------------------------

    def handle(self, sock: socket.socket) -> None:
        sock.settimeout(10)
        request = _read_request(sock)
        if request is None:
            return
        with self._lock:
            fault = self._faults.get(request.path)
            self._hits.append(
                Hit(request.method, request.target, request.headers.get("host", ""), fault)
            )
        try:
            if fault is None:
                _send(sock, *self._answer(request))
            else:
                getattr(self, f"_fault_{fault}")(sock, request)
        except OSError:
            pass  # the client gave up first: that is what several faults are for

    def _answer(self, request: _Request) -> _Answer:
        """What a healthy server would say: a route, else the upstream, else 404."""
        if request.path in self.routes:
            return self.routes[request.path]
        if self.upstream is None:
            return 404, [("Content-Type", "text/html; charset=utf-8")], b"<h1>404</h1>"
        conn = http.client.HTTPConnection(
            self.upstream.hostname or "", self.upstream.port, timeout=10
        )
        try:
            forward = {
                k: v
                for k, v in request.headers.items()
                if k in ("if-none-match", "if-modified-since", "content-type", "user-agent")
            }
            conn.request(request.method, request.target, request.body or None, forward)
            resp = conn.getresponse()
            body = resp.read()
            kept = ("content-type", "etag", "last-modified", "location", "retry-after")
            headers = [(k, v) for k, v in resp.getheaders() if k.lower() in kept]
            return resp.status, headers, body
        finally:
            conn.close()

    def _wait_for_hangup(self, sock: socket.socket, seconds: float) -> bool:
        """Wait up to `seconds`; True when the client closed the connection meanwhile."""
        deadline = time.monotonic() + seconds
        while not self._stopping.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            readable, _, _ = select.select([sock], [], [], min(left, 0.05))
            if readable and not sock.recv(1024):
                return True
        return True

    # --- the faults ---------------------------------------------------------

    def _status(self, sock: socket.socket, status: int, retry_after: bool = False) -> None:
        body = f"<html><body><h1>{status} {_reason(status)}</h1></body></html>".encode()
        headers = [("Content-Type", "text/html; charset=utf-8")]
        if retry_after:
            headers.append(("Retry-After", str(self.retry_after)))
        _send(sock, status, headers, body)

    def _fault_http_500(self, sock: socket.socket, _request: _Request) -> None:
        self._status(sock, 500)

    def _fault_http_502(self, sock: socket.socket, _request: _Request) -> None:
        self._status(sock, 502)

    def _fault_http_503(self, sock: socket.socket, _request: _Request) -> None:
        self._status(sock, 503, retry_after=True)

    def _fault_http_429(self, sock: socket.socket, _request: _Request) -> None:
        self._status(sock, 429, retry_after=True)

    def _fault_hang(self, sock: socket.socket, request: _Request) -> None:
        if not self._wait_for_hangup(sock, self.hang):
            _send(sock, *self._answer(request))

    def _fault_drip(self, sock: socket.socket, request: _Request) -> None:
        status, headers, body = self._answer(request)
        _send_head(sock, status, headers, len(body))
        for i in range(len(body)):
            if self._stopping.is_set():
                return
            sock.sendall(body[i : i + 1])
            time.sleep(self.drip_interval)

    def _fault_reset(self, sock: socket.socket, _request: _Request) -> None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()

    def _fault_truncate(self, sock: socket.socket, request: _Request) -> None:
        status, headers, body = self._answer(request)
        _send_head(sock, status, headers, len(body))
        sock.sendall(body[: len(body) // 2])

    def _redirect(self, sock: socket.socket, location: str) -> None:
        headers = [("Location", location), ("Content-Type", "text/html; charset=utf-8")]
        _send(sock, 302, headers, b"<html><body>Moved</body></html>")

    def _fault_redirect_loop(self, sock: socket.socket, request: _Request) -> None:
        looped = request.target != request.path
        self._redirect(sock, request.path if looped else request.path + "?loop")

    def _fault_redirect_chain(self, sock: socket.socket, request: _Request) -> None:
        hop = int(urlsplit(request.target).query.removeprefix("hop=") or 0)
        self._redirect(sock, f"{request.path}?hop={hop + 1}")

    def _fault_redirect_offsite(self, sock: socket.socket, request: _Request) -> None:
        self._redirect(sock, f"http://localhost:{self.port}{request.path}")

    def _fault_redirect_private(self, sock: socket.socket, request: _Request) -> None:
        self._redirect(sock, f"http://10.0.0.1{request.path}")

    def _fault_redirect_link_local(self, sock: socket.socket, _request: _Request) -> None:
        self._redirect(sock, "http://169.254.169.254/latest/meta-data/")

    def _fault_huge(self, sock: socket.socket, _request: _Request) -> None:
        head = [
            *_status_line(200),
            ("Content-Type", "text/html; charset=utf-8"),
            ("Transfer-Encoding", "chunked"),
            ("Connection", "close"),
        ]
        sock.sendall(_head_bytes(head))
        line = "<p>各学校要认真做好安全工作，加强值班值守，确保师生安全。</p>\n".encode()
        chunk = (line * (_CHUNK // len(line) + 1))[:_CHUNK]
        framed = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
        for _ in range(HUGE_BYTES // _CHUNK):
            if self._stopping.is_set():
                return
            sock.sendall(framed)
        sock.sendall(b"0\r\n\r\n")

    def _fault_garbage(self, sock: socket.socket, request: _Request) -> None:
        body = random.Random(request.path).randbytes(24_000)
        _send(sock, 200, [("Content-Type", "text/html; charset=utf-8")], body)

    def _relabelled(self, request: _Request, send_as: str, declare: str) -> _Answer:
        status, headers, body = self._answer(request)
        kind = next((v for k, v in headers if k.lower() == "content-type"), "")
        source = re.search(r"charset=([\w-]+)", kind)
        text = body.decode(source.group(1) if source else "utf-8")
        data = _META_CHARSET.sub(
            lambda m: m.group(1) + declare.encode(),
            text.encode(send_as, errors="xmlcharrefreplace"),
        )
        kept = [(k, v) for k, v in headers if k.lower() != "content-type"]
        return status, [("Content-Type", f"text/html; charset={declare}"), *kept], data

    def _fault_gbk_as_utf8(self, sock: socket.socket, request: _Request) -> None:
        _send(sock, *self._relabelled(request, send_as="gbk", declare="utf-8"))

    def _fault_utf8_as_gbk(self, sock: socket.socket, request: _Request) -> None:
        _send(sock, *self._relabelled(request, send_as="utf-8", declare="gbk"))

    def _fault_ruishu(self, sock: socket.socket, _request: _Request) -> None:
        headers = [
            ("Content-Type", "text/html; charset=utf-8"),
            ("Set-Cookie", "FSSBBIl1UgzbN7N80S=Xk2M0pWqL3; Path=/; HttpOnly"),
        ]
        _send(sock, 412, headers, RUISHU_PAGE)

    def _fault_jsl(self, sock: socket.socket, _request: _Request) -> None:
        headers = [
            ("Content-Type", "text/html"),
            ("Set-Cookie", "__jsluid_h=9a1b7c3e5d2f4a6b8c0d; max-age=31536000; path=/; HttpOnly"),
        ]
        _send(sock, 521, headers, JSL_PAGE)

    def _fault_empty(self, sock: socket.socket, _request: _Request) -> None:
        _send(sock, 200, [("Content-Type", "text/html; charset=utf-8")], b"")

    def _fault_soft_404(self, sock: socket.socket, _request: _Request) -> None:
        with self._lock:
            self._soft_404s += 1
            message = _SOFT_404_MESSAGES[self._soft_404s % len(_SOFT_404_MESSAGES)]
        _send(sock, 200, [("Content-Type", "text/html; charset=utf-8")], soft_404_page(message))


class _TCPServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, owner: FaultServer) -> None:
        self.owner = owner
        super().__init__(("127.0.0.1", 0), _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client hanging up mid-answer is expected here, not an error to print."""


class _Handler(socketserver.BaseRequestHandler):
    server: _TCPServer

    def handle(self) -> None:
        self.server.owner.handle(self.request)


def _read_request(sock: socket.socket) -> _Request | None:
    """One HTTP/1.1 request off the socket (request line, headers, a Content-Length body)."""
    reader = sock.makefile("rb")
    try:
        line = reader.readline(65537)
        if not line.strip():
            return None
        method, target = line.decode("latin-1").split()[:2]
        headers: dict[str, str] = {}
        while True:
            raw = reader.readline(65537)
            if raw in (b"\r\n", b"\n", b""):
                break
            key, _, value = raw.decode("latin-1").partition(":")
            headers[key.strip().lower()] = value.strip()
        length = int(headers.get("content-length") or 0)
        return _Request(method, target, headers, reader.read(length) if length else b"")
    except (OSError, ValueError):
        return None
    finally:
        reader.close()


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return {521: "Web Server Is Down"}.get(status, "Unknown")


def _status_line(status: int) -> list[tuple[str, str]]:
    return [("", f"HTTP/1.1 {status} {_reason(status)}")]


def _head_bytes(lines: list[tuple[str, str]]) -> bytes:
    text = "".join(f"{k}: {v}\r\n" if k else f"{v}\r\n" for k, v in lines) + "\r\n"
    return text.encode("latin-1")


def _send_head(
    sock: socket.socket, status: int, headers: list[tuple[str, str]], length: int
) -> None:
    lines = [*_status_line(status), *headers, ("Content-Length", str(length))]
    sock.sendall(_head_bytes([*lines, ("Connection", "close")]))


def _send(sock: socket.socket, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
    _send_head(sock, status, headers, len(body))
    sock.sendall(body)


# --- no traffic beyond this machine ---------------------------------------------------

_guard = threading.local()
_refused: list[str] = []


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if event != "socket.connect" or not getattr(_guard, "on", False):
        return
    address = args[1]
    if isinstance(address, tuple) and not ip_address(str(address[0]).split("%")[0]).is_loopback:
        _refused.append(str(address[0]))
        raise PermissionError(f"test guard: refused connection to {address[0]}")


sys.addaudithook(_audit)


@contextmanager
def loopback_only() -> Iterator[list[str]]:
    """Refuse (and list) every connection this thread tries to a non-loopback address.

    A safety net under the redirect tests: if the crawler ever followed a redirect to
    10.0.0.1 or 169.254.169.254, the connection is refused here and shows in the list.
    """
    _refused.clear()
    _guard.on = True
    try:
        yield _refused
    finally:
        _guard.on = False
