"""TRS WCM (拓尔思): `/YYYYMM/tYYYYMMDD_<id>.html` notices, bodies in `.TRS_Editor`,
listings paged by `createPageHTML(...)` calls (read by the listing engine)."""

from __future__ import annotations

from govwatch.parsers.generic import Rules, extract
from govwatch.parsers.records import Expect, Page
from govwatch.parsers.registry import register

RULES = Rules(content=(".TRS_Editor", ".TRS_UEDITOR", "#UCAPCONTENT", ".Custom_UnionStyle"))
_MARKS = ("TRS_Editor", "TRS_UEDITOR", "createPageHTML(", "UCAPCONTENT")


def detect(page: str) -> bool:
    return any(mark in page for mark in _MARKS)


@register("trs_wcm", detect=detect)
def parse(page: str, url: str | None, expect: Expect = None) -> Page:
    return extract(page, url, RULES, "trs_wcm", expect)
