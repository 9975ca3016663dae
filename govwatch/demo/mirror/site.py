"""One mirrored site: its notices, its HTTP server on a loopback address, its log.

HTTP is done as a careful static web server does it, because the crawler's economy
depends on it: every 200 carries Content-Type with a charset, Content-Length, an ETag
(a hash of the body) and Last-Modified; If-None-Match (which wins when present) and
If-Modified-Since get a 304 when the page is unchanged. Last-Modified is a notice's
publication time until its page changes, then the time the change was first served
(at least a second later, so a client's If-Modified-Since can tell them apart). Pages
with a live view counter are dynamic: their bytes differ on every view, they are never
answered with 304, and so they show a crawler why it must compare cleaned text, not
bytes. Every request is logged (method, path, status, body bytes sent).

Given a server-side `ssl.SSLContext` (`tls=`), a site is served over https only, as the
Taizhou jpaas sites are; each connection's handshake runs in its own handler thread, so a
client that stalls or rejects the certificate holds up no other.
"""

from __future__ import annotations

import hashlib
import ssl
import threading
import time
from collections.abc import Iterable
from email.utils import formatdate, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from govwatch.demo.mirror.flows import Flow, SiteIdent, get_flow
from govwatch.demo.mirror.model import LogEntry, MirrorNotice, Reply, Request, SiteStats

_NOT_FOUND = (
    b"<html><head><title>404 Not Found</title></head><body><h1>404 Not Found</h1></body></html>"
)
Response = tuple[int, list[tuple[str, str]], bytes]


def _etag_matches(header: str, etag: str) -> bool:
    tags = [t.strip() for t in header.split(",")]
    bare = etag.removeprefix("W/")
    return any(t == "*" or t.removeprefix("W/") == bare for t in tags)


def _not_modified_since(header: str, modified: int) -> bool:
    try:
        since = parsedate_to_datetime(header)
    except (TypeError, ValueError, IndexError):
        return False
    return since.tzinfo is not None and modified <= since.timestamp()


