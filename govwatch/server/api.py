"""The JSON API under /api: notices, their versions and diffs, events, sites, for programs.

Read-only like every route (GET and HEAD only), described by /api/openapi.json
(govwatch/server/openapi.py; tests/test_api.py checks every answer against it). Lists are
pages: `limit` items and a `next_cursor` to pass as `cursor` for the next page (null on
the last), an opaque token of where the page ended: the next page starts after it, so an
item whose key does not move is never repeated or skipped (README, JSON API, says which
keys move). Every answer carries an ETag and `Cache-Control` like the feeds and answers a
matching `If-None-Match` with 304; errors are `{"error": "…"}` with 400 or 404 (and 405,
500 for a bug, or 503 when the database is away), never the site's HTML error pages.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any, cast

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route

from govwatch.parsers.records import CHINA_TZ
from govwatch.server.openapi import openapi_document
from govwatch.server.params import whole_number
from govwatch.store import Store, VersionRow
from govwatch.store.diff import versions_json
from govwatch.store.filters import NoticeFilter
from govwatch.store.listings import (
    ListedEvent,
    NoticeListing,
    list_events,
    list_notices,
    site_overviews,
)
from govwatch.store.rows import EventKind

MEDIA_TYPE = "application/json"
DEFAULT_LIMIT = 50
MAX_LIMIT = 200
MAX_ID = 2**31 - 1
EVENT_KINDS: tuple[EventKind, ...] = ("new", "revised", "removed", "restored")
PLUS_AS_SPACE = re.compile(r"(:\d{2}(?:\.\d+)?) (\d{2}(?::?\d{2})?)$")
"""A time (…:MM or …:SS, a fraction), a space, an offset: the offset's + as a URL reads it."""


class BadRequest(Exception):
    """A parameter the API cannot use: 400 with the message."""


class NotFound(Exception):
    """404 with the message."""


