"""Hanweb jcms (大汉): `/art/YYYY/M/D/art_<col>_<id>.html` notices, `/col/colN/` columns.

Listings hide their rows in `<script type="text/xml"><datastore>` records (CDATA
HTML); the column page carries the first group of pages and a `jpage(...)` call with
the totals, further groups come from `dataproxy.jsp?startrecord=S&endrecord=E&perpage=P`
with the unit's form fields (the `nextgroup` link), answering the same datastore XML.
Detail bodies sit between `<!--ZJEG_RSS.content.begin-->` comments or `<meta
name="ContentStart">` tags (the markers of Hanweb's RSS export) in `#zoom`: the engine
looks for both on pages of any site (`MARKERS`, `CONTAINERS`).
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

from govwatch.parsers.generic import extract
from govwatch.parsers.html import parse_html
from govwatch.parsers.records import Expect, ListingItem, Page
from govwatch.parsers.registry import Markers, Request, register
from govwatch.parsers.rows import item_from
from govwatch.parsers.selectors import Rules

RULES = Rules(
    content=("#zoom", ".bt_content", "#Zoom", ".zoom"),
)
# The containers jcms templates put a body in.
CONTAINERS = ("#zoom", "#Zoom", ".bt_content")
# Matched as jcms writes them: tag and attribute names in any case, the marks as written.
MARKERS = (
    Markers(
        "ZJEG_RSS.content.begin",
        re.compile(r"<!--\s*ZJEG_RSS\.content\.begin\s*-->"),
        re.compile(r"<!--\s*ZJEG_RSS\.content\.end\s*-->"),
    ),
    Markers(
        "ContentStart",
        re.compile(r"<(?i:meta\s+name)=[\"']?ContentStart[\"']?\s*/?>"),
        re.compile(r"<(?i:meta\s+name)=[\"']?ContentEnd[\"']?\s*/?>"),
    ),
)
_DATASTORE = re.compile(r"<datastore>(.*?)</datastore>", re.S | re.I)
_RECORD = re.compile(r"<record>\s*<!\[CDATA\[(.*?)\]\]>\s*</record>", re.S | re.I)
_NEXTGROUP = re.compile(r"<nextgroup>\s*<!\[CDATA\[(.*?)\]\]>", re.S | re.I)
_TOTAL = re.compile(r"(?:totalRecord|totalrecord)\s*[:=>]\s*['\"]?(\d+)", re.I)
_PER_PAGE = re.compile(r"perPage\s*:\s*['\"]?(\d+)", re.I)
_GROUP = re.compile(r"groupSize\s*:\s*['\"]?(\d+)", re.I)
_PROXY = re.compile(r"proxyUrl\s*:\s*['\"]([^'\"]+)['\"]", re.I)
_HREF = re.compile(r"""href\s*=\s*['"]([^'"]+)['"]""", re.I)
DEFAULT_PROXY = "/module/web/jpage/dataproxy.jsp"
_DETECT_MARKS = ("ZJEG_RSS", "<datastore>", "jpage/dataproxy.jsp", "/module/jslib/")


def detect(page: str) -> bool:
    return any(mark in page for mark in _DETECT_MARKS)


def _records(store: str, url: str | None) -> list[ListingItem]:
    items = []
    for raw in _RECORD.findall(store):
        tree = parse_html(f"<div>{raw}</div>")
        root = tree.body.css_first("div") if tree.body is not None else None
        item = item_from(root, url) if root is not None else None
        if item is not None:
            items.append(item)
    return items


MAX_GROUPS = 1000
"""Dataproxy URLs read from one page at most: a page claiming billions of records must not
make the parser loop for ever (a crawl follows max_pages of them anyway)."""


def _next_groups(page: str, store: str, url: str | None) -> list[str]:
    """dataproxy URLs for the record groups after those on this page."""
    total_m = _TOTAL.search(page)
    per_m = _PER_PAGE.search(page)
    nextgroup = _NEXTGROUP.search(store)
    base_params: list[tuple[str, str]] = []
    proxy = DEFAULT_PROXY
    if nextgroup:
        href = _HREF.search(nextgroup.group(1))
        if href:
            parts = urlsplit(href.group(1))
            proxy = parts.path or proxy
            base_params = [
                (k, v)
                for k, v in parse_qsl(parts.query, keep_blank_values=True)
                if k not in ("startrecord", "endrecord", "perpage", "page")
            ]
    proxy_m = _PROXY.search(page)
    if proxy_m:
        proxy = proxy_m.group(1)
    current = dict(parse_qsl(urlsplit(url).query)) if url else {}
    per_page = int(per_m.group(1)) if per_m else int(current.get("perpage", "15"))
    group_m = _GROUP.search(page)
    group = int(group_m.group(1)) if group_m else 3
    if not total_m or (not base_params and "startrecord" not in current):
        return []
    if not base_params:
        base_params = [
            (k, v)
            for k, v in parse_qsl(urlsplit(url or "").query, keep_blank_values=True)
            if k not in ("startrecord", "endrecord", "perpage")
        ]
    total = int(total_m.group(1))
    step = group * per_page
    if step < 1:
        return []  # perPage or groupSize 0: no paging to follow
    start = int(current.get("endrecord", str(step))) + 1
    out: list[str] = []
    while start <= total and len(out) < MAX_GROUPS:
        end = min(start + step - 1, total)
        query = urlencode(
            [
                ("startrecord", str(start)),
                ("endrecord", str(end)),
                ("perpage", str(per_page)),
                *base_params,
            ]
        )
        out.append(urljoin(url or "", f"{proxy}?{query}"))
        start += step
    return out


def request(url: str) -> Request:
    """dataproxy.jsp wants a POST: paging in the query string, the unit's fields as a form."""
    parts = urlsplit(url)
    if not parts.path.endswith("dataproxy.jsp"):
        return Request("GET", url)
    paging = ("startrecord", "endrecord", "perpage")
    params = parse_qsl(parts.query, keep_blank_values=True)
    query = urlencode([(k, v) for k, v in params if k in paging])
    form = tuple((k, v) for k, v in params if k not in paging)
    return Request("POST", parts._replace(query=query).geturl(), form)


@register("hanweb_jcms", detect=detect, request=request, containers=CONTAINERS, markers=MARKERS)
def parse(page: str, url: str | None, expect: Expect = None) -> Page:
    store = _DATASTORE.search(page) if expect != "detail" else None
    if store is not None:
        items = _records(store.group(1), url)
        if items:
            return Page(
                kind="listing",
                parser="hanweb_jcms",
                url=url,
                items=tuple(items),
                next_pages=tuple(_next_groups(page, store.group(1), url)),
            )
    return extract(page, url, RULES, "hanweb_jcms", expect)
