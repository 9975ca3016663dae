"""Listings: the repeated rows of links and dates, and paging found only in JavaScript.

A listing is the container whose children most often hold one notice link and a
date; sibling containers of the same kind (sites split one list into several
<ul>) are read with it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urljoin

from selectolax.lexbor import LexborHTMLParser, LexborNode

from parsers.html import absolute, is_fetchable
from parsers.records import ListingItem
from parsers.text import compact, find_date, has_date, squash

_ROW_TAGS = {"li", "tr", "div", "dd", "dt", "dl", "p", "span", "td"}
# Links that lead to a column, not a notice.
_MORE = re.compile(r"^(?:更多|查看更多|more|MORE|More)\s*[>»›]*$")
_CONTAINER_TAGS = {"ul", "ol", "tbody", "table", "div", "dl", "section", "td", "form", "article"}
_MIN_ITEMS = 5


@dataclass(frozen=True)
class Listing:
    items: tuple[ListingItem, ...]
    link_chars: int
    container: LexborNode


def _depth(node: LexborNode, row: LexborNode) -> int:
    depth = 0
    parent = node.parent
    while parent is not None and parent.mem_id != row.mem_id:
        depth += 1
        parent = parent.parent
    return depth


def item_from(node: LexborNode, base: str | None) -> ListingItem | None:
    """One row → item: its shallowest, then longest, link is the notice; a date anywhere.
    With no `base` the URL is left as written (resolved later, for the rows kept)."""
    best: tuple[int, int, LexborNode, str] | None = None
    links = node.css("a[href]")
    for a in links:
        href = a.attributes.get("href") or ""
        if not is_fetchable(href):
            continue
        text = squash(a.text(deep=True, separator=""))
        titled = squash(a.attributes.get("title") or "")
        name = titled if len(titled) >= len(text.rstrip(".…")) else text
        if len(name) < 4 or _MORE.match(name):
            continue
        rank = (-_depth(a, node) if len(links) > 1 else 0, len(name))
        if best is None or rank > best[:2]:
            best = (rank[0], rank[1], a, name)
    if best is None:
        return None
    a, title = best[2], best[3]
    row_text = squash(node.text(deep=True, separator=" "))
    link_text = squash(a.text(deep=True, separator=" "))
    date = find_date(row_text.replace(link_text, " ")) or find_date(row_text)
    href = (a.attributes.get("href") or "").strip()
    return ListingItem(title=title, url=absolute(base, href) if base else href, date=date)


def _children(node: LexborNode) -> list[LexborNode]:
    return [c for c in node.iter() if c.tag in _ROW_TAGS]


def _signature(node: LexborNode) -> tuple[str | None, str]:
    """Tag and first class name: sections of one list share them."""
    classes = (node.attributes.get("class") or "").split()
    return node.tag, classes[0] if classes else ""


def find_listing(
    tree: LexborHTMLParser, base: str | None, min_items: int = _MIN_ITEMS
) -> Listing | None:
    """The page's list of notices, or None when no container holds `min_items` dated rows
    (fewer are enough on a page with a pager: the last page of a column)."""
    candidates: list[tuple[int, LexborNode, list[ListingItem]]] = []
    root = tree.body
    if root is None:
        return None
    for container in root.traverse():
        if container.tag not in _CONTAINER_TAGS:
            continue
        rows = _children(container)
        if len(rows) < min_items:
            continue
        # Cheap filter before reading items: enough rows must show a date and a link.
        rows = [r for r in rows if has_date(r.text(deep=True)) and r.css_first("a[href]")]
        if len(rows) < min_items:
            continue
        items = [it for it in (item_from(r, None) for r in rows) if it is not None]
        dated = sum(1 for it in items if it.date)
        if dated >= min_items:
            candidates.append((dated, container, items))
    if not candidates:
        return None
    # Sections of one list (several <ul> of five under one parent) count together, so
    # they outweigh a longer sidebar list.
    groups: dict[tuple[int, tuple[str | None, str]], int] = {}
    for dated, container, _ in candidates:
        key = (container.parent.mem_id if container.parent else 0, _signature(container))
        groups[key] = groups.get(key, 0) + dated
    _, container, items = max(
        candidates,
        key=lambda c: groups[(c[1].parent.mem_id if c[1].parent else 0, _signature(c[1]))],
    )
    merged = list(items)
    parent = container.parent
    if parent is not None:
        known = {c.mem_id: found for _, c, found in candidates}
        signature = _signature(container)
        merged = []
        for sibling in parent.iter():
            if _signature(sibling) != signature:
                continue
            if sibling.mem_id in known:
                merged.extend(known[sibling.mem_id])
                continue
            more = [it for it in (item_from(r, None) for r in _children(sibling)) if it]
            if more and sum(1 for it in more if it.date) * 2 >= len(more):
                merged.extend(more)
    resolved = (
        ListingItem(it.title, absolute(base, it.url), it.date)
        for it in merged
        if it.date or len(it.title) >= 6
    )
    unique = list({it.url: it for it in resolved}.values())
    link_chars = sum(len(compact(it.title)) for it in unique)
    return Listing(tuple(unique), link_chars, container)


_CREATE_PAGE = re.compile(r"createPageHTML\(\s*([^)]*?)\s*\)")
_ARG = re.compile(r"""\s*(?:"([^"]*)"|'([^']*)'|([^,]+?))\s*(?:,|$)""")


