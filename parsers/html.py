"""HTML → lines: the one walker every HTML parser uses.

Block elements end a line, inline text is joined, <br> breaks a line, a data table
gives one line per row with its cells joined by " | ". `parse_html` prunes scripts,
styles, form controls and elements hidden by inline style once, up front, so no
later pass has to ask again. Lines that are a
single attachment link are marked, so a bare file list after the text can be told
from the notice's own "附件：" lines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urljoin, urlsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

from govwatch.parsers.decode import Utf8Text
from govwatch.parsers.records import Attachment
from govwatch.parsers.text import squash

# Removed from <body> with their content: never text of a notice.
PRUNED = (
    "script style noscript template iframe object embed svg canvas select button input "
    "textarea map audio video frameset noframes xmp"
).split()
BLOCK = set(
    "p div h1 h2 h3 h4 h5 h6 li ul ol section article blockquote pre dd dt dl header footer "
    "address center form fieldset figure figcaption main aside nav hr table tbody thead tfoot "
    "tr td th caption body html legend details summary menu".split()
)
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
ATTACHMENT_EXT = re.compile(
    r"\.(?:docx?|xlsx?|pdf|zip|rar|7z|wps|et|dps|ofd|txt|pptx?|csv|ceb|tif|tiff)(?:$|[?#])",
    re.I,
)
_DOWNLOAD_PATH = re.compile(r"download|downfile|filedown|attach", re.I)


def parse_html(html: str) -> LexborHTMLParser:
    """Parse and prune: scripts, styles, controls and hidden elements are removed."""
    tree = LexborHTMLParser(html.utf8 if isinstance(html, Utf8Text) else html)
    body = tree.body
    if body is None:
        return tree
    tree.strip_tags(PRUNED, recursive=True)
    for node in body.css('[hidden], [style*="none" i], [style*="hidden" i]'):
        attributes = node.attributes
        if "hidden" in attributes or _HIDDEN_STYLE.search(attributes.get("style") or ""):
            node.decompose()
    return tree


# Below this many nodes a walk in Python finds elements sooner than Lexbor's selector
# engine, each of whose css() calls first compiles its query (some 20-30 µs).
_WALK_LIMIT = 32


def find_tags(node: LexborNode, tag: str, attribute: str | None = None) -> list[LexborNode]:
    """`node.css("tag")` or `node.css("tag[attribute]")`: the node itself included, in
    document order. A small subtree (a list row, a heading) is walked here; a larger one
    is handed to the selector engine."""
    found = []
    for n, child in enumerate(node.traverse()):
        if n == _WALK_LIMIT:
            return node.css(f"{tag}[{attribute}]" if attribute else tag)
        if child.tag == tag and (attribute is None or attribute in child.attributes):
            found.append(child)
    return found


def is_data_table(table: LexborNode) -> bool:
    """A table of the notice (rows of cells), not a layout table wrapping blocks."""
    if any(t.mem_id != table.mem_id for t in table.css("table")):
        return False
    return _has_row_of_cells(table)


def _has_row_of_cells(table: LexborNode) -> bool:
    """A row of two cells or more."""
    return any(sum(1 for c in row.iter() if c.tag in ("td", "th")) >= 2 for row in table.css("tr"))


def data_tables(root: LexborNode) -> dict[int, LexborNode]:
    """Every element inside a data table under `root`, by its mem_id, with that table.
    A data table holds no other table, so it is the nearest table of each of them. One
    query finds the page's tables in document order, where a table holding another is
    followed by it: each table is tested once, not once per text inside it."""
    tables = root.css("table")
    inside: dict[int, LexborNode] = {}
    for i, table in enumerate(tables):
        if i + 1 < len(tables) and is_inside(tables[i + 1], table):
            continue
        if _has_row_of_cells(table):
            for node in table.traverse():
                inside[node.mem_id] = table
    return inside


def class_and_id(node: LexborNode) -> str:
    """An element's class and id names, as one string to search."""
    return f"{node.attributes.get('class') or ''} {node.attributes.get('id') or ''}"


def is_inside(node: LexborNode, ancestor: LexborNode) -> bool:
    """Whether `ancestor` holds `node` (lexbor nodes compare by their memory id)."""
    parent = node.parent
    while parent is not None:
        if parent.mem_id == ancestor.mem_id:
            return True
        parent = parent.parent
    return False


def _is_file_link(node: LexborNode) -> bool:
    """A link to an attachment: shown on its own line, as a browser list of files reads."""
    return bool(ATTACHMENT_EXT.search(node.attributes.get("href") or ""))


_NOT_TEXT = {"head", "title", "meta", "link", "option"}
# A file link inside these is part of a line of text ("附件：<a>…</a>"); elsewhere a
# file link stands on its own line, as a list of downloads reads.
_RUNNING_TEXT = set("p li td th dd dt span font strong b em i u a h1 h2 h3 h4 h5 h6".split())


@dataclass(frozen=True)
class Line:
    text: str
    file_link: bool = False
    """The whole line is one link to an attachment."""


