"""The search page, /search: the full-text index with its filters, matches highlighted.

A form (query, site, publisher, 主题分类, dates, event kind) that submits to itself; the
hits, newest first, PAGE_SIZE a page, each with its snippet; and the search feed of the
same query, for a reader to keep. Site text reaches the template as text and is escaped
there, the matches included (the template marks them).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import cast
from urllib.parse import urlencode

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from govwatch.server.params import whole_number
from govwatch.store import Store
from govwatch.store.filters import NoticeFilter
from govwatch.store.rows import EVENT_LABELS, EventKind
from govwatch.store.search import SearchHit
from govwatch.store.search_text import parse_query

PAGE_SIZE = 20
MAX_PAGE = 50
"""Pages a search may be walked to: each page re-reads the hits before it."""

Render = Callable[..., bytes]
Page = Callable[[Request, bytes, datetime | None], Response]


@dataclass(frozen=True)
class Form:
    """What the visitor asked, as the form shows it again."""

    q: str
    site: str
    publisher: str
    category: str
    since: str
    until: str
    kind: str
    page: int

    def filters(self) -> NoticeFilter:
        return NoticeFilter(
            sites=(self.site,) if self.site else (),
            publishers=(self.publisher,) if self.publisher else (),
            categories=(self.category,) if self.category else (),
            since=_day("起始日期", self.since),
            until=_day("截止日期", self.until),
            kinds=(cast(EventKind, self.kind),) if self.kind else (),
        )

    def link(self, **changes: str | int) -> str:
        """This search's URL with `changes`; empty fields left out."""
        fields = {k: str(v) for k, v in (vars(self) | changes).items()}
        if fields["page"] == "1":
            del fields["page"]
        return "/search?" + urlencode({k: v for k, v in fields.items() if v})


def search_route(store: Store, render: Render, page: Page) -> Route:
    def view(request: Request) -> Response:
        form = _form(request)
        hits: list[SearchHit] = []
        more = False
        feed = ""
        if form.q:
            try:
                query = parse_query(form.q)
            except ValueError as exc:
                raise HTTPException(400, str(exc)) from None
            found = store.search(
                query, form.filters(), limit=PAGE_SIZE + 1, offset=(form.page - 1) * PAGE_SIZE
            )
            hits, more = found[:PAGE_SIZE], len(found) > PAGE_SIZE
            feed = "/feeds/search.rss?" + urlencode(
                {"q": query.text} | ({"site": form.site} if form.site else {})
            )
        body = render(
            "search.html",
            form=form,
            hits=hits,
            more=more,
            feed=feed,
            sites=sorted(store.site_names().items(), key=lambda item: item[1]),
            kinds=list(EVENT_LABELS.items()),
        )
        return page(request, body, None)

    return Route("/search", view)


def _form(request: Request) -> Form:
    params = request.query_params
    page = whole_number(params.get("page", "1"), 1, MAX_PAGE)
    if page is None:
        raise HTTPException(400, f"page 应是 1 到 {MAX_PAGE} 的页码")
    kind = params.get("kind", "")
    if kind and kind not in EVENT_LABELS:
        raise HTTPException(400, f"没有 {kind} 这种事件")
    return Form(
        q=" ".join(params.get("q", "").split()),
        site=params.get("site", "").strip(),
        publisher=params.get("publisher", "").strip(),
        category=params.get("category", "").strip(),
        since=params.get("since", "").strip(),
        until=params.get("until", "").strip(),
        kind=kind,
        page=page,
    )


def _day(label: str, value: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise HTTPException(400, f"{label}应是 YYYY-MM-DD 格式的日期") from None
