"""One row of a listing: its notice link, title and date, as printed.

The notice is the row's shallowest, then longest, link; its title the link text less
badges (置顶, new) and dates written into it, or the link's title attribute when the text
is cut short on screen. The date is the one printed outside the link, else inside it,
else printed in pieces (a date box: 2025-12 over 18) or without its year.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple
from urllib.parse import urlsplit

from selectolax.lexbor import LexborNode

from govwatch.parsers.html import absolute, class_and_id, find_tags, is_fetchable
from govwatch.parsers.records import ListingItem
from govwatch.parsers.text import (
    compact,
    date_from_pieces,
    find_date,
    is_badge,
    may_hold_partial_date,
    month_day,
    split_title,
    squash,
    with_year,
)

# Links that lead to a column, not a notice.
_MORE = re.compile(r"^(?:更多|查看更多|more|MORE|More)\s*[>»›]*$")
# A card-like link wraps blocks: the title is its heading or its title-named block.
_LINK_BLOCKS = {"h1", "h2", "h3", "h4", "h5", "h6", "p", "div"}
_TITLE_NAMES = re.compile(r"title|tit\b|bt\b|biaoti", re.I)


@dataclass(frozen=True)
class Row:
    """One row as read, before its URL is resolved and a year-less date completed."""

    title: str
    href: str
    date: str | None
    month_day: tuple[int, int] | None
    node: LexborNode


def _depth(node: LexborNode, row: LexborNode) -> int:
    depth = 0
    parent = node.parent
    while parent is not None and parent.mem_id != row.mem_id:
        depth += 1
        parent = parent.parent
    return depth


def _title_part(a: LexborNode) -> LexborNode:
    """The part of a card-like link that holds the title: its heading, or its first
    block with text, when the link wraps a title, a summary and a date."""
    blocks = [c for c in a.iter() if c.tag in _LINK_BLOCKS and c.text(deep=True).strip()]
    if len(blocks) < 2:
        return a
    for block in blocks:
        if block.tag in ("h1", "h2", "h3", "h4", "h5", "h6") or _TITLE_NAMES.search(
            class_and_id(block)
        ):
            return block
    return blocks[0]


def _link_text(a: LexborNode) -> tuple[str, str | None, str | None]:
    """A link's text less the pieces that only mark the row (置顶, new, hot) or date it,
    the date such a piece held, and the link's whole text when that is all of it."""
    if not any(c.is_element_node for c in a.iter()):
        whole = a.text(deep=True, separator="")
        return squash(whole), None, whole
    parts: list[str] = []
    dates: list[str] = []
    title = _title_part(a).mem_id
    _link_pieces(a, title == a.mem_id, title, parts, dates)
    return squash("".join(parts)), dates[0] if dates else None, None


def _link_pieces(
    node: LexborNode, inside: bool, title: int, parts: list[str], dates: list[str]
) -> None:
    """The texts inside the title part, and the dates of pieces that only date the row.
    (A function of its own, not a closure calling itself: such a closure is a reference
    cycle that keeps the page's whole tree alive until the garbage collector runs.)"""
    for child in node.iter(include_text=True):
        if child.tag == "-text":
            if inside:
                parts.append(child.text(deep=False))
        elif child.is_element_node:
            whole = squash(child.text(deep=True, separator=""))
            if whole and is_badge(whole):
                continue
            date = find_date(whole) if whole and len(whole) <= 12 else None
            if date:
                dates.append(date)
                continue
            _link_pieces(child, inside or child.mem_id == title, title, parts, dates)


def _pieces_outside(row: LexborNode, link: LexborNode) -> list[str]:
    """The row's text pieces that are not in its link."""
    inside = {node.mem_id for node in link.traverse(include_text=True)}
    pieces = []
    for node in row.traverse(include_text=True):
        if node.tag == "-text" and node.mem_id not in inside:
            text = node.text(deep=False).strip()
            if text:
                pieces.append(text)
    return pieces


# A tooltip may add lines (发布时间：…) after the title, or label it (标题：).
_TITLE_LABEL = re.compile(r"^(?:标\s*题|文件名称|名\s*称)\s*[:：]\s*")


def _title_attribute(title: str, shown: str, shown_title: str) -> str:
    """The title a tooltip gives; `shown_title` when it is the link text `shown` again."""
    lines = title.strip().splitlines()
    if not lines:
        return ""
    titled = _TITLE_LABEL.sub("", squash(lines[0]))
    return shown_title if titled == shown else split_title(titled)[0]


def _whole(titled: str, text: str) -> bool:
    """Whether the title attribute is the whole of a link text cut short on screen
    (关于……的通…, 关于……的通知...), or the same text: not some other caption."""
    shown = compact(text).rstrip(".…")
    return bool(titled) and len(titled) >= len(shown) and compact(titled).startswith(shown)


class _Pick(NamedTuple):
    """The link a row is read from, so far, and what was read of it."""

    depth: int  # negated: a shallower link ranks higher
    length: int
    link: LexborNode
    title: str
    date: str | None
    short: tuple[int, int] | None
    href: str
    text: str  # the link's text, squashed
    whole: str | None  # the link's text as one string, when it holds nothing else


def read_row(node: LexborNode) -> Row | None:
    """One row: its shallowest, then longest, link is the notice; the date is the one
    printed outside the link, else the one written into the link text, else one printed
    in pieces (a date box: 2025-12 over 18) or without its year outside the link, else
    any date on the row."""
    best: _Pick | None = None
    links = find_tags(node, "a", "href")
    several = len(links) > 1
    for a in links:
        depth = -_depth(a, node) if several else 0
        if best is not None and depth < best.depth:
            continue  # deeper than the best link so far: it cannot win
        # `attrs` looks one attribute up; `attributes` would build a dict of them all.
        attributes = a.attrs
        raw, piece_date, whole = _link_text(a)
        text, text_date, text_short = split_title(raw)
        titled = _title_attribute(attributes.get("title") or "", raw, text)
        name = titled if _whole(titled, text) else text
        if len(name) < 4 or _MORE.match(name):
            continue
        rank = (depth, len(name))
        if best is not None and rank <= (best.depth, best.length):
            continue
        # Whether the link leads anywhere is asked last: only of a link that would win.
        href = attributes.get("href") or ""
        if is_fetchable(href):
            best = _Pick(
                depth, len(name), a, name, text_date or piece_date, text_short, href, raw, whole
            )
    if best is None:
        return None
    a, title, date, short, href = best.link, best.title, best.date, best.short, best.href
    row_text = squash(node.text(deep=True, separator=" "))
    # A link of one text reads the same whatever the separator: squashed once.
    spaced = a.text(deep=True, separator=" ")
    link_text = best.text if spaced == best.whole else squash(spaced)
    outside = row_text.replace(link_text, " ")
    date = find_date(outside) or date
    if date is None and short is None and may_hold_partial_date(outside):
        pieces = _pieces_outside(node, a)
        date = date_from_pieces(pieces)
        short = next((md for md in map(month_day, pieces) if md), None) if not date else None
    if date is None and short is None:
        date = find_date(row_text)
    return Row(title, href.strip(), date, short, node)


def item_from(node: LexborNode, base: str | None) -> ListingItem | None:
    """One row → item (a year-less date takes the year in the notice's URL). With no
    `base` the URL is left as written."""
    row = read_row(node)
    if row is None:
        return None
    date = row.date
    if date is None and row.month_day is not None:
        date = with_year(*row.month_day, urlsplit(row.href).path)
    return ListingItem(row.title, absolute(base, row.href) if base else row.href, date)
