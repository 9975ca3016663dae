"""Which of a page's lists is the column: the weights that set a column's own list above
boxes beside it (最新发布, 热点, 相关) by its place, its heading, its pager and where its
links lead.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from selectolax.lexbor import LexborHTMLParser, LexborNode

from govwatch.parsers.html import Metas, class_and_id, join_url
from govwatch.parsers.rows import Row
from govwatch.parsers.text import compact

# Boxes beside a column: site-wide latest / hot / related lists and teasers.
_ASIDE_NAMES = re.compile(
    r"side|aside|related|xgwz|xgxx|xgwj|(?<![a-z])hot|rank|paihang|phb|latest|zxfb|zxxx|"
    r"rdxx|redian|tuijian|recommend|swiper|slide|carousel|focus|marquee|scroll",
    re.I,
)
# Box titles, not column names (a column may well be 最新动态 or 图片新闻).
_ASIDE_HEADING = re.compile(r"最新(?:发布|信息|文章|更新|内容|文件)|热点|热门|推荐|相关|排行|猜你")
_PAGER_NAMES = re.compile(r"page|fenye|pagination|pager", re.I)
_PAGER_TEXT = re.compile(r"下一页|下页|尾页|末页|共\s*\d+\s*页")
_HEADING_CHARS = 16
_TITLE_PARTS = re.compile(r"[-_|｜—–>»·]+|\s{2,}")


def compact_text(node: LexborNode) -> str:
    return compact(node.text(deep=True, separator=""))


def _heading(container: LexborNode, text_of: Callable[[LexborNode], str] = compact_text) -> str:
    """The short text just before a list (its box title), up to two levels out."""
    node: LexborNode | None = container
    for _ in range(3):
        if node is None or node.tag == "body":
            break
        prev = node.prev
        while prev is not None:
            if prev.is_element_node:
                text = text_of(prev)
                if text:
                    return text if len(text) <= _HEADING_CHARS else ""
            prev = prev.prev
        node = node.parent
    return ""


def pager_like(node: LexborNode, text_of: Callable[[LexborNode], str]) -> bool:
    """An element named as a pager, or a short one saying 下一页 or 共 N 页."""
    if _PAGER_NAMES.search(class_and_id(node)):
        return True
    text = text_of(node)
    return len(text) <= 80 and bool(_PAGER_TEXT.search(text))


def _pager_follows(container: LexborNode, pager_like: Callable[[LexborNode], bool]) -> bool:
    """A pager right after the list, or after its box."""
    node: LexborNode | None = container
    for _ in range(3):
        if node is None or node.tag == "body":
            break
        sibling = node.next
        while sibling is not None:
            if sibling.is_element_node and pager_like(sibling):
                return True
            sibling = sibling.next
        node = node.parent
    return False


def named_aside(node: LexborNode) -> bool:
    """An <aside>, or an element named as a box beside the column."""
    return node.tag == "aside" or bool(_ASIDE_NAMES.search(class_and_id(node)))


def in_aside(container: LexborNode) -> bool:
    """The list, or an element around it, is a box beside the column."""
    node: LexborNode | None = container
    while node is not None and node.tag not in ("body", "html"):
        if named_aside(node):
            return True
        node = node.parent
    return False


def aside_box(
    container: LexborNode,
    text_of: Callable[[LexborNode], str] = compact_text,
    aside: Callable[[LexborNode], bool] = in_aside,
) -> bool:
    """A list in a box beside the column: by its place or its heading (最新, 热点, 相关)."""
    return aside(container) or bool(_ASIDE_HEADING.search(_heading(container, text_of)))


def _under(base: str | None, rows: list[Row]) -> float:
    """Share of rows whose notice lies under the page's own directory: a column's rows
    mostly do, a site-wide box's rarely."""
    if not base or not rows:
        return 0.0
    folder = join_url(base, ".")
    return sum(join_url(base, r.href).startswith(folder) for r in rows) / len(rows)


def column_names(tree: LexborHTMLParser, metas: Metas) -> set[str]:
    """What the page calls its column: the parts of its <title>, its ColumnName <meta>."""
    head = tree.css_first("title")
    parts = _TITLE_PARTS.split(head.text()) if head is not None else []
    named = metas.get("ColumnName")
    names = {compact(p) for p in (*parts, named or "")}
    return {n for n in names if 2 <= len(n) <= _HEADING_CHARS}


def weight(
    container: LexborNode,
    rows: list[Row],
    *,
    base: str | None,
    names: set[str],
    text_of: Callable[[LexborNode], str],
    pager_like: Callable[[LexborNode], bool],
    aside: Callable[[LexborNode], bool] = in_aside,
) -> float:
    """How much a list looks like the column rather than a box beside it: its links lead
    under the page's directory, its heading is the column's name, a pager follows it;
    it sits in no sidebar box. (A page may hold hundreds of candidate lists that share
    their neighbours: the caller keeps the neighbours' texts, pager and box tests for the
    page.)"""
    weight = 1.0 + 3 * _under(base, rows)
    heading = _heading(container, text_of)
    if aside(container) or _ASIDE_HEADING.search(heading):
        weight *= 0.25
    if _pager_follows(container, pager_like):
        weight *= 2
    if names and heading in names:
        weight *= 2
    return weight
