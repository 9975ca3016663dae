"""TRS WCM (拓尔思): `/YYYYMM/tYYYYMMDD_<id>.html` notices, bodies in `.TRS_Editor`,
listings paged by `createPageHTML(...)` calls (read by the listing engine).

The family's body containers are tried on pages of any site (`CONTAINERS`)."""

from __future__ import annotations

from govwatch.parsers.generic import extract
from govwatch.parsers.records import Expect, Page
from govwatch.parsers.registry import register
from govwatch.parsers.selectors import Rules

# The containers TRS templates put a body in.
CONTAINERS = (".TRS_Editor", ".TRS_UEDITOR", "#UCAPCONTENT")
RULES = Rules(content=(*CONTAINERS, ".Custom_UnionStyle"))
_MARKS = ("TRS_Editor", "TRS_UEDITOR", "createPageHTML(", "UCAPCONTENT")


def detect(page: str) -> bool:
    return any(mark in page for mark in _MARKS)


@register("trs_wcm", detect=detect, containers=CONTAINERS)
def parse(page: str, url: str | None, expect: Expect = None) -> Page:
    return extract(page, url, RULES, "trs_wcm", expect)
