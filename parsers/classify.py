"""Notice or column page: whether a list found on a page is the page.

A page is a listing when its list is its content, or outweighs any running text on a
page that shows no notice's marks; a short list without a pager needs a quiet page.
"""

from __future__ import annotations

import re

from selectolax.lexbor import LexborHTMLParser, LexborNode

from govwatch.parsers.column_weight import aside_box
from govwatch.parsers.content import Measures
from govwatch.parsers.html import Metas, is_inside
from govwatch.parsers.listing import Listing
from govwatch.parsers.text import compact, date_count, is_chrome, without_dates

# What a notice page shows around its text and a column page does not.
# With their values: a search form's 发布时间：[ ] 至 [ ] or 来源：[ ] marks nothing.
_NOTICE_MARKS = re.compile(
    r"(?:发布时间|发布日期)\s*[:：]\s*(?:19|20)\d{2}"
    r"|(?:信息来源|来源)\s*[:：]\s*[^\s:：]{2,}(?:\s|$)"
    r"|(?:上一篇|下一篇)\s*[:：]"
)
_NOTICE_META = ("ArticleTitle", "PubDate")
# A list without a pager needs this many dated rows, unless the page is nothing else.
LISTING_ROWS = 5
_NO_RUNNING_TEXT = 20
# Wordy content is looked at as a list when it holds this many dates, and is one when
# a list makes this share of its text.
_SUMMARY_ROWS = 3
_LIST_SHARE = 0.7


def _running_chars(node: LexborNode, measures: Measures) -> int:
    """Characters of running text: lines that are no chrome (footers, toolbars), less
    link text and dates (a list's rows are no running text)."""
    lines = sum(
        len(compact(without_dates(line.text)))
        for line in measures.lines(node)
        if not is_chrome(line.text)
    )
    return max(0, lines - measures.text_len(node)[1])


def is_listing(
    tree: LexborHTMLParser, content: LexborNode | None, listing: Listing, measures: Measures
) -> bool:
    """A page is a listing when its list is its content, or outweighs any running text on
    a page that shows no notice's marks (a short notice beside a long related list)."""
    if content is None:
        return True
    if (
        content.mem_id == listing.container.mem_id
        or is_inside(listing.container, content)
        or is_inside(content, listing.container)
    ):
        return True
    return _running_chars(content, measures) < listing.link_chars and not _notice_marks(
        tree, listing, measures.metas
    )


def rows_of_text(content: LexborNode) -> bool:
    """Wordy content that may be a list of dated rows with summaries: dates enough."""
    return date_count(content.text(deep=True), enough=_SUMMARY_ROWS) >= _SUMMARY_ROWS


def covers(container: LexborNode, content: LexborNode, total: int) -> bool:
    """The list is (nearly) all of the content's text."""
    if not (
        container.mem_id == content.mem_id
        or is_inside(container, content)
        or is_inside(content, container)
    ):
        return False
    return len(compact(container.text(deep=True, separator=""))) >= _LIST_SHARE * total


def short(listing: Listing) -> bool:
    return sum(1 for item in listing.items if item.date) < LISTING_ROWS


def quiet(content: LexborNode | None, measures: Measures) -> bool:
    """No running text where the page's text concentrates: no notice on this page."""
    return content is None or _running_chars(content, measures) < _NO_RUNNING_TEXT


def _notice_marks(tree: LexborHTMLParser, listing: Listing, metas: Metas) -> bool:
    """Notice <meta> tags, or notice metadata (发布时间：, 来源：) or 上一篇/下一篇 outside
    the list."""
    if metas.get(*_NOTICE_META):
        return True
    body = tree.body
    outside = body.text(deep=True, separator="\n") if body is not None else ""
    outside = outside.replace(listing.container.text(deep=True, separator="\n"), "\n")
    return bool(_NOTICE_MARKS.search(outside))


def column_page(tree: LexborHTMLParser, listing: Listing, metas: Metas) -> bool:
    """A short list without a pager (a new column of one or two notices) on a quiet page
    is the page when it is no box beside a column and no notice's marks surround it."""
    return not aside_box(listing.container) and not _notice_marks(tree, listing, metas)
