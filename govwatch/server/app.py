"""The ASGI app of `govwatch serve`: topic feeds, OPML, notice and diff pages, health, metrics.

Read-only by design: no route writes to the store or fetches anything on a visitor's behalf;
the only crawling is the scheduler's. Everything that reads the store or renders runs in
Starlette's thread pool (plain `def` endpoints), so one slow query never holds up the event
loop that also drives the scheduler. Feeds and pages carry an ETag and Last-Modified and
answer a matching conditional request with 304, which is what lets readers poll cheaply and
a reverse proxy cache them.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any
from urllib.parse import quote

from prometheus_client import CONTENT_TYPE_LATEST
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from govwatch import __version__
from govwatch.crawler.seeds import Seed
from govwatch.errors import GovwatchError
from govwatch.feeds.health import HEALTH_ID, health_feed
from govwatch.feeds.push import Notifier
from govwatch.feeds.render import FeedBuilder, opml
from govwatch.feeds.topics import Topic, search_topic
from govwatch.fleet.figures import FleetCollector
from govwatch.server import pages
from govwatch.server.api import api_error, api_routes, server_error, under_api
from govwatch.server.metrics import Metrics
from govwatch.server.params import whole_number
from govwatch.server.push import PushDeliveries, PushLoop, PushLoopFigures, push_health
from govwatch.server.scheduler import CrawlScheduler
from govwatch.server.search import search_route
from govwatch.settings import Settings
from govwatch.store import NoticeRow, Store
from govwatch.store.diff import diff_bodies
from govwatch.store.feed_identity import read_identity, settle_legacy_base

log = logging.getLogger(__name__)

FORMATS = ("rss", "atom", "json")
MAX_AGE = 60
"""Seconds a reader or proxy may reuse a feed or page before revalidating it (304 is cheap)."""
HEALTH_DB_TIMEOUT = 5.0
RECENT_EVENTS = 30
PINNED_HINT = " (this server's address; set legacy_guid_base if readers had another)"
MAX_ID = 2**31 - 1
STATUS_MESSAGES = {
    "Not Found": "找不到这个页面",
    "Method Not Allowed": "这个页面只能读取",
    "Bad Request": "请求有误",
}

SECURITY_HEADERS = {
    # Pages need nothing but their own stylesheet; a feed opened in a browser gets nothing.
    "content-security-policy": "default-src 'none'; style-src 'self'; img-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
}


def public_url(settings: Settings) -> str:
    """Where readers reach the server: base_url, else http://host:port."""
    if settings.base_url:
        return settings.base_url.rstrip("/")
    host = settings.host if settings.host not in ("", "0.0.0.0", "::") else "localhost"
    return f"http://{f'[{host}]' if ':' in host else host}:{settings.port}"


def etag_of(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def not_modified(request: Request, etag: str, last_modified: datetime | None) -> bool:
    """RFC 9110 §13.1: If-None-Match (weak comparison) wins; else If-Modified-Since."""
    match = request.headers.get("if-none-match")
    if match is not None:
        tags = {t.strip().removeprefix("W/") for t in match.split(",")}
        return "*" in tags or etag.removeprefix("W/") in tags
    since = request.headers.get("if-modified-since")
    if since is None or last_modified is None:
        return False
    try:
        when = parsedate_to_datetime(since)
    except (TypeError, ValueError, IndexError):
        return False
    if when.tzinfo is None:  # "-0000": UTC by another name
        when = when.replace(tzinfo=UTC)
    return int(last_modified.timestamp()) <= when.timestamp()


def cached(
    request: Request,
    body: bytes,
    media_type: str,
    etag: str,
    last_modified: datetime | None,
) -> Response:
    """`body` with its validators, or 304 when the request already has it."""
    headers = {"etag": etag, "cache-control": f"public, max-age={MAX_AGE}"}
    if last_modified is not None:
        headers["last-modified"] = format_datetime(last_modified.astimezone(UTC), usegmt=True)
    if not_modified(request, etag, last_modified):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=media_type, headers=headers)


