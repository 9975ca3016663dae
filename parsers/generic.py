"""The generic extractor: title, body, 信息公开 metadata, attachments and listings of a
government page without a site rule.

`extract` is the engine every HTML parser runs, with its site's `Rules`: it prunes the
page, finds the body (`content`), decides whether the page is a notice or a column
(`classify`, `listing`), and reads the notice (`detail`, `title`) or the column's rows
and further pages (`listing`, `pagers`). What it looks for is data (`selectors`, and
the CMS families' containers and markers declared with their parsers).
"""

from __future__ import annotations

from selectolax.lexbor import LexborHTMLParser

from govwatch.parsers.classify import (
    LISTING_ROWS,
    column_page,
    covers,
    is_listing,
    quiet,
    rows_of_text,
    short,
)
from govwatch.parsers.content import Measures, find_content, mark_content, tighten
from govwatch.parsers.detail import extract_detail
from govwatch.parsers.html import parse_html
from govwatch.parsers.listing import ListingSearch, links_base
from govwatch.parsers.pagers import has_pager, next_page_links
from govwatch.parsers.records import Expect, ListingItem, Page
from govwatch.parsers.registry import register
from govwatch.parsers.selectors import GENERIC, Rules

# Content with this much text less links is a notice unless a dated list makes it.
_SURE_DETAIL_CHARS = 400


def extract(html: str, url: str | None, rules: Rules, parser: str, expect: Expect = None) -> Page:
    """Detail or listing: what the caller expects, else whichever the page is. A page
    expected to be a listing is one even with a single row, or none (an empty column)."""
    tree = parse_html(mark_content(html))
    for selector in rules.drop:
        for node in tree.css(selector):
            node.decompose()
    base = links_base(tree, url)
    measures = Measures(tree)
    lists = ListingSearch(tree, base, measures.metas)
    if expect == "listing":
        listing = lists.find(1, expected=True)
        return _listing_page(tree, html, url, base, parser, listing.items if listing else ())
    content, scored = find_content(tree, rules, measures)
    # Content with little running text, or many links, may be a list; wordy content
    # is a notice unless a dated list makes nearly all of it.
    total, links = measures.text_len(content) if content is not None else (0, 0)
    if expect is None and (total - links < _SURE_DETAIL_CHARS or links > total * 0.3):
        pager = has_pager(tree, html)
        listing = lists.find(1, paged=pager)
        # Without a pager a list needs five dated rows, or a page that is nothing else.
        if listing is not None and not pager and short(listing):
            is_quiet = quiet(content, measures) and column_page(tree, listing, measures.metas)
            listing = listing if is_quiet else lists.find(LISTING_ROWS)
        if listing is not None and is_listing(tree, content, listing, measures):
            return _listing_page(tree, html, url, base, parser, listing.items)
    elif expect is None and content is not None and rows_of_text(content):
        # Rows with a summary each make a list as wordy as a notice.
        pager = has_pager(tree, html)
        listing = lists.find(1 if pager else LISTING_ROWS, paged=pager)
        if listing is not None and covers(listing.container, content, total):
            return _listing_page(tree, html, url, base, parser, listing.items)
    if scored and content is not None:
        content = tighten(content, measures)
    return extract_detail(tree, url, rules, parser, content, measures)


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
