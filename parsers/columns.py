"""Column links on a site's home page: where its notices are listed.

A home page links its columns by name (通知公告, 信息公开, 政策文件 …), often twice: in the
navigation and as the heading of a box whose 更多 link leads to the column. `find_columns`
gives those links ranked by how likely the column is to carry notices worth watching,
for `govwatch add` to offer. Pure: page text in, links out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from selectolax.lexbor import LexborNode

from govwatch.parsers.html import absolute, is_fetchable, parse_html
from govwatch.parsers.text import compact, squash

# Best first. Each column is known by several link texts; a link text matches a name
# when it is the name, or (names of four characters or more) ends with it after a short
# prefix such as the agency's name (教育局通知公告). Short names must match whole: 通知
# or 文件 inside a longer text is a notice title, not a column.
RANKED: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("通知公告", ("通知公告", "通知通告", "公告通知", "通知")),
    ("公示公告", ("公示公告", "公告公示", "公示", "公告")),
    ("信息公开", ("政府信息公开", "信息公开", "政务公开")),
    ("政策文件", ("政策文件", "规范性文件", "政策法规", "文件")),
    ("工作动态", ("工作动态", "部门动态", "教育动态", "新闻动态")),
    ("法定主动公开内容", ("法定主动公开内容", "主动公开", "规划计划")),
)
_MAX_PREFIX = 6
_MORE = re.compile(r"^(?:(?:查看)?更多|more|进入)[>»+＋》]*$|^[>»+＋》]+$", re.I)
_DECOR = re.compile(r"^[\s>»·•|【\[]+|[\s>»·•|】\]+＋]+$")
_TITLE_SPLIT = re.compile(r"\s*[_|｜—–\-]+\s*|\s+")
_AGENCY = re.compile(r"(?:局|政府|委员会|委|办公室|办|厅|部|中心|院|网|网站|门户)$")


@dataclass(frozen=True)
class ColumnLink:
    """A link to a column: its name in `RANKED`, the link text as shown, the URL."""

    name: str
    text: str
    url: str
    rank: int


def _match(text: str) -> tuple[int, str] | None:
    """(rank, name) of the column a link text names, or None."""
    for rank, (name, variants) in enumerate(RANKED):
        for variant in variants:
            if text == variant or (
                len(variant) >= 4
                and text.endswith(variant)
                and len(text) - len(variant) <= _MAX_PREFIX
            ):
                return rank, name
    return None


def _heading(link: LexborNode) -> str:
    """The text a 更多 link stands beside: its box's heading."""
    node = link.parent
    own = compact(link.text())
    for _ in range(3):
        if node is None:
            return ""
        text = compact(node.text()).replace(own, "", 1)
        if text:
            return text
        node = node.parent
    return ""


def _link_text(link: LexborNode) -> str:
    text = compact(link.text()) or compact(link.attributes.get("title") or "")
    if _MORE.match(text):
        return _DECOR.sub("", _heading(link))
    return _DECOR.sub("", text)


def _same_page(a: str, b: str) -> bool:
    pa, pb = urlsplit(a), urlsplit(b)
    return (pa.hostname, pa.path.rstrip("/"), pa.query) == (
        pb.hostname,
        pb.path.rstrip("/"),
        pb.query,
    )


def find_columns(html: str, url: str) -> list[ColumnLink]:
    """The column links on a page, best first: by rank of the column's name, then links
    on the page's own host, then the order on the page. One link per URL; links back to
    the page itself are left out."""
    tree = parse_html(html)
    if tree.body is None:
        return []
    host = urlsplit(url).hostname
    found: dict[str, tuple[tuple[int, int, int], ColumnLink]] = {}
    for order, link in enumerate(tree.body.css("a[href]")):
        href = link.attributes.get("href") or ""
        if not is_fetchable(href):
            continue
        text = _link_text(link)
        matched = _match(text) if text else None
        if matched is None:
            continue
        try:
            target = absolute(url, href).split("#", 1)[0]
            parts = urlsplit(target)
        except ValueError:
            continue
        if parts.scheme not in ("http", "https") or _same_page(target, url):
            continue
        rank, name = matched
        key = (rank, 0 if parts.hostname == host else 1, order)
        if target not in found or key < found[target][0]:
            found[target] = (key, ColumnLink(name, text, target, rank))
    return [link for _, link in sorted(found.values(), key=lambda kv: kv[0])]


def page_title(html: str) -> str:
    """The page's <title>, whitespace squashed; empty when it has none."""
    node = parse_html(html).css_first("title")
    return squash(node.text()) if node is not None else ""


def column_name(title: str, column: str = "") -> str:
    """A seed name from a column page's title (通知公告_青山市教育局 → 青山市教育局 通知公告):
    the agency first, then the column, as the shipped seeds are named."""
    parts = [p for p in _TITLE_SPLIT.split(title) if p]
    agencies = [p for p in parts if _AGENCY.search(p)]
    others = [p for p in parts if p not in agencies]
    column = column or (others[0] if others else "")
    agency = agencies[0] if agencies else ""
    return " ".join(dict.fromkeys(p for p in (agency, column) if p)) or title
