"""The generic extractor: title, body, 信息公开 metadata, attachments and listings of a
government page without a site rule.

The body is the element where notice-like text concentrates: every text block
scores by its length and Chinese punctuation, the score flows to its parent and
grandparent, and class/id names that speak of content or of chrome tilt it
(a readability-style scorer tuned for CJK). Well-known CMS containers
(.TRS_Editor, #zoom …) win outright when they hold text. Site parsers reuse this
engine with their own selectors through `Rules`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from selectolax.lexbor import LexborHTMLParser, LexborNode

from govwatch.parsers.body import clean_body, same_text
from govwatch.parsers.html import (
    ATTACHMENT_EXT,
    BLOCK,
    attachments_in,
    is_data_table,
    meta_tag,
    parse_html,
    walk_lines,
)
from govwatch.parsers.listing import Listing, aside_box, find_listing, links_base
from govwatch.parsers.meta import WEAK, MetaBuilder, add_pairs, pairs_in_cells, read_meta_line
from govwatch.parsers.pagers import has_pager, next_page_links
from govwatch.parsers.records import Expect, ListingItem, Page
from govwatch.parsers.registry import register
from govwatch.parsers.text import compact, date_count, is_chrome, squash, without_dates

# Containers the big CMS families put the notice body in.
CMS_CONTENT = (
    ".TRS_Editor",
    ".TRS_UEDITOR",
    "#UCAPCONTENT",
    "#zoom",
    "#Zoom",
    ".bt_content",
    ".article-content",
    ".wzzw-article",
    "#ivs_content",
    ".pages_content",
    "#fontzoom",
    "#BodyLabel",
    ".Custom_UnionStyle",
    "#js_content",
    ".xxgk_content",
    "#zoomcon",
)
_POSITIVE = re.compile(
    r"content|article|zoom|editor|zhengwen|detail|wenzhang|main|text|news_?con|con_?text|zw|nr",
    re.I,
)
_NEGATIVE = re.compile(
    r"comment|foot|nav|menu|share|side|related|xgwz|xgxx|link|copyright|banner|header|"
    r"top|crumb|position|location|weizhi|tool|pager|pagination|\bad\b|qr|ewm|code|"
    r"hidden|search|login|friend|bottom|dqwz|sxy|prev|next",
    re.I,
)
_SURE_DETAIL_CHARS = 400
_FURNITURE_MAX = 600
EMPTY_CELL = "\u2205"
_PUNCT = re.compile(r"[，。；、：！？,;]")
_TITLE_SPLIT = re.compile(r"\s*(?:[_|｜–—]|-{1,2}|\s-\s)\s*")
_TITLE_CLASS = re.compile(
    r"title|biaoti|bt\b|tit\b|headline|art_?tit|wzzw-title|article-title", re.I
)


# Comment and <meta> markers CMSs (Hanweb, TRS) put around the body for their RSS export.
_MARKERS = (
    (
        re.compile(r"<!--\s*ZJEG_RSS\.content\.begin\s*-->", re.I),
        re.compile(r"<!--\s*ZJEG_RSS\.content\.end\s*-->", re.I),
    ),
    (
        re.compile(r"<meta\s+name=[\"']?ContentStart[\"']?\s*/?>", re.I),
        re.compile(r"<meta\s+name=[\"']?ContentEnd[\"']?\s*/?>", re.I),
    ),
)
MARKED_ID = "govwatch-marked"


def _mark_content(html: str) -> str:
    """Wrap the marked body in one element the engine can select."""
    for begin, end in _MARKERS:
        b = begin.search(html)
        if b is None:
            continue
        e = end.search(html, b.end())
        if e is None:
            continue
        return (
            html[: b.end()]
            + '<div id="'
            + MARKED_ID
            + '">'
            + html[b.end() : e.start()]
            + "</div>"
            + html[e.start() :]
        )
    return html


@dataclass(frozen=True)
class Rules:
    """Site knowledge a site parser hands to the engine: CSS selectors, tried first."""

    content: tuple[str, ...] = ()
    title: tuple[str, ...] = ()
    drop: tuple[str, ...] = ()


GENERIC = Rules()


def _weight(node: LexborNode) -> float:
    """A factor from class/id names: they tilt a score, never make a small node win."""
    names = f"{node.attributes.get('class') or ''} {node.attributes.get('id') or ''}"
    if not names.strip():
        return 1.0
    weight = 1.0
    if _POSITIVE.search(names):
        weight *= 1.5
    if _NEGATIVE.search(names):
        weight *= 0.5
    return weight


def _block_of(node: LexborNode, tables: dict[int, bool]) -> LexborNode | None:
    """The block a text node belongs to: its nearest block ancestor, or the whole data
    table when it sits in a table cell."""
    block: LexborNode | None = None
    parent = node.parent
    while parent is not None and parent.tag not in ("body", "html"):
        tag = parent.tag
        if block is None and tag in BLOCK:
            block = parent
            if tag not in ("p", "td", "th", "span", "div", "font", "li"):
                break
        if tag == "table":
            known = tables.get(parent.mem_id)
            if known is None:
                known = tables[parent.mem_id] = is_data_table(parent)
            return parent if known else block
        parent = parent.parent
    return block


def _text_len(node: LexborNode) -> tuple[int, int]:
    """(visible text, link text) lengths without whitespace (link text approximately:
    each text node stripped, which is all a density needs)."""
    total = len(compact(node.text(deep=True, separator="")))
    links = sum(len(a.text(deep=True, separator="", strip=True)) for a in node.css("a"))
    return total, links


def score_content(root: LexborNode) -> LexborNode | None:
    """The element holding the page's main text, by readability-style scoring."""
    texts: dict[int, tuple[LexborNode, list[str]]] = {}
    tables: dict[int, bool] = {}
    block_of: dict[int, LexborNode | None] = {}  # by parent: siblings share their block
    for node in root.traverse(include_text=True):
        if not node.is_text_node or node.is_empty_text_node:
            continue
        text = node.text(deep=False).strip()
        if len(text) < 2:
            continue
        parent = node.parent
        if parent is None:
            continue
        key = parent.mem_id
        if key in block_of:
            block = block_of[key]
        else:
            block = block_of[key] = _block_of(node, tables)
        if block is None or block.tag in ("body", "html"):
            continue
        entry = texts.get(block.mem_id)
        if entry is None:
            texts[block.mem_id] = (block, [text])
        else:
            entry[1].append(text)
    blocks = []
    for block, parts in texts.values():
        joined = compact("".join(parts))
        blocks.append((block, len(joined), len(_PUNCT.findall(joined))))

    scores: dict[int, tuple[LexborNode, float]] = {}

    def add(node: LexborNode | None, value: float) -> None:
        if node is None or node.tag in ("body", "html", None):
            return
        prev = scores.get(node.mem_id)
        scores[node.mem_id] = (node, (prev[1] if prev else 0.0) + value)

    for block, length, punct in blocks:
        value = 1 + punct + min(length / 100, 3) if length >= 10 else length / 10
        if block.tag not in ("p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "dd", "dt"):
            add(block, value)
        parent = block.parent
        add(parent, value)
        add(parent.parent if parent is not None else None, value / 2)

    if not scores:
        return None
    ranked = sorted(scores.values(), key=lambda pair: pair[1], reverse=True)[:8]
    best: tuple[float, LexborNode] | None = None
    for node, raw in ranked:
        total, links = _text_len(node)
        density = links / total if total else 1.0
        final = raw * _weight(node) * (1 - density)
        if best is None or final > best[0]:
            best = (final, node)
    if best is None:
        return None
    return _with_parts(best[1], {mem: score for mem, (_, score) in scores.items()})


_PART = re.compile(r"^(.*?)[-_]?\d+$")


def _with_parts(node: LexborNode, scores: dict[int, float]) -> LexborNode:
    """A body split over numbered siblings (.content-part1, .content-part2, …) is their
    parent: the scorer alone would keep only the largest part."""
    classes = (node.attributes.get("class") or "").split()
    stem = _PART.match(classes[0]) if classes else None
    parent = node.parent
    if stem is None or parent is None or not stem.group(1):
        return node
    own = scores.get(node.mem_id, 0.0)
    for sibling in parent.iter():
        if sibling.mem_id == node.mem_id or sibling.tag != node.tag:
            continue
        other = (sibling.attributes.get("class") or "").split()
        match = _PART.match(other[0]) if other else None
        if match and match.group(1) == stem.group(1) and scores.get(sibling.mem_id, 0) > own / 5:
            return parent
    return node


def find_content(tree: LexborHTMLParser, rules: Rules) -> tuple[LexborNode | None, bool]:
    """The body element, and whether it was found by scoring rather than by selector
    (a scored pick is tightened once the page is known to be a notice)."""
    for selector in (*rules.content, f"#{MARKED_ID}", *CMS_CONTENT):
        nodes = tree.css(selector)
        if not nodes:
            continue
        node = max(nodes, key=lambda n: len(compact(n.text(deep=True, separator=""))))
        # "详见附件。" and a file link is a whole notice: any text or file link will do.
        if len(compact(node.text(deep=True, separator=""))) >= 2 or _file_links(node):
            return node, False
    body = tree.body
    return (score_content(body) if body is not None else None), True


def _file_links(node: LexborNode) -> bool:
    return any(ATTACHMENT_EXT.search(a.attributes.get("href") or "") for a in node.css("a[href]"))


def _furniture_only(node: LexborNode) -> bool:
    """Headings, metadata, chrome, attachment labels and file links: no notice text."""
    if node.tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
        return True
    if len(compact(node.text(deep=True, separator=""))) > _FURNITURE_MAX:
        return False  # title, info line and 信息公开 table never run this long
    for line in walk_lines(node):
        text = line.text
        if line.file_link or is_chrome(text) or text.startswith("附件"):
            continue
        if read_meta_line(text, header=True) is None:
            return False
    return True


def _tighten(node: LexborNode) -> LexborNode:
    """Descend into the one child holding notice text while its siblings are only the
    title, the info line, toolbars and file lists: a scorer favours the wrappers of
    short notices, and those siblings are no part of the body."""
    while True:
        texts = [
            c for c in node.iter() if c.is_element_node and compact(c.text(deep=True, separator=""))
        ]
        if len(texts) < 2:
            return node
        main = [c for c in texts if not _furniture_only(c)]
        if len(main) != 1 or main[0].tag in ("p", "table", "tbody", "tr", "li"):
            return node
        node = main[0]


def _common_len(a: str, b: str) -> int:
    """Length of the longest common substring (titles are short: quadratic is fine)."""
    best = 0
    prev = [0] * (len(b) + 1)
    for ch in a:
        cur = [0] * (len(b) + 1)
        for j, other in enumerate(b, 1):
            if ch == other:
                cur[j] = prev[j - 1] + 1
                best = max(best, cur[j])
        prev = cur
    return best


def find_title(tree: LexborHTMLParser, rules: Rules, content: LexborNode | None) -> str:
    for selector in rules.title:
        node = tree.css_first(selector)
        if node is not None and squash(node.text()):
            return squash(node.text())
    article_title = meta_tag(tree, "ArticleTitle", "dc.title")
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
    selector = (
        "h1, h2, h3, h4, [class*=title], [class*=Title], [id*=title], [class*=bt], [class*=tit]"
    )
    for node in tree.css(selector):
        text = squash(node.text(deep=True, separator=""))
        if not 4 <= len(text) <= 150:
            continue
        if node.css_first("a") is not None and len(node.css("a")) > 1:
            continue
        names = f"{node.attributes.get('class') or ''} {node.attributes.get('id') or ''}"
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
        if _TITLE_CLASS.search(names):
            score += 2
        if _NEGATIVE.search(names):
            score -= 3
        at = order.get(node.mem_id, 0)
        if at > content_at and content is not None and not _inside(node, content):
            score -= 6
        if best is None or score > best[0]:
            best = (score, text)
    if best is not None and best[0] >= 5:
        return best[1]
    parts = [p for p in _TITLE_SPLIT.split(head_title) if p]
    return max(parts, key=len) if parts else ""


def _inside(node: LexborNode, ancestor: LexborNode) -> bool:
    parent = node.parent
    while parent is not None:
        if parent.mem_id == ancestor.mem_id:
            return True
        parent = parent.parent
    return False


def _attachment_scope(content: LexborNode) -> list[LexborNode]:
    """The content and what follows it up to three levels out (an attachment block is
    a sibling of the body, of its cell, or of its table row), chrome blocks excluded."""
    scope = [content]
    anchor: LexborNode | None = content
    for _ in range(3):
        if anchor is None or anchor.tag in ("body", "html"):
            break
        sibling = anchor.next
        while sibling is not None:
            names = f"{sibling.attributes.get('class') or ''} {sibling.attributes.get('id') or ''}"
            if sibling.is_element_node and not _NEGATIVE.search(names):
                scope.append(sibling)
            sibling = sibling.next
        anchor = anchor.parent
    return scope


def extract_detail(
    tree: LexborHTMLParser, url: str | None, rules: Rules, parser: str, content: LexborNode | None
) -> Page:
    title = find_title(tree, rules, content)
    inside = _body_lines(content) if content is not None else []
    meta = MetaBuilder()
    before, after = _text_around(tree, content)
    add_pairs(meta, pairs_in_cells(before))
    add_pairs(meta, [p for p in pairs_in_cells(after) if p[0] not in WEAK])
    if meta.title and not same_text(meta.title, title) and len(meta.title) > 4:
        title = meta.title
    body = clean_body(inside, title, meta)
    if body and same_text(body[0], title):
        body = body[1:]
    for key, names in (
        ("published_date", ("PubDate", "publishdate", "firstpublishedtime")),
        ("source", ("ContentSource",)),
    ):
        value = meta_tag(tree, *names)
        if value:
            meta.add(key, value)
    attachments = attachments_in(_attachment_scope(content), url) if content is not None else ()
    return Page(
        kind="detail",
        parser=parser,
        url=url,
        title=title,
        body="\n".join(body),
        meta=meta.meta(),
        attachments=attachments,
    )


def _body_lines(content: LexborNode) -> list[str]:
    """The content's lines, less a bare list of file links trailing the text: those are
    attachments, not notice text, unless an "附件" line of the notice introduces them."""
    lines = walk_lines(content)
    end = len(lines)
    while end and lines[end - 1].file_link:
        end -= 1
    if end < len(lines) and not (end and lines[end - 1].text.startswith("附件")):
        lines = lines[:end]
    return [line.text for line in lines]


def _text_around(tree: LexborHTMLParser, content: LexborNode | None) -> tuple[list[str], list[str]]:
    """The page's text nodes before and after the content, for metadata outside it.

    Text nodes, not lines: a label and its value sit in neighbouring cells or spans,
    and lexbor hands out all text nodes of the page in one call. Marks empty cells in
    the tree, so it runs after the body has been read.
    """
    body = tree.body
    if body is None:
        return [], []
    # An empty cell must stay a cell, or the label before it takes the next cell's text.
    for cell in body.css("td, th, dd"):
        if not cell.text(deep=True).strip():
            cell.insert_child(EMPTY_CELL)
    sep = "\x00"
    whole = body.text(deep=True, separator=sep)
    inner = content.text(deep=True, separator=sep) if content is not None else ""
    at = whole.find(inner) if inner else -1
    if at < 0:
        return _tokens(whole), []
    return _tokens(whole[:at]), _tokens(whole[at + len(inner) :])


def _tokens(text: str) -> list[str]:
    return [squash(part) for part in text.split("\x00") if part and not part.isspace()]


def _running_chars(node: LexborNode) -> int:
    """Characters of running text: lines that are no chrome (footers, toolbars), less
    link text and dates (a list's rows are no running text)."""
    lines = sum(
        len(compact(without_dates(line.text)))
        for line in walk_lines(node)
        if not is_chrome(line.text)
    )
    return max(0, lines - _text_len(node)[1])


def _is_listing(tree: LexborHTMLParser, content: LexborNode | None, listing: Listing) -> bool:
    """A page is a listing when its list is its content, or outweighs any running text on
    a page that shows no notice's marks (a short notice beside a long related list)."""
    if content is None:
        return True
    if (
        content.mem_id == listing.container.mem_id
        or _inside(listing.container, content)
        or _inside(content, listing.container)
    ):
        return True
    return _running_chars(content) < listing.link_chars and not _notice_marks(tree, listing)


# What a notice page shows around its text and a column page does not.
# With their values: a search form's 发布时间：[ ] 至 [ ] or 来源：[ ] marks nothing.
_NOTICE_MARKS = re.compile(
    r"(?:发布时间|发布日期)\s*[:：]\s*(?:19|20)\d{2}"
    r"|(?:信息来源|来源)\s*[:：]\s*[^\s:：]{2,}(?:\s|$)"
    r"|(?:上一篇|下一篇)\s*[:：]"
)
_NOTICE_META = ("ArticleTitle", "PubDate")
# A list without a pager needs this many dated rows, unless the page is nothing else.
_LISTING_ROWS = 5
_NO_RUNNING_TEXT = 20
# Wordy content is looked at as a list when it holds this many dates, and is one when
# a list makes this share of its text.
_SUMMARY_ROWS = 3
_LIST_SHARE = 0.7


def _rows_of_text(content: LexborNode) -> bool:
    """Wordy content that may be a list of dated rows with summaries: dates enough."""
    return date_count(content.text(deep=True)) >= _SUMMARY_ROWS


def _covers(container: LexborNode, content: LexborNode, total: int) -> bool:
    """The list is (nearly) all of the content's text."""
    if not (
        container.mem_id == content.mem_id
        or _inside(container, content)
        or _inside(content, container)
    ):
        return False
    return len(compact(container.text(deep=True, separator=""))) >= _LIST_SHARE * total


def _short(listing: Listing) -> bool:
    return sum(1 for item in listing.items if item.date) < _LISTING_ROWS


def _quiet(content: LexborNode | None) -> bool:
    """No running text where the page's text concentrates: no notice on this page."""
    return content is None or _running_chars(content) < _NO_RUNNING_TEXT


def _notice_marks(tree: LexborHTMLParser, listing: Listing) -> bool:
    """Notice <meta> tags, or notice metadata (发布时间：, 来源：) or 上一篇/下一篇 outside
    the list."""
    if meta_tag(tree, *_NOTICE_META):
        return True
    body = tree.body
    outside = body.text(deep=True, separator="\n") if body is not None else ""
    outside = outside.replace(listing.container.text(deep=True, separator="\n"), "\n")
    return bool(_NOTICE_MARKS.search(outside))


def _column_page(tree: LexborHTMLParser, listing: Listing) -> bool:
    """A short list without a pager (a new column of one or two notices) on a quiet page
    is the page when it is no box beside a column and no notice's marks surround it."""
    return not aside_box(listing.container) and not _notice_marks(tree, listing)


def extract(html: str, url: str | None, rules: Rules, parser: str, expect: Expect = None) -> Page:
    """Detail or listing: what the caller expects, else whichever the page is. A page
    expected to be a listing is one even with a single row, or none (an empty column)."""
    tree = parse_html(_mark_content(html))
    for selector in rules.drop:
        for node in tree.css(selector):
            node.decompose()
    base = links_base(tree, url)
    if expect == "listing":
        listing = find_listing(tree, base, 1, expected=True)
        return _listing_page(tree, html, url, base, parser, listing.items if listing else ())
    content, scored = find_content(tree, rules)
    # Content with little running text, or many links, may be a list; wordy content
    # is a notice unless a dated list makes nearly all of it.
    total, links = _text_len(content) if content is not None else (0, 0)
    if expect is None and (total - links < _SURE_DETAIL_CHARS or links > total * 0.3):
        pager = has_pager(tree, html)
        listing = find_listing(tree, base, 1, paged=pager)
        # Without a pager a list needs five dated rows, or a page that is nothing else.
        if listing is not None and not pager and _short(listing):
            quiet = _quiet(content) and _column_page(tree, listing)
            listing = listing if quiet else find_listing(tree, base, _LISTING_ROWS)
        if listing is not None and _is_listing(tree, content, listing):
            return _listing_page(tree, html, url, base, parser, listing.items)
    elif expect is None and content is not None and _rows_of_text(content):
        # Rows with a summary each make a list as wordy as a notice.
        pager = has_pager(tree, html)
        listing = find_listing(tree, base, 1 if pager else _LISTING_ROWS, paged=pager)
        if listing is not None and _covers(listing.container, content, total):
            return _listing_page(tree, html, url, base, parser, listing.items)
    if scored and content is not None:
        content = _tighten(content)
    return extract_detail(tree, url, rules, parser, content)


def _listing_page(
    tree: LexborHTMLParser,
    html: str,
    url: str | None,
    base: str | None,
    parser: str,
    items: tuple[ListingItem, ...],
) -> Page:
    return Page(
        kind="listing",
        parser=parser,
        url=url,
        items=items,
        next_pages=tuple(next_page_links(tree, html, base, page=url)),
    )


@register("generic")
def parse(html: str, url: str | None, expect: Expect = None) -> Page:
    return extract(html, url, GENERIC, "generic", expect)
