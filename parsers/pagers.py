"""Pagers: the further pages of a listing, from page links, page-jump <select>s and
paging scripts (TRS createPageHTML, layui laypage, hand-written "index_" + n + ".html").

Every reader gives the pages after the current one, in page order, as absolute URLs
when a base URL is known.
"""

from __future__ import annotations

import math
import re
from urllib.parse import urljoin

from selectolax.lexbor import LexborHTMLParser, LexborNode

from govwatch.parsers.html import absolute, is_fetchable
from govwatch.parsers.text import compact

# A page count comes from the page: never trust it with memory.
MAX_NEXT_PAGES = 500

# Every pager word ends in 页, and so does a page count: a page's text is read around its
# 页 only (whitespace aside, as `compact` drops it), not compacted or searched whole.
_PAGER_WORDS = {"上一页", "下一页", "首页", "尾页", "末页", "上页", "下页", "前一页", "后一页"}


def _paging_script(html: str) -> bool:
    """TRS createPageHTML / createPageNav or layui laypage (one scan for both TRS names)."""
    if "createPage" in html and ("createPageHTML(" in html or "createPageNav(" in html):
        return True
    return "laypage.render(" in html


def _shown_before(text: str, end: int, count: int) -> str:
    """The last `count` characters before `end` that are no whitespace."""
    chars: list[str] = []
    i = end - 1
    while i >= 0 and len(chars) < count:
        if not text[i].isspace():
            chars.append(text[i])
        i -= 1
    return "".join(reversed(chars))


def _page_count_at(text: str, end: int) -> bool:
    """共5页, 当前第3/3页, 1/4页 (共 or /, a number, maybe spaced) just before `end`: a
    pager's own count, even with every link gone."""
    i = end - 1
    while i >= 0 and text[i].isspace():
        i -= 1
    digits = i
    while i >= 0 and text[i].isdecimal():
        i -= 1
    if i == digits:
        return False
    while i >= 0 and text[i].isspace():
        i -= 1
    return i >= 0 and text[i] in "共/"


def _pager_text(text: str) -> tuple[set[str], bool]:
    """The pager words a page's text shows, and whether it shows a page count."""
    words: set[str] = set()
    counted = False
    at = text.find("页")
    while at != -1:
        shown = _shown_before(text, at, 2)
        words.update(word for word in _PAGER_WORDS if shown.endswith(word[:-1]))
        counted = counted or _page_count_at(text, at)
        at = text.find("页", at + 1)
    return words, counted


def has_pager(tree: LexborHTMLParser, html: str) -> bool:
    """A column pager (not 上一篇/下一篇): page links, a page count, or a paging script."""
    if _paging_script(html):
        return True
    body = tree.body
    words, counted = _pager_text(body.text(deep=True)) if body is not None else (set(), False)
    # A link's words are words of the page's text: without two of the pager's words in
    # it, no two links can be them, and the page's links need not be read.
    if body is None or len(words) >= 2:
        texts = (a.text(deep=True, separator="") for a in tree.css("a"))
        linked = {compact(t) for t in texts if "页" in t}
        if len(linked & _PAGER_WORDS) >= 2:
            return True
    return counted


# --- page links -----------------------------------------------------------

_NEXT_WORDS = set("下一页 下页 后页 下一页> 下一页>> > >> » › next Next".split())
_LAST_WORDS = set("尾页 末页 最后一页 尾页>> 末页>>".split())
# The page number is a URL's last number: index_3.html, list/3.shtml, ?pageNum=3.
_NUMBERED_URL = re.compile(r"^(.*[_/=-])(\d+)(\.s?html?|\.jsp|\.aspx?|\.php|)$")
_CURRENT = re.compile(r"cur|active|on\b|select|now", re.I)


