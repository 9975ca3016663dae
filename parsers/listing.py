"""Listings: the repeated rows of links and dates that make a column page.

A listing is the container whose children most often hold one notice link and a
date; sibling containers of the same kind (sites split one list into several
<ul>) are read with it. Of several such lists the column's own wins over sidebar
boxes (最新发布, 热点, 相关): by its place, its heading, its pager and where its
links lead.

A row's date may be printed whole, inside the link text (`……的通知[2025-12-18]`), or
without its year (`11-20`): the year then comes from a year header above the rows
(`2026年`) or from the notice's URL (`/art/2026/11/20/…`, `/202611/t20261120_…`).
"""

from __future__ import annotations

import math
import re
from bisect import bisect_left
from dataclasses import dataclass, replace
from urllib.parse import urljoin, urlsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

from govwatch.parsers.column_weight import (
    aside_box,
    column_names,
    compact_text,
    named_aside,
    pager_like,
    weight,
)
from govwatch.parsers.html import Metas, absolute, class_and_id, find_tags, is_fetchable
from govwatch.parsers.records import ListingItem
from govwatch.parsers.rows import Row, read_row
from govwatch.parsers.text import (
    compact,
    date_count,
    find_date,
    has_compact_date,
    has_date,
    may_hold_partial_date,
    with_year,
)

_ROW_TAGS = ("li", "tr", "div", "dd", "dt", "dl", "p", "span", "td")
_CONTAINER_TAGS = ("ul", "ol", "tbody", "table", "div", "dl", "section", "td", "form", "article")
# The selector engine finds, in document order, the containers and their rows that hold a
# link (a row without one is no notice): one pass in C where Python walked every node.
_CONTAINERS = f":is({','.join(_CONTAINER_TAGS)})"
_LINKED_ROWS = f"{_CONTAINERS} > :is({','.join(_ROW_TAGS)}):has(a[href])"
_DIGIT = re.compile(r"\d")
_MIN_ITEMS = 5
_ROW_LINKS = 4
_ROW_DATES = 2
# A year header above a group of rows: 2026年, 2025, 2024年度.
_YEAR_HEADER = re.compile(r"^((?:19|20)\d{2})年?度?$")


@dataclass(frozen=True)
class Listing:
    items: tuple[ListingItem, ...]
    link_chars: int
    container: LexborNode


def links_base(tree: LexborHTMLParser, url: str | None) -> str | None:
    """What the page's links resolve against: its <base href>, else its own URL."""
    node = tree.css_first("base[href]")
    href = (node.attributes.get("href") or "").strip() if node is not None else ""
    if not href or not is_fetchable(href):
        return url
    return urljoin(url, href) if url else href


def _children(node: LexborNode) -> list[LexborNode]:
    return [c for c in node.iter() if c.tag in _ROW_TAGS]


def _signature(node: LexborNode) -> tuple[str | None, str]:
    """Tag and first class name: sections of one list share them."""
    classes = (node.attributes.get("class") or "").split()
    return node.tag, classes[0] if classes else ""


class _Years:
    """Year headers (2026年) in document order, read once and only when a row needs one."""

    def __init__(self, root: LexborNode) -> None:
        self.root = root
        self.order: dict[int, int] = {}
        self.headers: list[tuple[int, int]] = []  # (position, year)

    def _read(self) -> None:
        for i, node in enumerate(self.root.traverse()):
            self.order[node.mem_id] = i
            # A header holds its year as its own text; a link is no header.
            m = _YEAR_HEADER.match(compact(node.text(deep=False)))
            if m and node.tag != "a" and (node.parent is None or node.parent.tag != "a"):
                self.headers.append((i, int(m.group(1))))

    def above(self, row: LexborNode, scope: LexborNode) -> int | None:
        """The year of the nearest header above `row` inside `scope`."""
        if not self.order:
            self._read()
        at, start = self.order.get(row.mem_id), self.order.get(scope.mem_id)
        if at is None or start is None:
            return None
        i = bisect_left(self.headers, (at, 0)) - 1
        if i >= 0 and self.headers[i][0] > start:
            return self.headers[i][1]
        return None


