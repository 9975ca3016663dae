"""Where a page's body is: a site's or a CMS's container, else a readability-style scorer.

Every text block scores by its length and Chinese punctuation, the score flows to its
parent and grandparent, and class/id names that speak of content or of chrome tilt it
(a readability-style scorer tuned for CJK). Well-known CMS containers (.TRS_Editor,
#zoom …) win outright when they hold text.
"""

from __future__ import annotations

import re

from selectolax.lexbor import LexborHTMLParser, LexborNode

from govwatch.parsers import registry
from govwatch.parsers.html import (
    ATTACHMENT_EXT,
    BLOCK,
    Line,
    Metas,
    class_and_id,
    data_tables,
    walk_lines,
)
from govwatch.parsers.meta import read_meta_line
from govwatch.parsers.selectors import (
    MARKED_ID,
    NEGATIVE_NAMES,
    POSITIVE_NAMES,
    PUNCT,
    SHARED_CONTAINERS,
    Rules,
)
from govwatch.parsers.text import compact, is_chrome

_FURNITURE_MAX = 600


def mark_content(html: str) -> str:
    """Wrap a body a CMS marked (for its RSS export) in one element the engine can select."""
    for marker in registry.family_markers():
        if marker.needle not in html:
            continue
        b = marker.begin.search(html)
        if b is None:
            continue
        e = marker.end.search(html, b.end())
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


def _weight(node: LexborNode) -> float:
    """A factor from class/id names: they tilt a score, never make a small node win."""
    found = class_and_id(node)
    if not found.strip():
        return 1.0
    weight = 1.0
    if POSITIVE_NAMES.search(found):
        weight *= 1.5
    if NEGATIVE_NAMES.search(found):
        weight *= 0.5
    return weight


# A text's block may be one of these and still lie in a data table, which then is its block.
_OPEN_BLOCKS = ("p", "td", "th", "span", "div", "font", "li")


def _block_of(parent: LexborNode | None, in_table: dict[int, LexborNode]) -> LexborNode | None:
    """The block a text node under `parent` belongs to: its nearest block ancestor, or the
    whole data table when it sits in a table cell (`in_table`: html.data_tables); None
    above the first block (never body or html, which take no score)."""
    while parent is not None:
        tag = parent.tag
        if tag in ("body", "html"):
            return None
        if tag in BLOCK:
            if tag not in _OPEN_BLOCKS:
                return parent
            return in_table.get(parent.mem_id, parent)
        parent = parent.parent
    return None


def link_len(node: LexborNode, lengths: dict[int, int]) -> int:
    """The length of the element's link text without whitespace (approximately: each text
    node stripped, which is all a density needs). `lengths` keeps each link's length for
    the next element measured: the candidates of a page nest, and share links."""
    links = 0
    for a in node.css("a"):
        key = a.mem_id
        length = lengths.get(key)
        if length is None:
            length = lengths[key] = len(a.text(deep=True, separator="", strip=True))
        links += length
    return links


class Measures:
    """Lines and text lengths of elements of one page, each measured once: the engine, the
    classifier and the detail reader look at the same content element; and its <meta>
    tags, read once."""

    def __init__(self, tree: LexborHTMLParser) -> None:
        self.metas = Metas(tree)
        self._lines: dict[int, list[Line]] = {}
        self._chars: dict[int, int] = {}
        self._lengths: dict[int, tuple[int, int]] = {}
        self._link_len: dict[int, int] = {}

    def lines(self, node: LexborNode) -> list[Line]:
        key = node.mem_id
        found = self._lines.get(key)
        if found is None:
            found = self._lines[key] = walk_lines(node, self._lines)
        return found

    def chars(self, node: LexborNode) -> int:
        """The length of the element's text without whitespace."""
        key = node.mem_id
        found = self._chars.get(key)
        if found is None:
            found = self._chars[key] = len(compact(node.text(deep=True, separator="")))
        return found

    def text_len(self, node: LexborNode) -> tuple[int, int]:
        key = node.mem_id
        found = self._lengths.get(key)
        if found is None:
            found = self._lengths[key] = (self.chars(node), link_len(node, self._link_len))
        return found