def _later_numbered(pager: LexborNode, url: str | None) -> list[str]:
    """Page-number links of a pager that come after the current page (shown unlinked or
    marked current), in page order: the crawler can then go on past one 下一页."""
    numbered: list[tuple[int, str]] = []
    current = 1
    for node in pager.iter():
        text = compact(node.text(deep=True, separator=""))
        if not text.isdigit():
            continue
        href = node.attributes.get("href") or "" if node.tag == "a" else ""
        marked = _CURRENT.search(node.attributes.get("class") or "")
        if node.tag != "a" or marked or not is_fetchable(href):
            current = int(text)
        else:
            numbered.append((int(text), absolute(url, href)))
    return [link for number, link in sorted(numbered) if number > current]


def _fill_range(first: str, last: str) -> list[str]:
    """index_1.html … index_4.html (or ?page=2 … ?page=4) between a 下一页 and a 尾页
    link of one numbering."""
    a, b = _NUMBERED_URL.match(first), _NUMBERED_URL.match(last)
    if not a or not b or (a.group(1), a.group(3)) != (b.group(1), b.group(3)):
        return []
    lo, hi = int(a.group(2)), int(b.group(2))
    if not 0 < hi - lo <= 1000:
        return []
    return [f"{a.group(1)}{n}{a.group(3)}" for n in range(lo, hi + 1)]


def next_page_links(
    tree: LexborHTMLParser, html: str, url: str | None, *, page: str | None = None
) -> list[str]:
    """下一页 links, the later page numbers of their pager (up to its 尾页), and pages
    named only in JavaScript paging calls or page-jump <select>s; resolved against `url`,
    never `page` itself (the page's own URL, when links resolve against a <base>)."""
    found: list[str] = []
    nexts: list[str] = []
    lasts: list[str] = []
    for a in tree.css("a[href]"):
        word = compact(a.text(deep=True, separator=""))
        if word not in _NEXT_WORDS and word not in _LAST_WORDS:
            continue
        href = a.attributes.get("href") or ""
        if not is_fetchable(href):
            continue
        if word in _LAST_WORDS:
            lasts.append(absolute(url, href))
        if word not in _NEXT_WORDS:
            continue
        nexts.append(absolute(url, href))
        found.append(nexts[-1])
        if a.parent is not None:
            found.extend(_later_numbered(a.parent, url))
    if nexts and lasts:
        found.extend(_fill_range(nexts[0], lasts[0]))
    found.extend(js_next_pages(html, url))
    found.extend(select_next_pages(html, url))
    return list(dict.fromkeys(u for u in found if u not in (url, page)))


# --- page-jump <select> ---------------------------------------------------

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


# --- paging scripts -------------------------------------------------------

_CREATE_PAGE = re.compile(r"createPageHTML\(\s*([^)]*?)\s*\)")
_ARG = re.compile(r"""\s*(?:"([^"]*)"|'([^']*)'|([^,]+?))\s*(?:,|$)""")
# `var countPage = 3`, `totalPage = 6, currentPage = 1`, and object literals such as
# laypage's `{count: 87, limit: 15, curr: 1}`. Each keyword's \b follows its first letter
# (the same test) so that the regex engine skips ahead to the letters that may start one.
_JS_NUMBER = re.compile(
    r"""(?:v(?<!\w.)ar|l(?<!\w.)et|c(?<!\w.)onst|[,{;])\s*["']?(\w+)["']?\s*[:=]\s*["']?(\d+)\b"""
)
# A script that builds page URLs itself: "index_" + n + ".html", 'list-' + (page - 1) +
# '.shtml', 'index_' + obj.curr + '.html'; the page number may carry an offset.
_JS_TEMPLATE = re.compile(
    r"""["']([\w./-]*[_-])["']\s*\+\s*\(?\s*[A-Za-z_$][\w$.]*\s*(?:([+-])\s*(\d)\s*)?\)?"""
    r"""\s*\+\s*["'](\.s?html?)["']"""
)
# The same with the page number as the last query value: 'list.html?page=' + obj.curr.
_JS_QUERY_TEMPLATE = re.compile(
    r"""["']([\w./-]*\?(?:[\w-]+=[\w-]*&)*(?:[\w-]*page[\w-]*|pn|p|pg|curr?)=)["']"""
    r"""\s*\+\s*\(?\s*[A-Za-z_$][\w$.]*\s*(?:([+-])\s*(\d)\s*)?\)?\s*(?![+\w])""",
    re.I,
)
# What the templates above cannot match without: a quoted extension, a quoted "=" joined.
_TEMPLATE_ENDS = ("'.htm", '".htm', "'.shtm", '".shtm')
_QUERY_JOIN = re.compile(r"""=["']\s*\+""")
_VARIABLES_BEFORE = 4000
# Names pager scripts give their numbers, compared in lower case.
_JS_PAGES = (
    "totalpage",
    "pagecount",
    "countpage",
    "totalpages",
    "pagetotal",
    "allpage",
    "maxpage",
    "page_count",
    "total_page",
    "pages",
)
_JS_RECORDS = (
    "count",
    "totalrecord",
    "totalcount",
    "recordcount",
    "totalrecords",
    "total_record",
    "total",
)
_JS_PER_PAGE = ("limit", "pagesize", "perpage", "page_size", "rows")
_JS_CURRENT = (
    "currentpage",
    "curpage",
    "currpage",
    "pageindex",
    "pageno",
    "nowpage",
    "curr",
    "page",
)