def _args(raw: str) -> list[str]:
    return [next(g for g in m.groups() if g is not None) for m in _ARG.finditer(raw) if m.group(0)]


# A page count comes from the page: never trust it with memory.
MAX_NEXT_PAGES = 500
# `var countPage = 3` and `var totalPage = 6, currentPage = 1`.
_JS_NUMBER = re.compile(r"(?:\bvar|\blet|\bconst|,)\s*(\w+)\s*=\s*(\d+)\b")
# A pager script that builds page URLs itself: "index_" + n + ".html", with the page
# count and the current page in variables.
_JS_TEMPLATE = re.compile(r"""["']([\w-]+_)["']\s*\+\s*\w+\s*\+\s*["'](\.s?html?)["']""")
_VARIABLES_BEFORE = 4000
_JS_TOTAL = ("totalPage", "pageCount", "countPage", "totalPages", "pageTotal", "pages")
_JS_CURRENT = ("currentPage", "curPage", "pageIndex", "pageNo", "nowPage", "page")


_SELECT = re.compile(r"<select\b[^>]*>(.*?)</select>", re.I | re.S)
_OPTION = re.compile(r"""<option\b([^>]*)>""", re.I)
_OPTION_VALUE = re.compile(r"""\bvalue\s*=\s*["']([^"']+\.s?html?)["']""", re.I)


def select_next_pages(html: str, base: str | None) -> list[str]:
    """A page-jump <select> (第2页 …): the option pages after the selected one."""
    if "<select" not in html and "<SELECT" not in html:
        return []
    out: list[str] = []
    for block in _SELECT.finditer(html):
        options = _OPTION.findall(block.group(1))
        values = [_OPTION_VALUE.search(o) for o in options]
        pages = [v.group(1) for v in values if v is not None]
        if len(pages) < 2 or len(pages) != len(options):
            continue  # not a pager: some option is no page
        current = next((i for i, o in enumerate(options) if "selected" in o.lower()), 0)
        for page in pages[current + 1 : current + 1 + MAX_NEXT_PAGES]:
            out.append(urljoin(base, page) if base else page)
    return out


def js_next_pages(script: str, base: str | None) -> list[str]:
    """Pages after the current one, from TRS `createPageHTML(...)` calls, or from a pager
    script that builds "index_" + n + ".html" itself (1-based n, count in a variable).

    Two forms: createPageHTML(pages, current_from_0, prefix, ext), where page k ≥ 1 is
    prefix_k.ext; and createPageHTML(container, pages, current_from_1, prefix, ext,
    records), where page n ≥ 2 is prefix_n.ext. Numbers may be given as variables
    (`var countPage = 3`), as the stock TRS template does.
    """
    calls = list(_CREATE_PAGE.finditer(script)) if "createPageHTML" in script else []
    template = _JS_TEMPLATE.search(script) if "_" in script else None
    if not calls and not template:
        return []
    # The variables a pager uses are declared just before it: read that stretch only.
    anchor = calls[0].start() if calls else template.start() if template else 0
    variables: dict[str, str] = {}
    for name, value in _JS_NUMBER.findall(script, max(0, anchor - _VARIABLES_BEFORE), anchor):
        variables.setdefault(name, value)
    out: list[str] = []
    if template and not calls:
        total = next((int(variables[v]) for v in _JS_TOTAL if v in variables), 0)
        current = next((int(variables[v]) for v in _JS_CURRENT if v in variables), 1)
        prefix, ext = template.groups()
        for n in range(current + 1, min(total, current + MAX_NEXT_PAGES) + 1):
            out.append(urljoin(base, f"{prefix}{n}{ext}") if base else f"{prefix}{n}{ext}")
    for m in calls:
        args = [variables.get(a.strip(), a.strip()) for a in _args(m.group(1))]
        try:
            if len(args) >= 4 and args[0].isdigit():
                pages, current, prefix, ext = int(args[0]), int(args[1]), args[2], args[3]
                numbers = range(current + 1, min(pages, current + 1 + MAX_NEXT_PAGES))
            elif len(args) >= 5 and args[1].isdigit():
                pages, current, prefix, ext = int(args[1]), int(args[2]), args[3], args[4]
                numbers = range(current + 1, min(pages, current + MAX_NEXT_PAGES) + 1)
            else:
                continue
        except ValueError:
            continue
        for k in numbers:
            name = f"{prefix}_{k}.{ext}"
            out.append(urljoin(base, name) if base else name)
    return out
