"""潜江市教育局 (jyj.hbqj.gov.cn), a TRS WCM site: `/YYYYMM/tYYYYMMDD_<id>.shtml`
notices with the body in `.TRS_Editor`, 相关附件 links beside it, and a QR caption
glued to the last paragraph. Listings page through `createPageHTML(...)`. The markup
is reconstructed from the TRS family (see tests/fixtures/README.md).
"""

from __future__ import annotations

from govwatch.parsers.generic import extract
from govwatch.parsers.records import Expect, Page
from govwatch.parsers.registry import register
from govwatch.parsers.selectors import Rules

NAME = "qianjiang"
RULES = Rules(content=(".TRS_Editor",), title=(".title h1", "h1"))


@register(NAME, hosts=("hbqj.gov.cn",))
def parse(page: str, url: str | None, expect: Expect = None) -> Page:
    return extract(page, url, RULES, NAME, expect)