class MirrorSite:
    """A government site of one CMS flow, served on its own loopback host.

    `notices` is newest first, as the listing shows them; tests may change a notice in
    place or use `edit` / `add` / `remove`, and the next request reflects it. The site
    binds `host` (127.0.0.2 unless a `Mirror` assigns another) on `listen_port`, or a
    port the OS picks, when started. `column_path` (e.g. "/xxgk/fdzdgknr/tzgg") puts the
    column under a path of the site's choosing, for flows whose CMS lets a site do so;
    `tls` serves the site over https with that server context (its certificate must name
    `host`).
    """

    def __init__(
        self,
        name: str,
        flow: str,
        notices: Iterable[MirrorNotice] = (),
        page_size: int = 15,
        *,
        view_counter: bool = False,
        agency: str | None = None,
        column: str = "通知公告",
        host: str = "127.0.0.2",
        number: int = 0,
        listen_port: int = 0,
        column_path: str | None = None,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        self.name = name
        self.flow: Flow = get_flow(flow)
        if column_path is not None:
            if not self.flow.column_paths:
                raise ValueError(f"flow {flow!r} has no column_path: its CMS fixes the path")
            if not column_path.startswith("/") or "?" in column_path or "#" in column_path:
                raise ValueError(f"column_path must be a path like /xxgk/tzgg: {column_path!r}")
            column_path = column_path.rstrip("/")
        self.column_path = column_path or None
        self.tls = tls
        self.notices: list[MirrorNotice] = list(notices)
        self.page_size = page_size
        self.view_counter = view_counter
        self.ident = SiteIdent.for_site(name, agency, column)
        self.host = host
        self.number = number
        self.listen_port = listen_port
        self.started_at = int(time.time())
        self._lock = threading.RLock()
        self._views: dict[str, int] = {}
        self._validators: dict[str, tuple[str, int]] = {}
        self._log: list[LogEntry] = []
        self.serial = len(self.notices)  # the last serial an id was made from
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        where = self.base_url if self._server else f"{self.host} (stopped)"
        return f"MirrorSite({self.name!r}, {self.flow.name}, {len(self.notices)} notices, {where})"

    # --- addresses ----------------------------------------------------------

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError(f"site {self.name!r} is not started")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        scheme = "https" if self.tls is not None else "http"
        return f"{scheme}://{self.host}:{self.port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    @property
    def entry_url(self) -> str:
        """The listing's first page: what a seed's listing_urls names."""
        return self.url(self.flow.entry_path(self))

    def notice_url(self, notice_id: str) -> str:
        return self.url(self.flow.detail_path(self, self.notice(notice_id)))

    @property
    def parser(self) -> str:
        """The project parser meant for this flow's pages."""
        return self.flow.parser

    # --- the notices --------------------------------------------------------

    def notice(self, notice_id: str) -> MirrorNotice:
        with self._lock:
            for notice in self.notices:
                if notice.id == notice_id:
                    return notice
        raise KeyError(f"site {self.name!r} has no notice {notice_id!r}")

    def edit(self, notice_id: str, new_paragraphs: Iterable[str]) -> MirrorNotice:
        """Revise a notice's text; its page (and ETag, Last-Modified) change."""
        with self._lock:
            notice = self.notice(notice_id)
            notice.paragraphs = list(new_paragraphs)
            return notice

    def add(self, notice: MirrorNotice) -> None:
        """Publish a notice: it appears at the top of the listing."""
        with self._lock:
            if any(n.id == notice.id for n in self.notices):
                raise ValueError(f"site {self.name!r} already has a notice {notice.id!r}")
            self.notices.insert(0, notice)

    def remove(self, notice_id: str) -> MirrorNotice:
        """Withdraw a notice: it leaves the listing and its URL answers 404."""
        with self._lock:
            notice = self.notice(notice_id)
            self.notices.remove(notice)
            self._views.pop(notice_id, None)
            return notice

    def make_notice(
        self,
        title: str,
        paragraphs: Iterable[str],
        date: str | None = None,
        *,
        meta: dict[str, str] | None = None,
        attachments: Iterable[tuple[str, str]] = (),
    ) -> MirrorNotice:
        """A new notice with an id of this CMS's shape (not yet added: see `add`)."""
        with self._lock:
            self.serial += 1
            serial = self.serial
        date = date or time.strftime("%Y-%m-%d")
        default_meta = {
            "publisher": self.ident.agency,
            "published_date": date,
            "source": self.ident.agency,
        }
        return MirrorNotice(
            id=self.flow.make_id(self, serial, date),
            title=title,
            date=date,
            paragraphs=list(paragraphs),
            meta=meta if meta is not None else default_meta,
            attachments=list(attachments),
        )

    def count_view(self, notice_id: str) -> int:
        with self._lock:
            self._views[notice_id] = self._views.get(notice_id, 0) + 1
            return self._views[notice_id]

    # --- HTTP semantics -----------------------------------------------------

    def respond(self, req: Request) -> Response:
        """The full answer to one request: status, headers, body (empty for 304/HEAD)."""
        try:
            with self._lock:
                reply = self.flow.route(self, req)
        except Exception as exc:  # a flow bug must show as a 500, not a hung client
            body = f"<html><body><h1>500</h1><pre>{type(exc).__name__}: {exc}</pre></body></html>"
            reply = Reply(500, "text/html; charset=utf-8", body.encode())
        if reply is None:
            reply = Reply(404, "text/html; charset=utf-8", _NOT_FOUND)
        headers = [("Content-Type", reply.content_type), *reply.headers]
        if reply.status != 200:
            headers.append(("Content-Length", str(len(reply.body))))
            return reply.status, headers, b"" if req.method == "HEAD" else reply.body
        etag = '"' + hashlib.sha1(reply.body, usedforsecurity=False).hexdigest()[:20] + '"'
        modified = self._last_modified(req.target, etag, reply)
        validators = [("ETag", etag), ("Last-Modified", formatdate(modified, usegmt=True))]
        if not reply.dynamic and req.method in ("GET", "HEAD"):
            match = req.header("if-none-match")
            since = req.header("if-modified-since")
            if (match is not None and _etag_matches(match, etag)) or (
                match is None and since is not None and _not_modified_since(since, modified)
            ):
                return 304, validators, b""
        headers += [*validators, ("Content-Length", str(len(reply.body)))]
        return 200, headers, b"" if req.method == "HEAD" else reply.body

    def _last_modified(self, target: str, etag: str, reply: Reply) -> int:
        now = int(time.time())
        if reply.dynamic:
            return now
        with self._lock:
            known = self._validators.get(target)
            if known is None:
                modified = min(reply.published or self.started_at, now)
            elif known[0] != etag:
                modified = max(now, known[1] + 1)
            else:
                return known[1]
            self._validators[target] = (etag, modified)
            return modified

    # --- the request log ----------------------------------------------------

    def record(self, entry: LogEntry) -> None:
        with self._lock:
            self._log.append(entry)

    @property
    def log(self) -> list[LogEntry]:
        """A copy of the request log, oldest first."""
        with self._lock:
            return list(self._log)

    def stats(self) -> SiteStats:
        return SiteStats.of(self.log)

    def reset_log(self) -> None:
        with self._lock:
            self._log.clear()

    # --- serving ------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._server is not None

    def start(self) -> MirrorSite:
        if self._server is not None:
            return self
        try:
            server = _Server((self.host, self.listen_port), _Handler, self)
        except OSError as exc:
            raise RuntimeError(f"site {self.name!r}: cannot listen on {self.host}: {exc}") from exc
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"mirror-{self.name}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> MirrorSite:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: type[_Handler], site: MirrorSite) -> None:
        self.site = site
        super().__init__(address, handler)

    def finish_request(self, request: Any, client_address: Any) -> None:
        """Over TLS, the handshake first (here, in the connection's thread, not in the
        accept loop); a client that refuses the certificate gets nothing and is not logged."""
        tls = self.site.tls
        if tls is None:
            super().finish_request(request, client_address)
            return
        request.settimeout(_Handler.timeout)
        try:
            conn = tls.wrap_socket(request, server_side=True)
        except OSError:  # ssl.SSLError included
            return
        with conn:
            super().finish_request(conn, client_address)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client hanging up mid-response is its business, not a server error."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "govwatch-mirror/1"
    sys_version = ""
    timeout = 30
    # Headers and body go out as separate writes: without TCP_NODELAY, Nagle's algorithm
    # and the client's delayed ACK add 40 ms to every keep-alive response.
    disable_nagle_algorithm = True
    server: _Server

    def do_GET(self) -> None:
        self._serve("GET")

    def do_HEAD(self) -> None:
        self._serve("HEAD")

    def do_POST(self) -> None:
        self._serve("POST")

    def _serve(self, method: str) -> None:
        site = self.server.site
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        data = self.rfile.read(length) if length > 0 else b""
        form: tuple[tuple[str, str], ...] = ()
        if data and "form-urlencoded" in (self.headers.get("Content-Type") or ""):
            pairs = parse_qsl(data.decode("utf-8", "replace"), keep_blank_values=True)
            form = tuple(pairs)
        headers = {k.lower(): v for k, v in self.headers.items()}
        req = Request(method, parts.path, parts.query, form, headers)
        status, out, body = site.respond(req)
        # Logged before the answer leaves, so a client that has its answer sees the entry.
        site.record(LogEntry(method, self.path, status, len(body)))
        self.send_response(status)
        for key, value in out:
            self.send_header(key, value)
        self.end_headers()
        if body:
            self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the site keeps its own log."""