class SecurityHeaders:
    """Adds SECURITY_HEADERS to every response, static files and errors included."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for key, value in SECURITY_HEADERS.items():
                    headers.setdefault(key, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)


class Views:
    def __init__(
        self,
        store: Store,
        topics: list[Topic],
        feeds: FeedBuilder,
        base_url: str,
        metrics: Metrics,
        crawls: CrawlScheduler | None,
        pushes: PushLoop | None = None,
    ) -> None:
        self.store = store
        self.pushes = pushes
        self.topics = {t.id: t for t in topics}
        self.feeds = feeds
        self.base_url = base_url
        self.metrics = metrics
        self.crawls = crawls
        self.env = pages.environment()

    def render(self, template: str, **context: Any) -> bytes:
        return self.env.get_template(template).render(**context).encode()

    def page(self, request: Request, body: bytes, last_modified: datetime | None) -> Response:
        return cached(request, body, "text/html; charset=utf-8", etag_of(body), last_modified)

    # Feeds

    def feed(self, request: Request) -> Response:
        name, fmt = request.path_params["topic"], request.path_params["fmt"]
        if fmt not in FORMATS:
            raise HTTPException(404, f"没有 {fmt} 格式的订阅：请用 .rss、.atom 或 .json")
        if name == HEALTH_ID:
            rows = self.store.health_changes()
            feed = health_feed(rows, self.store.site_names(), self.base_url, fmt)
            return cached(request, feed.body, feed.media_type, feed.etag, feed.last_modified)
        if name == "search":
            try:
                topic = search_topic(
                    request.query_params.get("q", ""), request.query_params.get("site")
                )
            except ValueError as exc:
                raise HTTPException(400, str(exc)) from None
        elif name in self.topics:
            topic = self.topics[name]
        else:
            raise HTTPException(404, f"没有名为 {name} 的专题")
        feed = self.feeds.render(topic, fmt)
        return cached(request, feed.body, feed.media_type, feed.etag, feed.last_modified)

    def opml(self, request: Request) -> Response:
        body = opml(list(self.topics.values()), self.base_url)
        return cached(request, body, "text/x-opml; charset=utf-8", etag_of(body), None)

    # Pages

    def index(self, request: Request) -> Response:
        events = self.store.events(limit=RECENT_EVENTS)
        body = self.render("index.html", topics=list(self.topics.values()), events=events)
        return self.page(request, body, events[0].at if events else None)

    def _notice(self, request: Request) -> NoticeRow:
        notice_id = request.path_params["notice_id"]
        # Ids past the database's integer range are not an error of the database.
        notice = self.store.notice_by_id(notice_id) if notice_id <= MAX_ID else None
        if notice is None:
            raise HTTPException(404, "没有这条公告")
        return notice

    def notice(self, request: Request) -> Response:
        notice = self._notice(request)
        versions = self.store.history(notice.url)
        number = _int_param(request, "version") or notice.current_version
        shown = next((v for v in versions if v.number == number), None)
        if number is not None and shown is None:
            raise HTTPException(404, f"这条公告没有第 {number} 版")
        site_name = self.store.site_names().get(notice.site_id, notice.site_id)
        body = self.render(
            "notice.html",
            notice=notice,
            site_name=site_name,
            version=shown,
            versions=versions[::-1],
            files=self.store.texts([a.sha256 for a in shown.attachments if a.sha256])
            if shown
            else {},
            paragraphs=[p for p in shown.body.split("\n") if p.strip()] if shown else [],
        )
        # Every change (a version, a removal, a return) happens at a check, so the last check
        # is never older than the page: If-Modified-Since can never wrongly get a 304.
        return self.page(request, body, notice.last_checked_at or notice.first_seen_at)

    def diff(self, request: Request) -> Response:
        notice = self._notice(request)
        versions = {v.number: v for v in self.store.history(notice.url)}
        new_no = _int_param(request, "to") or notice.current_version or 0
        old_no = _int_param(request, "from") or max(new_no - 1, 1)
        if old_no not in versions or new_no not in versions:
            raise HTTPException(404, f"这条公告没有第 {old_no} 版和第 {new_no} 版")
        old, new = versions[old_no], versions[new_no]
        body_diff = diff_bodies(old.body, new.body)
        added, removed = pages.attachment_changes(old, new)
        body = self.render(
            "diff.html",
            notice=notice,
            old=old,
            new=new,
            numbers=sorted(versions),
            changed=body_diff.changed,
            blocks=pages.diff_blocks(body_diff),
            fields=pages.field_changes(old, new),
            added=added,
            removed=removed,
            files=[
                (change, pages.diff_blocks(change.diff()))
                for change in self.store.file_changes(old, new)
            ],
        )
        return self.page(request, body, max(old.fetched_at, new.fetched_at))

    def attachment_file(self, request: Request) -> Response:
        """The stored copy of a file one of the notice's versions links, as fetched."""
        notice = self._notice(request)
        sha256 = request.path_params["sha256"]
        for version in self.store.history(notice.url):
            named = next((a for a in version.attachments if a.sha256 == sha256), None)
            if named is not None:
                break
        else:
            raise HTTPException(404, "这条公告没有这个附件文件")
        found = self.store.file_content(sha256)
        if found is None:
            raise HTTPException(404, "这个附件文件没有存档")
        content, media_type = found
        # Never shown inline: a file from a site is not a page of ours.
        disposition = "attachment; filename*=UTF-8''" + quote(named.name or sha256)
        headers = {"content-disposition": disposition, "etag": f'"{sha256}"'}
        headers["cache-control"] = "public, max-age=31536000, immutable"
        return Response(content, media_type=media_type, headers=headers)

    # Operations

    async def healthz(self, request: Request) -> Response:
        """200 when the database answers, the scheduler runs and so does the push loop (if
        a topic pushes); 503 otherwise."""
        try:
            await asyncio.wait_for(
                run_in_threadpool(self.store.last_event_id), timeout=HEALTH_DB_TIMEOUT
            )
            db: dict[str, Any] = {"ok": True}
        except (GovwatchError, TimeoutError) as exc:
            db = {"ok": False, "error": str(exc) or "no answer in time"}
        scheduler = {
            "enabled": self.crawls is not None,
            "running": self.crawls is not None and self.crawls.running,
            "stopping": self.crawls is not None and self.crawls.stopping,
            # `govwatch worker`s crawl (PostgreSQL): this server only serves.
            "fleet": self.crawls is not None and self.crawls.fleet,
        }
        # A server finishing its crawls before it stops still serves: not a failure.
        ok = db["ok"] and (self.crawls is None or self.crawls.running or self.crawls.stopping)
        sites: dict[str, dict[str, Any]] = self.crawls.status() if self.crawls else {}
        if db["ok"]:
            health = await run_in_threadpool(self.store.latest_health)
            for site, row in health.items():
                sites.setdefault(site, {})["health"] = {
                    "status": row.status,
                    "message": row.message,
                    "at": row.at.isoformat(),
                }
        # No topic pushes (or no scheduler): "off". A loop stalled or stopped pushes
        # nothing until a restart: a failure.
        push = self.pushes.health() if self.pushes is not None else {"loop": "off"}
        ok = ok and push["loop"] not in ("stalled", "stopped")
        status = {
            "status": "ok" if ok else "failing",
            "version": __version__,
            "db": db,
            "scheduler": scheduler,
            # A site's layout change is the operators' to fix, not a reason to restart us:
            # listed here and in /metrics and /feeds/_health.rss, the status stays 200.
            "unhealthy_sites": sorted(s for s, v in sites.items() if _unhealthy(v)),
            "sites": sites,
            "push": push,
        }
        if db["ok"]:
            # Failed pushes are listed, not a failure of the server (like a site's layout).
            push |= await run_in_threadpool(push_health, self.store)
        headers = {"cache-control": "no-store"}
        return JSONResponse(status, status_code=200 if ok else 503, headers=headers)

    async def metrics_text(self, request: Request) -> Response:
        return Response(self.metrics.render(), media_type=CONTENT_TYPE_LATEST)

    # Errors

    def error(self, request: Request, status: int, message: str) -> Response:
        body = self.render("error.html", status=status, message=message)
        return HTMLResponse(body, status_code=status, headers={"cache-control": "no-store"})


