"""铜陵市教育和体育局 (jyt.tl.gov.cn), on the Anhui government-site platform.

Notices: `.wztit` title, `.wzinfo` line (发布时间 / 来源 / 字号 / 打印), body in
`.wzcon.j-fontContent`. The markup is reconstructed from the platform family (see
tests/fixtures/README.md); listings and anything else go to the generic engine.
"""

from __future__ import annotations

from govwatch.parsers.generic import extract
from govwatch.parsers.records import Expect, Page
from govwatch.parsers.registry import register
from govwatch.parsers.selectors import Rules

NAME = "tongling"
RULES = Rules(content=(".j-fontContent", ".wzcon"), title=(".wztit",))


@register(NAME, hosts=("jyt.tl.gov.cn", "tl.gov.cn"))
def parse(page: str, url: str | None, expect: Expect = None) -> Page:
    return extract(page, url, RULES, NAME, expect)