def api_routes(store: Store, base_url: str) -> Mount:
    """The /api mount of the app made for `store`, its links leading to `base_url`."""
    from govwatch.server.app import cached, etag_of  # the app imports this module

    def respond(request: Request, data: Any, last_modified: datetime | None = None) -> Response:
        body = (json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n").encode()
        return cached(request, body, MEDIA_TYPE, etag_of(body), last_modified)

    def endpoint(
        make: Callable[[Request], tuple[Any, datetime | None]],
    ) -> Callable[[Request], Response]:
        def answer(request: Request) -> Response:
            try:
                data, last_modified = make(request)
            except BadRequest as exc:
                return JSONResponse({"error": str(exc)}, status_code=400)
            except NotFound as exc:
                return JSONResponse({"error": str(exc)}, status_code=404)
            return respond(request, data, last_modified)

        return answer

    def notices_list(request: Request) -> tuple[Any, datetime | None]:
        limit = _limit(request)
        after = _notice_cursor(request.query_params.get("cursor"))
        rows = list_notices(store, _filter(request), limit=limit + 1, after=after)
        page = rows[:limit]
        more = len(rows) > limit
        cursor = _encode(f"{page[-1].day}|{page[-1].id}") if more and page else None
        return {"notices": [_notice(n, base_url) for n in page], "next_cursor": cursor}, None

    def notice_detail(request: Request) -> tuple[Any, datetime | None]:
        notice = _notice_row(store, request)
        versions = store.history(notice.url)
        data = {
            "id": notice.id,
            "url": notice.url,
            "site": notice.site_id,
            "site_name": store.site_names().get(notice.site_id, notice.site_id),
            "title": notice.title,
            "status": notice.status,
            "current_version": notice.current_version,
            "first_seen_at": notice.first_seen_at.isoformat(),
            "last_checked_at": _iso(notice.last_checked_at),
            "links": _links(notice.id, base_url),
            "versions": [_version(v) for v in versions],
        }
        return data, notice.last_checked_at or notice.first_seen_at

    def notice_diff(request: Request) -> tuple[Any, datetime | None]:
        notice = _notice_row(store, request)
        by_number = {v.number: v for v in store.history(notice.url)}
        if not by_number:
            raise NotFound("this notice has no version yet")
        new_no = _positive(request, "to") or max(by_number)
        old_no = _positive(request, "from") or max(new_no - 1, 1)
        if old_no not in by_number or new_no not in by_number:
            raise NotFound(f"no versions {old_no} and {new_no} (versions 1 to {max(by_number)})")
        old, new = by_number[old_no], by_number[new_no]
        data = {"notice_id": notice.id, **versions_json(old, new)}
        return data, max(old.fetched_at, new.fetched_at)

    def events_list(request: Request) -> tuple[Any, datetime | None]:
        limit = _limit(request)
        raw = request.query_params.get("cursor")
        after = _int_cursor(raw) if raw else 0
        rows = list_events(
            store,
            since=_since(request.query_params.get("since")),
            after_id=after,
            sites_wanted=tuple(request.query_params.getlist("site")),
            kinds=_kinds(request),
            limit=limit + 1,
        )
        page = rows[:limit]
        cursor = _encode(str(page[-1].id)) if len(rows) > limit and page else None
        return {"events": [_event(e, base_url) for e in page], "next_cursor": cursor}, None

    def sites_list(request: Request) -> tuple[Any, datetime | None]:
        health = store.latest_health()
        data = [
            {
                "id": s.id,
                "name": s.name,
                "parser": s.parser,
                "topics": list(s.topics),
                "notices": s.notices,
                "removed": s.removed,
                "last_event_at": _iso(s.last_event_at),
                "health": health[s.id].status if s.id in health else None,
            }
            for s in site_overviews(store)
        ]
        return {"sites": data}, None

    def openapi(request: Request) -> tuple[Any, datetime | None]:
        return openapi_document(), None

    return Mount(
        "/api",
        routes=[
            Route("/notices", endpoint(notices_list)),
            Route("/notices/{notice_id:int}", endpoint(notice_detail)),
            Route("/notices/{notice_id:int}/diff", endpoint(notice_diff)),
            Route("/events", endpoint(events_list)),
            Route("/sites", endpoint(sites_list)),
            Route("/openapi.json", endpoint(openapi)),
        ],
    )


def under_api(request: Request) -> bool:
    """Whether an error on `request` is answered in JSON, like the rest of /api."""
    return request.url.path == "/api" or request.url.path.startswith("/api/")


def api_error(status: int, message: str, headers: Mapping[str, str] | None = None) -> Response:
    """An error under /api, which programs read: `{"error": message}`, never an HTML page."""
    extra = {"cache-control": "no-store", **(headers or {})}
    return JSONResponse({"error": message}, status_code=status, headers=extra)


async def server_error(request: Request, exc: Exception) -> Response:
    """A bug's 500 (uvicorn logs its traceback): JSON under /api, Starlette's text elsewhere."""
    if under_api(request):
        return api_error(500, "internal error; the server's log has the details")
    return PlainTextResponse("Internal Server Error", status_code=500)


def _notice_row(store: Store, request: Request) -> Any:
    notice_id = request.path_params["notice_id"]
    notice = store.notice_by_id(notice_id) if notice_id <= MAX_ID else None
    if notice is None:
        raise NotFound(f"no notice {notice_id}")
    return notice


def _filter(request: Request) -> NoticeFilter:
    params = request.query_params
    since, until = _day(params.get("since"), "since"), _day(params.get("until"), "until")
    return NoticeFilter(
        sites=tuple(params.getlist("site")),
        publishers=tuple(p for p in params.getlist("publisher") if p.strip()),
        categories=tuple(c for c in params.getlist("category") if c.strip()),
        since=since,
        until=until,
        kinds=_kinds(request),
    )


def _kinds(request: Request) -> tuple[EventKind, ...]:
    kinds = request.query_params.getlist("kind")
    for kind in kinds:
        if kind not in EVENT_KINDS:
            raise BadRequest(f"kind: {kind!r} is not one of {', '.join(EVENT_KINDS)}")
    return tuple(cast(EventKind, k) for k in kinds)


def _day(raw: str | None, name: str) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise BadRequest(f"{name}: not a date YYYY-MM-DD: {raw!r}") from None


def _since(raw: str | None) -> datetime | None:
    """An ISO 8601 time with its offset, or a date (its midnight in China)."""
    if not raw:
        return None
    # "+08:00" typed into a URL as-is arrives as " 08:00": a + in a query is a space.
    raw = PLUS_AS_SPACE.sub(r"\1+\2", raw)
    try:
        if len(raw) == len("2026-12-01"):
            day = date.fromisoformat(raw)
            return datetime(day.year, day.month, day.day, tzinfo=CHINA_TZ)
        when = datetime.fromisoformat(raw)
    except ValueError:
        raise BadRequest(f"since: not an ISO 8601 time: {raw!r}") from None
    if when.tzinfo is None:
        raise BadRequest(
            "since: give the time's offset (2026-12-01T08:00:00+08:00, its + written %2B in "
            "a URL, or …Z)"
        )
    return when


def _limit(request: Request) -> int:
    raw = request.query_params.get("limit")
    if raw is None:
        return DEFAULT_LIMIT
    limit = whole_number(raw, 1, MAX_LIMIT)
    if limit is None:
        raise BadRequest(f"limit: a whole number from 1 to {MAX_LIMIT}")
    return limit


def _positive(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name)
    if not raw:
        return None
    number = whole_number(raw, 1, MAX_ID)
    if number is None:
        raise BadRequest(f"{name}: a version number (1, 2, …)")
    return number


def _encode(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _decode(raw: str) -> str:
    try:
        return base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise BadRequest("cursor: not a cursor this API gave") from None


def _notice_cursor(raw: str | None) -> tuple[str, int] | None:
    if not raw:
        return None
    day, _, raw_id = _decode(raw).partition("|")
    notice_id = whole_number(raw_id, 0, MAX_ID)
    if notice_id is None:
        raise BadRequest("cursor: not a cursor this API gave")
    return day, notice_id


def _int_cursor(raw: str) -> int:
    event_id = whole_number(_decode(raw), 0, MAX_ID)
    if event_id is None:
        raise BadRequest("cursor: not a cursor this API gave")
    return event_id


def _iso(when: datetime | None) -> str | None:
    return None if when is None else when.isoformat()


def _links(notice_id: int, base_url: str) -> dict[str, str]:
    return {"api": f"{base_url}/api/notices/{notice_id}", "page": f"{base_url}/notices/{notice_id}"}


def _notice(n: NoticeListing, base_url: str) -> dict[str, Any]:
    return {
        "id": n.id,
        "url": n.url,
        "site": n.site_id,
        "site_name": n.site_name,
        "title": n.title,
        "date": n.day,
        "status": n.status,
        "current_version": n.current_version,
        "first_seen_at": n.first_seen_at.isoformat(),
        "last_checked_at": _iso(n.last_checked_at),
        "meta": n.meta,
        "links": _links(n.id, base_url),
    }


def _version(v: VersionRow) -> dict[str, Any]:
    return {
        "number": v.number,
        "fetched_at": v.fetched_at.isoformat(),
        "title": v.title,
        "body": v.body,
        "meta": v.meta,
        "attachments": [{"name": a.name, "url": a.url} for a in v.attachments],
        "changed_fields": list(v.changed_fields),
        "content_hash": v.content_hash,
        "parser_version": v.parser_version,
    }


def _event(e: ListedEvent, base_url: str) -> dict[str, Any]:
    return {
        "id": e.id,
        "kind": e.kind,
        "notice_id": e.notice_id,
        "url": e.url,
        "title": e.title,
        "site": e.site_id,
        "site_name": e.site_name,
        "at": e.at.isoformat(),
        "version": e.version,
        "changed_fields": list(e.changed_fields),
        "baseline": e.baseline,
        "links": _links(e.notice_id, base_url),
    }
