"""Hanweb jpaas (集约化 platform), the Taizhou sites incl. 靖江 jingjiang.gov.cn.

Column pages hold no rows: a `<script … url="/api-gateway/jpaas-publish-server/front/
page/build/unit" queryData="{'webId':…}">` tag names the JSON API that renders them.
That API answers `{"success":true,"data":{"html":"…"}}` and pages only through
`paramJson={"pageNo":N,"pageSize":"15"}` (a bare pageNo is ignored); rows are
`li.clearfix` with the date in `span.bt-right`, totals in `div.pagination[rows][count]`.
A unit may serve fewer rows than the pageSize asked: the pager's `rows` says how many;
a page without rows ends the paging, whatever `count` says.
Details use `.wzzw-title` / `.wzzw-article` and a 3×4 信息公开 table.
"""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

from selectolax.lexbor import LexborNode

from govwatch.errors import ParseError
from govwatch.parsers.generic import extract
from govwatch.parsers.html import parse_html
from govwatch.parsers.records import Expect, ListingItem, Page
from govwatch.parsers.registry import register
from govwatch.parsers.rows import item_from
from govwatch.parsers.selectors import Rules

NAME = "hanweb_jpaas"
# The container jpaas templates put a body in, tried on pages of any site.
CONTAINERS = (".wzzw-article",)
RULES = Rules(content=(*CONTAINERS, "#zoom"), title=(".wzzw-title",))
PAGE_SIZE = "15"
_UNIT_SCRIPT = re.compile(
    r"<script\b[^>]*\burl=[\"']([^\"']*page/build/unit[^\"']*)[\"'][^>]*>", re.I
)
_QUERY_DATA = re.compile(r"""queryData\s*=\s*(["'])(.*?)\1""", re.I | re.S)


def api_url(base: str | None, path: str, query: list[tuple[str, str]], page_no: int) -> str:
    """The API URL of one page: the unit's query, then paramJson (UTF-8 percent-encoded)."""
    param = json.dumps({"pageNo": page_no, "pageSize": PAGE_SIZE}, separators=(",", ":"))
    return urljoin(base or "", path) + "?" + urlencode([*query, ("paramJson", param)])


def _query_data(raw: str) -> list[tuple[str, str]]:
    """queryData is JavaScript-ish: {'webId':1,'tagId':'通知公告'}."""
    try:
        data = json.loads(raw.replace("'", '"'))
    except json.JSONDecodeError as exc:
        raise ParseError(None, f"unreadable jpaas queryData: {raw[:80]}") from exc
    if not isinstance(data, dict):
        raise ParseError(None, f"jpaas queryData is not an object: {raw[:80]}")
    return [(str(k), str(v)) for k, v in data.items()]


def _column_page(page: str, url: str | None) -> Page | None:
    m = _UNIT_SCRIPT.search(page)
    if m is None:
        return None
    q = _QUERY_DATA.search(m.group(0))
    if q is None:
        return None
    first = api_url(url, m.group(1), _query_data(q.group(2)), 1)
    return Page(kind="listing", parser=NAME, url=url, next_pages=(first,))


def _api_answer(page: str, url: str | None) -> Page:
    try:
        answer = json.loads(page)
        fragment = answer["data"]["html"]
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise ParseError(url, "not a jpaas unit answer (no data.html)") from exc
    if not answer.get("success", True):
        raise ParseError(url, "jpaas unit answer says success=false")
    tree = parse_html(f"<html><body>{fragment}</body></html>")
    items: list[ListingItem] = []
    for row in tree.css("li"):
        item = item_from(row, url)
        if item is not None and item.url not in {i.url for i in items}:
            items.append(item)
    pager = tree.css_first("div.pagination")
    next_pages = _next_page(url, pager, len(items)) if pager is not None and items and url else ()
    return Page(kind="listing", parser=NAME, url=url, items=tuple(items), next_pages=next_pages)


def _next_page(url: str, pager: LexborNode, got: int) -> tuple[str, ...]:
    """The API URL of the page after `url` (which gave `got` rows), if the pager says there
    is one. Pages hold the pager's `rows`, not necessarily the pageSize asked; without
    `rows`, as many as this page. A pager or a paramJson that cannot be read gives none:
    the rows of this page still count."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "paramJson"]
    try:
        current = json.loads(dict(parse_qsl(parts.query)).get("paramJson", "{}") or "{}")
        page_no = int(current.get("pageNo", 1))
        rows = int(pager.attributes.get("rows") or got)
        count = int(pager.attributes.get("count") or 0)
    except (ValueError, TypeError, AttributeError):
        return ()
    if rows < 1 or page_no * rows >= count:
        return ()
    return (api_url(url, parts.path, query, page_no + 1),)


@register(
    NAME,
    hosts=("jingjiang.gov.cn", "taizhou.gov.cn"),
    detect=lambda p: "page/build/unit" in p,
    containers=CONTAINERS,
)
def parse(page: str, url: str | None, expect: Expect = None) -> Page:
    if expect != "detail":
        if page.lstrip().startswith("{"):
            return _api_answer(page, url)
        column = _column_page(page, url)
        if column is not None:
            return column
    return extract(page, url, RULES, NAME, expect)