def _scope(container: LexborNode) -> LexborNode:
    """Where a list's year headers sit: beside it or one level further out."""
    parent = container.parent or container
    return parent.parent if parent.parent is not None and parent.tag != "body" else parent


def _date_of(row: Row, container: LexborNode, years: _Years) -> str | None:
    if row.date is not None or row.month_day is None:
        return row.date
    year = years.above(row.node, _scope(container))
    if year is not None:
        return f"{year:04d}-{row.month_day[0]:02d}-{row.month_day[1]:02d}"
    return with_year(*row.month_day, urlsplit(row.href).path)


def _weigh(container: LexborNode, rows: list[Row], search: ListingSearch) -> float:
    return weight(
        container,
        rows,
        base=search.base,
        names=search.names(),
        text_of=search.compact_text,
        pager_like=search.pager_like,
        aside=search.in_aside,
    )


# Page furniture whose links are no notices, for lists without dates.
_FURNITURE_NAMES = re.compile(
    r"nav|menu|head|foot|top|banner|crumb|position|link|friend|yqlj|tool|share|search", re.I
)
_UNDATED_TITLE_CHARS = 8


def _furniture(container: LexborNode) -> bool:
    node: LexborNode | None = container
    while node is not None and node.tag != "body":
        if _FURNITURE_NAMES.search(class_and_id(node)) or node.tag in ("nav", "header", "footer"):
            return True
        node = node.parent
    return False


def _undated(search: ListingSearch) -> Listing | None:
    """A column that prints no dates: the list whose rows each hold one sentence-long link
    (nav menus and link boxes hold short names), away from the page's furniture."""
    base = search.base
    best: tuple[float, LexborNode, list[Row]] | None = None
    for container, children in search.lists():
        rows = [r for r in children if search.links(r) <= _ROW_LINKS]
        if len(rows) < 2:
            continue
        read = [row for row in map(search.read, rows) if row is not None]
        long = [row for row in read if len(row.title) >= _UNDATED_TITLE_CHARS]
        if len(long) < 2 or len(long) * 3 < len(rows) * 2 or _furniture(container):
            continue
        chars = sum(len(row.title) for row in long)
        score = chars * _weigh(container, long, search)
        if best is None or score > best[0]:
            best = (score, container, long)
    if best is None:
        return None
    _, container, found = best
    items = [ListingItem(row.title, absolute(base, row.href), None) for row in found]
    unique = list({it.url: it for it in items}.values())
    return Listing(tuple(unique), sum(len(compact(it.title)) for it in unique), container)


# Date columns of a 信息公开 table, the publication date first: 成文日期 is when a
# document was signed, 发布日期 when the site published it.
_DATE_COLUMNS = (
    "发布日期",
    "发布时间",
    "公开日期",
    "公开时间",
    "发文日期",
    "印发日期",
    "成文日期",
    "生成日期",
    "日期",
    "时间",
)


def _dated_by_column(container: LexborNode, rows: list[Row]) -> list[Row]:
    """Rows of a table dated by the column its header names (发布日期 over 成文日期)."""
    table = container if container.tag == "table" else container.parent
    header = None
    for tr in table.css("tr") if table is not None else ():
        if not find_tags(tr, "a", "href") and any(c.tag in ("td", "th") for c in tr.iter()):
            header = tr
            break
        if has_date(tr.text(deep=True)):
            break  # the rows have started: no header row
    if header is None:
        return rows
    labels = [compact(c.text(deep=True)) for c in header.iter() if c.tag in ("td", "th")]
    column = next(
        (i for name in _DATE_COLUMNS for i, label in enumerate(labels) if label == name), None
    )
    if column is None:
        return rows
    dated = []
    for row in rows:
        cells = [c for c in row.node.iter() if c.tag in ("td", "th")]
        date = find_date(cells[column].text(deep=True)) if column < len(cells) else None
        dated.append(replace(row, date=date, month_day=None) if date else row)
    return dated


