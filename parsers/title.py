"""A notice's title: a site's selector, the ArticleTitle <meta>, else the best heading.

Headings and title-named elements score by how much of the page's <title> they repeat,
their length (a notice title is a sentence, a column name two words), their tag and
names, and whether they stand before the body; failing that, the longest part of the
<title>.
"""

from __future__ import annotations

from selectolax.lexbor import LexborHTMLParser, LexborNode

from govwatch.parsers.html import Metas, class_and_id, find_tags, is_inside
from govwatch.parsers.selectors import (
    NEGATIVE_NAMES,
    TITLE_CANDIDATES,
    TITLE_NAMES,
    TITLE_SPLIT,
    Rules,
)
from govwatch.parsers.text import compact, squash


def _common_len(a: str, b: str) -> int:
    """Length of the longest common substring: the longest length whose substrings of `a`
    and `b` meet, found by halving (a common substring of n characters holds one of n-1)."""
    lo, hi = 0, min(len(a), len(b))
    while lo < hi:
        n = (lo + hi + 1) // 2
        seen = {b[i : i + n] for i in range(len(b) - n + 1)}
        if any(a[i : i + n] in seen for i in range(len(a) - n + 1)):
            lo = n
        else:
            hi = n - 1
    return lo


def find_title(
    tree: LexborHTMLParser, rules: Rules, content: LexborNode | None, metas: Metas
) -> str:
    for selector in rules.title:
        node = tree.css_first(selector)
        if node is not None and squash(node.text()):
            return squash(node.text())
    article_title = metas.get("ArticleTitle", "dc.title")
    if article_title:
        return article_title
    head = tree.css_first("title")
    head_title = squash(head.text()) if head is not None else ""
    page_title = compact(head_title)

    order: dict[int, int] = {}
    for i, node in enumerate(tree.body.traverse() if tree.body else ()):
        order[node.mem_id] = i
    content_at = order.get(content.mem_id, 10**9) if content is not None else 10**9

    best: tuple[float, str] | None = None
    for node in tree.css(TITLE_CANDIDATES):
        text = squash(node.text(deep=True, separator=""))
        if not 4 <= len(text) <= 150:
            continue
        if len(find_tags(node, "a")) > 1:
            continue
        found = class_and_id(node)
        score = 0.0
        key = compact(text)
        if page_title:
            score += 10 * _common_len(key, page_title) / len(key)
        # A notice title is a sentence; a column name (通知公告, 政策文件) is two words.
        score += min(len(key), 40) / 8
        if node.tag == "h1":
            score += 3
        elif node.tag in ("h2", "h3"):
            score += 1.5
        if TITLE_NAMES.search(found):
            score += 2
        if NEGATIVE_NAMES.search(found):
            score -= 3
        at = order.get(node.mem_id, 0)
        if at > content_at and content is not None and not is_inside(node, content):
            score -= 6
        if best is None or score > best[0]:
            best = (score, text)
    if best is not None and best[0] >= 5:
        return best[1]
    parts = [p for p in TITLE_SPLIT.split(head_title) if p]
    return max(parts, key=len) if parts else ""
