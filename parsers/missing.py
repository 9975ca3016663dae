"""Soft 404s: pages answered with status 200 that only say the page does not exist.

Many government CMSs answer a withdrawn or mistyped URL with 200 and a friendly error
page in the site's chrome (很抱歉，您访问的页面不存在！ 可能原因… 返回首页). Taken as
content, it would become a new version of the notice, a false revision. A detail page is
a soft 404 when its title or a line says that the page visited is missing (a message of
its own, not a sentence that mentions missing pages) and nothing else on it is notice
text: no metadata, no attachments, and almost no text beyond the message and its help
lines.
"""

from __future__ import annotations

import re

from govwatch.parsers.records import Page
from govwatch.parsers.text import compact, squash

_THING = r"(?:页面|网页|文章|信息|内容|文档|稿件|资源|栏目|链接|网址)"
_GONE = (
    r"(?:(?:已经?|可能)?(?:不存在|找不到|未找到|不见了|被?删除|被?撤销|被?撤回|下线|失效|过期"
    r"|被?移除))"
)
_POLITE = r"(?:很?抱歉|对不起|sorry)?[，,！!：:\s]*"
_END = r"[！!。.]*$"
# "the page you visited …", anywhere in a line.
_YOU_VISITED = re.compile(
    rf"(?:您|你)(?:所|要)?(?:访问|查看|请求|浏览|查找|打开|找)的?{_THING}{_GONE}", re.I
)
# A line that is nothing but the message.
_MESSAGE = re.compile(
    rf"^{_POLITE}(?:该|此|本|当前)?{_THING}{_GONE}(?:[或和、]{_GONE})*{_END}"
    rf"|^{_POLITE}(?:找不到|未找到|无法找到)(?:该|此|相关)?{_THING}{_END}"
    rf"|^(?:404|(?:错误|error)\s*404|404\s*(?:错误|页面|not\s*found|error))(?:\s*页面)?{_END}"
    rf"|^(?:page\s+)?not\s+found{_END}",
    re.I,
)
_TITLE_PARTS = re.compile(r"\s*[_|｜–—-]+\s*")
_HELP = re.compile(
    r"可能原因|返回首页|返回上一页|返回上页|秒后自动跳转|秒后跳转|请检查|网址有误|网址有错误"
    r"|地址有误|联系网站管理员"
)
MAX_OTHER_TEXT = 50
"""Characters of other text (whitespace aside) a soft-404 page may carry: a little chrome
the body extractor let through, never a notice."""


def says_missing(line: str) -> bool:
    """True when `line` is a "the page you visited does not exist" message."""
    line = squash(line)
    return bool(_YOU_VISITED.search(line) or _MESSAGE.match(line))


def is_soft_404(page: Page) -> bool:
    """True when `page` is a "page does not exist" page rather than a notice."""
    if page.kind != "detail" or page.meta or page.attachments:
        return False
    lines = page.body.splitlines()
    title_says = any(says_missing(part) for part in _TITLE_PARTS.split(page.title))
    if not (title_says or any(says_missing(line) for line in lines)):
        return False
    other = sum(
        len(compact(line)) for line in lines if not (says_missing(line) or _HELP.search(line))
    )
    return other <= MAX_OTHER_TEXT
