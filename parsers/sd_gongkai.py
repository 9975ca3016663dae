"""Shandong 信息公开 "gongkai" platform (Zibo and its districts, incl. 张店 zhangdian.gov.cn).

Notices at `/gongkai/site_<code>/channel_<hex>/doc_<hex>.html` carry a header table
(标题 / 索引号 / 文号 / 发文日期 / 发布机构), then `.doc-title`, `.doc-content`.
Channel listings page through a script call
`createPageNav(container, current, pageCount, "index", "html")`: page n ≥ 2 is
`index_n.html`. The listing markup and paging call are reconstructed (see
tests/fixtures/README.md), not seen on the live site.
"""

from __future__ import annotations

import re
from urllib.parse import urljoin

from govwatch.parsers.generic import extract
from govwatch.parsers.pagers import MAX_NEXT_PAGES
from govwatch.parsers.records import Expect, Page
from govwatch.parsers.registry import register
from govwatch.parsers.selectors import Rules

NAME = "sd_gongkai"
RULES = Rules(content=(".doc-content",), title=(".doc-title",))
_PAGE_NAV = re.compile(
    r"createPageNav\(\s*[\"'][^\"']*[\"']\s*,\s*([\w.]+)\s*,\s*([\w.]+)\s*,"
    r"\s*[\"']([^\"']+)[\"']\s*,\s*[\"']([^\"']+)[\"']"
)


def _number(token: str, page: str) -> int | None:
    """A literal, or `pageInfo.name` resolved from an object literal on the page."""
    if token.isdigit():
        return int(token)
    name = token.rsplit(".", 1)[-1]
    m = re.search(rf"\b{re.escape(name)}\s*[:=]\s*(\d+)", page)
    return int(m.group(1)) if m else None


def next_pages(page: str, url: str | None) -> tuple[str, ...]:
    m = _PAGE_NAV.search(page)
    if m is None:
        return ()
    current, count = _number(m.group(1), page), _number(m.group(2), page)
    if current is None or count is None:
        return ()
    last = min(count, current + MAX_NEXT_PAGES)
    names = [f"{m.group(3)}_{n}.{m.group(4)}" for n in range(current + 1, last + 1)]
    return tuple(urljoin(url or "", name) for name in names)


@register(
    NAME,
    hosts=("zhangdian.gov.cn", "zibo.gov.cn"),
    detect=lambda p: "/gongkai/" in p and "createPageNav(" in p,
)
def parse(page: str, url: str | None, expect: Expect = None) -> Page:
    result = extract(page, url, RULES, NAME, expect)
    if result.kind == "listing":
        more = next_pages(page, url)
        return Page(
            kind="listing",
            parser=NAME,
            url=url,
            items=result.items,
            next_pages=tuple(dict.fromkeys((*result.next_pages, *more))),
        )
    return result
