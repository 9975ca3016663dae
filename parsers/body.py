"""From raw lines to the notice body: chrome out, metadata lines read and removed.

Rules, in order: a QR/share caption glued to a line's end is cut; chrome lines go
wherever they are; metadata lines (label：value, or a pipe row of labels) are read
into the metadata and removed in the header zone (before the first line of notice
text) and the footer zone (after the last), and anywhere when a row holds strong
labels only a 信息公开 table has; repeats of the title in the header zone go.
"""

from __future__ import annotations

import re

from parsers.meta import WEAK, MetaBuilder, add_pairs, read_meta_line
from parsers.text import compact, is_chrome, strip_qr_tail

_SENTENCE_END = re.compile(r"[。！？；;!?]$")


def is_paragraph(line: str) -> bool:
    """A line that is certainly notice text: long, or ending a sentence."""
    return len(line) > 60 or bool(_SENTENCE_END.search(line))


def _strong(pairs: list[tuple[str, str | None, str]]) -> bool:
    return any(label not in WEAK for label, _, _ in pairs)


def same_text(a: str, b: str) -> bool:
    return bool(a) and compact(a) == compact(b)


def clean_body(lines: list[str], title: str, meta: MetaBuilder) -> list[str]:
    """The notice's paragraphs, in order. Metadata lines found are added to `meta`."""
    kept = [strip_qr_tail(line) for line in lines]
    kept = [line for line in kept if line and not is_chrome(line)]

    body: list[str] = []
    header = True
    for line in kept:
        pairs = read_meta_line(line, header=header)
        if pairs is not None and (header or (len(pairs) >= 2 and _strong(pairs))):
            add_pairs(meta, pairs)
            continue
        if header and same_text(line, title):
            continue
        if header and title and compact(line).startswith(compact(title)):
            rest = read_meta_line(line[len(title) :].strip(), header=True)
            if rest is not None:
                add_pairs(meta, rest)
                continue
        header = False
        body.append(line)

    while body:
        pairs = read_meta_line(body[-1], header=True)
        if pairs is None or (is_paragraph(body[-1]) and not _strong(pairs)):
            break
        add_pairs(meta, pairs)
        body.pop()
    return body