def _unhealthy(site: dict[str, Any]) -> bool:
    return site.get("health", {}).get("status", "ok") not in ("ok", "empty")


def _int_param(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    number = whole_number(raw, 1, MAX_ID)
    if number is None:
        raise HTTPException(400, f"{name} 应是版本号（正整数）")
    return number


def create_app(
    store: Store,
    topics: list[Topic],
    seeds: list[Seed],
    settings: Settings,
    *,
    scheduler: bool = True,
) -> Starlette:
    """The app; with `scheduler`, its lifespan also crawls each seed on its interval."""
    base_url = public_url(settings)
    metrics = Metrics((seed.id for seed in seeds), store)
    metrics.registry.register(FleetCollector(store, settings))
    crawls = CrawlScheduler(store, seeds, settings, metrics) if scheduler else None
    # Whatever process crawls pushes: with the scheduler, the server does.
    notifier = Notifier(store, topics, base_url, settings)
    pushes = PushLoop(notifier) if scheduler and notifier else None
    metrics.registry.register(PushDeliveries(store))
    if pushes is not None:
        metrics.registry.register(PushLoopFigures(pushes))
    # Items served before the upgrade to tag: GUIDs keep theirs (store/feed_identity.py).
    before = read_identity(store).legacy_base_url
    identity = settle_legacy_base(store, settings.legacy_guid_base, base_url)
    if identity.legacy_base_url != before:  # said once: when recorded or changed
        log.warning(
            "feed items of events before #%d keep GUIDs made of %s%s",
            identity.legacy_before,
            identity.legacy_base_url,
            "" if settings.legacy_guid_base else PINNED_HINT,
        )
    feeds = FeedBuilder(store, base_url, identity=identity)
    views = Views(store, topics, feeds, base_url, metrics, crawls, pushes)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if crawls is not None:
            crawls.start()
        if pushes is not None:
            pushes.start()
        try:
            yield
        finally:
            if crawls is not None:
                await crawls.stop(settings.shutdown_timeout)
            if pushes is not None:  # what is still owed is sent after the next start
                await pushes.stop()

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if under_api(request):  # an unknown /api path, a POST: the reason phrase, in JSON
            return api_error(exc.status_code, exc.detail, exc.headers)
        # Starlette's own errors (an unknown path, a POST) carry the English reason phrase.
        detail = STATUS_MESSAGES.get(exc.detail, exc.detail)
        return await run_in_threadpool(views.error, request, exc.status_code, detail)

    async def store_error(request: Request, exc: Exception) -> Response:
        log.error("%s %s: %s", request.method, request.url.path, exc)
        if under_api(request):
            return api_error(503, "the database cannot be reached for now")
        return await run_in_threadpool(views.error, request, 503, "数据库暂时无法访问")

    app = Starlette(
        routes=[
            Route("/", views.index),
            Route("/feeds/{topic}.{fmt}", views.feed),
            Route("/opml", views.opml),
            Route("/notices/{notice_id:int}", views.notice),
            Route("/notices/{notice_id:int}/diff", views.diff),
            Route("/notices/{notice_id:int}/files/{sha256:str}", views.attachment_file),
            search_route(store, views.render, views.page),
            api_routes(store, base_url),
            Route("/healthz", views.healthz),
            Route("/metrics", views.metrics_text),
            Mount("/static", StaticFiles(directory=pages.HERE / "static"), name="static"),
        ],
        lifespan=lifespan,
        exception_handlers={
            HTTPException: http_error,
            GovwatchError: store_error,
            Exception: server_error,
        },
    )
    app.add_middleware(SecurityHeaders)
    app.state.crawls = crawls  # for serve(), which stops them on a signal
    app.state.pushes = pushes
    return app