# Blocks whose score goes to their parent and grandparent only; elements that take none.
_SELF_SCORED = {"p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "dd", "dt"}
_UNSCORED = {"body", "html", None}


def _scored(node: LexborNode, key: int) -> tuple[LexborNode, int] | None:
    """The node and its key, when it may take a score."""
    return None if node.tag in _UNSCORED else (node, key)


def _add(
    scores: dict[int, tuple[LexborNode, float]], key: int, node: LexborNode, value: float
) -> None:
    prev = scores.get(key)
    scores[key] = (node, (prev[1] if prev else 0.0) + value)


def score_content(root: LexborNode, measures: Measures) -> LexborNode | None:
    """The element holding the page's main text, by readability-style scoring."""
    texts: dict[int, tuple[LexborNode, list[str]]] = {}
    in_table = data_tables(root)
    # By the text's parent (siblings share their block): the block and its key, or None.
    block_of: dict[int, tuple[LexborNode, int] | None] = {}
    # Whitespace-only texts are skipped by Lexbor itself, and a text node's own text read
    # directly: the walk meets every node of the page.
    for node in root.traverse(include_text=True, skip_empty=True):
        if not node.is_text_node:
            continue
        text = (node.text_content or "").strip()
        if len(text) < 2:
            continue
        parent = node.parent
        if parent is None:
            continue
        key = parent.mem_id
        if key in block_of:
            found = block_of[key]
        else:
            block = _block_of(parent, in_table)
            found = block_of[key] = None if block is None else (block, block.mem_id)
        if found is None:
            continue
        entry = texts.get(found[1])
        if entry is None:
            texts[found[1]] = (found[0], [text])
        else:
            entry[1].append(text)

    scores: dict[int, tuple[LexborNode, float]] = {}
    # By a block's parent: the parent and grandparent that take its score, and their keys
    # (None for none, or for body and html, which take no score).
    lineage: dict[int, tuple[tuple[LexborNode, int] | None, tuple[LexborNode, int] | None]] = {}
    for key, (block, parts) in texts.items():
        joined = compact("".join(parts))
        length = len(joined)
        value = (
            1 + len(PUNCT.findall(joined)) + min(length / 100, 3) if length >= 10 else length / 10
        )
        if block.tag not in _SELF_SCORED:
            _add(scores, key, block, value)
        parent = block.parent
        if parent is None:
            continue
        parent_key = parent.mem_id
        line = lineage.get(parent_key)
        if line is None:
            grandparent = parent.parent
            line = lineage[parent_key] = (
                _scored(parent, parent_key),
                _scored(grandparent, grandparent.mem_id) if grandparent is not None else None,
            )
        if line[0] is not None:
            _add(scores, line[0][1], line[0][0], value)
        if line[1] is not None:
            _add(scores, line[1][1], line[1][0], value / 2)

    if not scores:
        return None
    ranked = sorted(scores.values(), key=lambda pair: pair[1], reverse=True)[:8]
    best: tuple[float, LexborNode] | None = None
    for node, raw in ranked:
        total, links = measures.text_len(node)
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


def find_content(
    tree: LexborHTMLParser, rules: Rules, measures: Measures
) -> tuple[LexborNode | None, bool]:
    """The body element, and whether it was found by scoring rather than by selector
    (a scored pick is tightened once the page is known to be a notice)."""
    chain = (*rules.content, f"#{MARKED_ID}", *registry.family_containers(), *SHARED_CONTAINERS)
    # One pass of Lexbor's selector engine finds the elements of every selector; each
    # selector then takes its own, in document order, as a query of its own would.
    found = tree.css(", ".join(chain))
    for selector in chain if found else ():
        nodes = [n for n in found if _may_match(n, selector) and n.css_matches(selector)]
        if not nodes:
            continue
        node = max(nodes, key=lambda n: len(compact(n.text(deep=True, separator=""))))
        # "详见附件。" and a file link is a whole notice: any text or file link will do.
        if len(compact(node.text(deep=True, separator=""))) >= 2 or _file_links(node):
            return node, False
    body = tree.body
    return (score_content(body, measures) if body is not None else None), True


_SIMPLE_SELECTOR = re.compile(r"([.#])([\w-]+)")


def _may_match(node: LexborNode, selector: str) -> bool:
    """Whether `node` may match `selector`, asked before css_matches (which compiles its
    selector on each call): a `.name` or `#name` selector needs the name in the element's
    class or id, in any case (quirks mode ignores case)."""
    simple = _SIMPLE_SELECTOR.fullmatch(selector)
    if simple is None:
        return True
    value = node.attributes.get("class" if simple[1] == "." else "id") or ""
    return simple[2].lower() in value.lower()


def _file_links(node: LexborNode) -> bool:
    return any(ATTACHMENT_EXT.search(a.attributes.get("href") or "") for a in node.css("a[href]"))


def _furniture_only(node: LexborNode, measures: Measures) -> bool:
    """Headings, metadata, chrome, attachment labels and file links: no notice text."""
    if node.tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
        return True
    if measures.chars(node) > _FURNITURE_MAX:
        return False  # title, info line and 信息公开 table never run this long
    for line in measures.lines(node):
        text = line.text
        if line.file_link or is_chrome(text) or text.startswith("附件"):
            continue
        if read_meta_line(text, header=True) is None:
            return False
    return True


def tighten(node: LexborNode, measures: Measures) -> LexborNode:
    """Descend into the one child holding notice text while its siblings are only the
    title, the info line, toolbars and file lists: a scorer favours the wrappers of
    short notices, and those siblings are no part of the body."""
    while True:
        texts = [c for c in node.iter() if c.is_element_node and measures.chars(c)]
        if len(texts) < 2:
            return node
        main = [c for c in texts if not _furniture_only(c, measures)]
        if len(main) != 1 or main[0].tag in ("p", "table", "tbody", "tr", "li"):
            return node
        node = main[0]