class _Walker:
    def __init__(self, known: dict[int, list[Line]] | None = None) -> None:
        self.known = known
        self.lines: list[Line] = []
        self.buf: list[str] = []
        self.links: list[str] = []  # texts of the file links in the current line

    def flush(self) -> None:
        links, self.links = self.links, []
        if self.buf:
            raw = "".join(self.buf)
            self.buf.clear()
            if raw.isspace():
                return
            text = squash(raw)
            if text:
                alone = len(links) == 1 and squash(links[0]) == text
                self.lines.append(Line(text, alone))

    def cell_text(self, cell: LexborNode) -> str:
        sub = _Walker()
        sub.walk(cell)
        sub.flush()
        return " ".join(line.text for line in sub.lines)

    def table(self, table: LexborNode) -> None:
        for row in table.css("tr"):
            cells = [self.cell_text(c) for c in row.iter() if c.tag in ("td", "th")]
            if any(cells):
                self.lines.append(Line(" | ".join(cells).strip()))

    def walk(self, node: LexborNode) -> None:
        for child in node.iter(include_text=True):
            tag = child.tag
            if tag == "-text":
                self.buf.append(child.text_content or "")
                continue
            if tag is None or tag.startswith("-") or tag in _NOT_TEXT:
                continue
            if tag == "br":
                self.flush()
            elif tag == "pre":
                # Preformatted text keeps its lines, as a browser shows them.
                self.flush()
                for raw in child.text(deep=True).splitlines():
                    text = squash(raw)
                    if text:
                        self.lines.append(Line(text))
            elif tag in BLOCK:
                # A block's lines are those its own walk gives (walk_lines): taken from
                # `known` when the page has walked that block before.
                self.flush()
                known = self.known.get(child.mem_id) if self.known else None
                if known is not None:
                    self.lines.extend(known)
                elif tag == "table" and is_data_table(child):
                    self.table(child)
                else:
                    self.walk(child)
                    self.flush()
            elif tag == "a" and _is_file_link(child):
                # Links glued into a bare download list get a line each.
                own_line = node.tag not in _RUNNING_TEXT
                if own_line:
                    self.flush()
                self.links.append(child.text(deep=True, separator=""))
                self.walk(child)
                if own_line:
                    self.flush()
            else:
                self.walk(child)


def walk_lines(root: LexborNode, known: dict[int, list[Line]] | None = None) -> list[Line]:
    """Every text line under `root`, in order. `known`: the lines of blocks walked before,
    by their mem_id."""
    walker = _Walker(known)
    if root.tag == "table" and is_data_table(root):
        walker.table(root)
    else:
        walker.walk(root)
        walker.flush()
    return walker.lines


def absolute(base: str | None, href: str) -> str:
    href = href.strip()
    if not base:
        return href
    return join_url(base, href)


@lru_cache(maxsize=4096)
def join_url(base: str, href: str) -> str:
    """urljoin, remembered: a page's links are resolved again each time a list is weighed
    (a malformed URL raises each time: exceptions are not kept)."""
    return urljoin(base, href)


def is_fetchable(href: str) -> bool:
    """A link worth following: not a script, mail, phone, data or in-page link, and one
    that parses as a URL (a malformed one, such as http://[::1, is skipped, not fatal)."""
    href = href.strip().lower()
    if not href or href.startswith(("javascript:", "mailto:", "#", "tel:", "data:")):
        return False
    if href.isascii() and "[" not in href and "]" not in href:
        # urlsplit rejects only a bracketed (IPv6) host or a non-ASCII one, and a parse
        # costs more than the rest of a row's link tests.
        return True
    try:
        urlsplit(href)
    except ValueError:
        return False
    return True


def attachments_in(nodes: list[LexborNode], base: str | None) -> tuple[Attachment, ...]:
    """File links (doc, xls, pdf … or a download handler) inside the given nodes."""
    seen: set[str] = set()
    found: list[Attachment] = []
    for node in nodes:
        for a in find_tags(node, "a", "href"):
            href = a.attributes.get("href") or ""
            if not is_fetchable(href):
                continue
            path = urlsplit(href).path
            if not (ATTACHMENT_EXT.search(href) or _DOWNLOAD_PATH.search(path)):
                continue
            url = absolute(base, href)
            if url in seen:
                continue
            name = squash(a.text()) or squash(a.attributes.get("title") or "")
            if not name:
                name = path.rsplit("/", 1)[-1]
            seen.add(url)
            found.append(Attachment(name, url))
    return tuple(found)


class Metas:
    """A page's <meta name|property=…> tags, read once (a page asks for several names):
    each name's first non-empty content, with its place among the tags."""

    def __init__(self, tree: LexborHTMLParser) -> None:
        self.tree = tree
        self._first: dict[str, tuple[int, str]] | None = None

    def _read(self) -> dict[str, tuple[int, str]]:
        first: dict[str, tuple[int, str]] = {}
        # All <meta> by a short query, tested here: a query naming each wanted name twice
        # costs more to compile than a page's few dozen <meta> cost to read. A name, when
        # present, hides the property.
        for at, m in enumerate(self.tree.css("meta")):
            attributes = m.attributes
            key = attributes.get("name") or attributes.get("property") or ""
            if not key.isascii():  # names compare as Lexbor's `i` does: ASCII case only
                continue
            key = key.lower()
            if key not in first:
                value = squash(attributes.get("content") or "")
                if value:
                    first[key] = (at, value)
        return first

    def get(self, *names: str) -> str | None:
        """The content of the first <meta> named any of `names` (case-insensitive)."""
        if self._first is None:
            self._first = self._read()
        found = [hit for name in names if (hit := self._first.get(name.lower())) is not None]
        return min(found)[1] if found else None
