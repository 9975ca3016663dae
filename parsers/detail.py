"""A notice page → its record: title, body lines, 信息公开 metadata, attachments."""

from __future__ import annotations

from selectolax.lexbor import LexborHTMLParser, LexborNode

from govwatch.parsers.body import clean_body, same_text
from govwatch.parsers.content import Measures
from govwatch.parsers.html import Line, attachments_in, class_and_id
from govwatch.parsers.meta import WEAK, MetaBuilder, add_pairs, pairs_in_cells
from govwatch.parsers.records import Page
from govwatch.parsers.selectors import NEGATIVE_NAMES, Rules
from govwatch.parsers.text import squash_parts
from govwatch.parsers.title import find_title

EMPTY_CELL = "\u2205"


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
            if sibling.is_element_node and not NEGATIVE_NAMES.search(class_and_id(sibling)):
                scope.append(sibling)
            sibling = sibling.next
        anchor = anchor.parent
    return scope


def extract_detail(
    tree: LexborHTMLParser,
    url: str | None,
    rules: Rules,
    parser: str,
    content: LexborNode | None,
    measures: Measures,
) -> Page:
    title = find_title(tree, rules, content, measures.metas)
    inside = _body_lines(measures.lines(content)) if content is not None else []
    meta = MetaBuilder()
    before, after = _text_around(tree, content)
    add_pairs(meta, pairs_in_cells(before))
    add_pairs(meta, [p for p in pairs_in_cells(after) if p[0] not in WEAK])
    if meta.title and not same_text(meta.title, title) and len(meta.title) > 4:
        title = meta.title
    body = clean_body(inside, title, meta)
    if body and same_text(body[0], title):
        body = body[1:]
    for key, tags in (
        ("published_date", ("PubDate", "publishdate", "firstpublishedtime")),
        ("source", ("ContentSource",)),
    ):
        value = measures.metas.get(*tags)
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


def _body_lines(lines: list[Line]) -> list[str]:
    """The content's lines, less a bare list of file links trailing the text: those are
    attachments, not notice text, unless an "附件" line of the notice introduces them."""
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
        return squash_parts(whole), []
    return squash_parts(whole[:at]), squash_parts(whole[at + len(inner) :])