def _may_be_row(text: str) -> bool:
    """A cheap test: the text shows a date, and no more dates than a row has (a block of
    dated links is a box, not a row)."""
    if not _DIGIT.search(text):
        return False  # every date, whole or in pieces, has a digit
    dates = date_count(text, enough=_ROW_DATES + 1)
    if dates:
        return dates <= _ROW_DATES
    # No separated date: has_date comes down to a compact one.
    return has_compact_date(text) or may_hold_partial_date(text)


class ListingSearch:
    """The lists of one page. A page may be searched twice (for a short list, then for one
    of five rows): the containers and their rows, each row's links, reading and date test
    are found once and serve both."""

    def __init__(self, tree: LexborHTMLParser, base: str | None, metas: Metas) -> None:
        self.tree = tree
        self.base = base
        self.metas = metas
        self._lists: list[tuple[LexborNode, list[LexborNode]]] | None = None
        self._rows: dict[int, Row | None] = {}
        self._links: dict[int, int] = {}
        self._may_be_rows: dict[int, list[LexborNode]] = {}
        self._read_all: dict[int, list[Row]] = {}
        self._by_text: dict[str, bool] = {}
        self._texts: dict[int, str] = {}
        self._pagers: dict[int, bool] = {}
        self._asides: dict[int, bool] = {}
        self._names: set[str] | None = None
        self._years: _Years | None = None

    def lists(self) -> list[tuple[LexborNode, list[LexborNode]]]:
        """Every container with rows that hold a link, in document order, with those rows."""
        if self._lists is None:
            root = self.tree.body
            self._lists = []
            if root is not None:
                rows: dict[int, list[LexborNode]] = {}
                for row in root.css(_LINKED_ROWS):
                    parent = row.parent
                    if parent is not None:
                        rows.setdefault(parent.mem_id, []).append(row)
                found = root.css(_CONTAINERS)
                self._lists = [(c, rows[c.mem_id]) for c in found if c.mem_id in rows]
        return self._lists

    def compact_text(self, node: LexborNode) -> str:
        key = node.mem_id
        known = self._texts.get(key)
        if known is None:
            known = self._texts[key] = compact_text(node)
        return known

    def pager_like(self, node: LexborNode) -> bool:
        key = node.mem_id
        known = self._pagers.get(key)
        if known is None:
            known = self._pagers[key] = pager_like(node, self.compact_text)
        return known

    def in_aside(self, node: LexborNode) -> bool:
        """`column_weight.in_aside`, each element asked once for the page: a page's lists
        share their ancestors."""
        path: list[int] = []
        found = False
        up: LexborNode | None = node
        while up is not None and up.tag not in ("body", "html"):
            known = self._asides.get(up.mem_id)
            if known is not None:
                found = known
                break
            path.append(up.mem_id)
            if named_aside(up):
                found = True
                break
            up = up.parent
        for key in path:
            self._asides[key] = found
        return found

    def links(self, node: LexborNode) -> int:
        """How many links a row holds."""
        key = node.mem_id
        known = self._links.get(key)
        if known is None:
            known = self._links[key] = len(find_tags(node, "a", "href"))
        return known

    def read(self, node: LexborNode) -> Row | None:
        key = node.mem_id
        if key not in self._rows:
            self._rows[key] = read_row(node)
        return self._rows[key]

    def may_be_rows(self, container: LexborNode, rows: list[LexborNode]) -> list[LexborNode]:
        """The container's rows that may be dated rows (`_may_be_row`)."""
        key = container.mem_id
        known = self._may_be_rows.get(key)
        if known is None:
            known = self._may_be_rows[key] = [row for row in rows if self._may_be_row(row)]
        return known

    def _may_be_row(self, node: LexborNode) -> bool:
        # A wrapper holding one element has that element's text: one test serves both.
        text = node.text(deep=True)
        known = self._by_text.get(text)
        if known is None:
            known = self._by_text[text] = _may_be_row(text)
        return known

    def read_all(self, container: LexborNode, rows: list[LexborNode]) -> list[Row]:
        """The container's rows as read (a table's dated by its date column)."""
        key = container.mem_id
        known = self._read_all.get(key)
        if known is None:
            known = [row for row in map(self.read, rows) if row is not None]
            if container.tag in ("table", "tbody"):
                known = _dated_by_column(container, known)
            self._read_all[key] = known
        return known

    def names(self) -> set[str]:
        if self._names is None:
            self._names = column_names(self.tree, self.metas)
        return self._names

    def years(self, root: LexborNode) -> _Years:
        if self._years is None:
            self._years = _Years(root)
        return self._years

    def find(
        self, min_items: int = _MIN_ITEMS, *, expected: bool = False, paged: bool = False
    ) -> Listing | None:
        """The page's list of notices, or None when no container holds `min_items` dated
        rows (fewer are enough on a page with a pager: the last page of a column). Rows
        dated without a year count when the year is known, or when the page is known to be
        a column: `expected` to be a listing, or `paged`. An expected listing with no
        dated rows at all is read as an undated list."""
        root = self.tree.body
        if root is None:
            return None
        return _find(self, root, min_items, expected, paged)