def _args(raw: str) -> list[str]:
    return [next(g for g in m.groups() if g is not None) for m in _ARG.finditer(raw) if m.group(0)]


def _page_count(variables: dict[str, str]) -> int:
    """The page count a paging script states, or works out as records / page size."""
    pages = next((int(variables[v]) for v in _JS_PAGES if v in variables), 0)
    if pages:
        return pages
    records = next((int(variables[v]) for v in _JS_RECORDS if v in variables), 0)
    per_page = next((int(variables[v]) for v in _JS_PER_PAGE if v in variables), 0)
    return math.ceil(records / per_page) if records and per_page else 0


def _variables(script: str, anchor: int) -> dict[str, str]:
    """Numbers a pager reads, declared just before it (the nearest declaration wins)."""
    variables: dict[str, str] = {}
    found = _JS_NUMBER.findall(script, max(0, anchor - _VARIABLES_BEFORE), anchor)
    for name, value in reversed(found):
        variables.setdefault(name.lower(), value)
    return variables


def js_next_pages(script: str, base: str | None) -> list[str]:
    """Pages after the current one, from TRS `createPageHTML(...)` calls, or from a pager
    script that builds "prefix_" + n + ".html" itself (count in a variable or a config
    object, such as layui's `laypage.render({count, limit, curr, jump})`).

    Two createPageHTML forms: createPageHTML(pages, current_from_0, prefix, ext), where
    page k ≥ 1 is prefix_k.ext; and createPageHTML(container, pages, current_from_1,
    prefix, ext, records), where page n ≥ 2 is prefix_n.ext. Numbers may be given as
    variables (`var countPage = 3`), as the stock TRS template does.
    """
    calls = list(_CREATE_PAGE.finditer(script)) if "createPageHTML" in script else []
    template = None
    if "+" in script:
        # Each template needs a piece a page without one seldom holds: first look for that
        # (fast), then run the costly search over the whole page.
        if any(end in script for end in _TEMPLATE_ENDS):
            template = _JS_TEMPLATE.search(script)
        if template is None and _QUERY_JOIN.search(script):
            template = _JS_QUERY_TEMPLATE.search(script)
    if not calls and not template:
        return []
    anchor = calls[0].start() if calls else template.start() if template else 0
    variables = _variables(script, anchor)

    def resolve(name: str) -> str:
        return urljoin(base, name) if base else name

    out: list[str] = []
    if template and not calls:
        total = _page_count(variables)
        current = next((int(variables[v]) for v in _JS_CURRENT if v in variables), 1)
        prefix, sign, step, *rest = template.groups()
        ext = rest[0] if rest else ""
        offset = int(step or 0) * (-1 if sign == "-" else 1)
        for n in range(current + 1, min(total, current + MAX_NEXT_PAGES) + 1):
            out.append(resolve(f"{prefix}{n + offset}{ext}"))
    for m in calls:
        args = [variables.get(a.strip().lower(), a.strip()) for a in _args(m.group(1))]
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
        out.extend(resolve(f"{prefix}_{k}.{ext}") for k in numbers)
    return out