def _find(
    search: ListingSearch, root: LexborNode, min_items: int, expected: bool, paged: bool
) -> Listing | None:
    candidates: list[tuple[int, LexborNode, list[Row]]] = []
    base, years = search.base, search.years(root)
    column = expected or paged
    for container, children in search.lists():
        if len(children) < min_items:
            continue
        # Cheap filter before reading items: enough rows must show a date.
        rows = search.may_be_rows(container, children)
        if len(rows) < min_items:
            continue
        read = search.read_all(container, rows)
        dated = sum(
            1
            for row in read
            if row.date or (row.month_day and (column or _date_of(row, container, years)))
        )
        if dated >= min_items:
            candidates.append((dated, container, read))
    if not candidates:
        return _undated(search) if expected else None
    # Sections of one list (several <ul> of five under one parent) count together, so
    # they outweigh a longer sidebar list.
    groups: dict[tuple[int, tuple[str | None, str]], int] = {}
    for dated, container, _ in candidates:
        key = (container.parent.mem_id if container.parent else 0, _signature(container))
        groups[key] = groups.get(key, 0) + dated

    def score(candidate: tuple[int, LexborNode, list[Row]]) -> float:
        _, container, rows = candidate
        key = (container.parent.mem_id if container.parent else 0, _signature(container))
        # Length counts less than place: a column's short last page beside a long box.
        return math.sqrt(groups[key]) * _weigh(container, rows, search)

    _, container, read = max(candidates, key=score)
    if expected and aside_box(container, search.compact_text, search.in_aside):
        # The only dated list is a box beside the column: the column may print no dates.
        undated = _undated(search)
        undated_aside = undated is not None and aside_box(
            undated.container, search.compact_text, search.in_aside
        )
        if undated is not None and len(undated.items) >= 3 and not undated_aside:
            return undated
    merged = [(row, container) for row in read]
    parent = container.parent
    if parent is not None:
        known = {c.mem_id: found for _, c, found in candidates}
        signature = _signature(container)
        merged = []
        for sibling in parent.iter():
            if _signature(sibling) != signature:
                continue
            if sibling.mem_id in known:
                merged.extend((row, sibling) for row in known[sibling.mem_id])
                continue
            more = [row for row in map(search.read, _children(sibling)) if row]
            if more and sum(1 for row in more if row.date or row.month_day) * 2 >= len(more):
                merged.extend((row, sibling) for row in more)
    resolved = (
        ListingItem(row.title, absolute(base, row.href), _date_of(row, box, years))
        for row, box in merged
        if row.date or row.month_day or len(row.title) >= 6
    )
    unique = list({it.url: it for it in resolved}.values())
    link_chars = sum(len(compact(it.title)) for it in unique)
    return Listing(tuple(unique), link_chars, container)
