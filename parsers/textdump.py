"""The text-dump cleaner: pages another tool already flattened to text.

Header lines and pipe tables give the metadata, a site banner and the title's
repetition are dropped, the same chrome rules as for HTML apply.
"""

from __future__ import annotations

import re

from govwatch.parsers.body import clean_body, is_paragraph, same_text
from govwatch.parsers.meta import MetaBuilder, add_pairs, read_meta_line
from govwatch.parsers.records import Expect, Page
from govwatch.parsers.registry import register
from govwatch.parsers.text import find_date, is_chrome, squash

_NUMBERED = re.compile(
    r"^(?:[一二三四五六七八九十]+、|[（(][一二三四五六七八九十\d]+[)）]|\d+[.、．])"
)
_NOT_TITLE_END = re.compile(r"[。！？；;:：,，、]$")


def _title_like(line: str) -> bool:
    return (
        4 <= len(line) <= 60
        and not _NOT_TITLE_END.search(line)
        and not _NUMBERED.match(line)
        and find_date(line) != line.strip()
        and not (find_date(line) and len(line) <= 12)
    )


def _header_title(lines: list[str]) -> tuple[str, set[int]]:
    """Title from the header zone, and the indexes of banner lines to drop."""
    meta = MetaBuilder()
    candidates: list[int] = []
    first_meta: int | None = None
    for i, line in enumerate(lines):
        if is_chrome(line):
            continue
        pairs = read_meta_line(line, header=True)
        if pairs is not None:
            add_pairs(meta, pairs)
            if first_meta is None:
                first_meta = i
            continue
        if is_paragraph(line) or not _title_like(line):
            break
        candidates.append(i)
    if meta.title:
        before = {i for i in candidates if first_meta is not None and i < first_meta}
        return meta.title, before
    before_meta = [i for i in candidates if first_meta is not None and i < first_meta]
    if before_meta:
        return lines[before_meta[-1]], set(before_meta[:-1])
    if candidates:
        return lines[candidates[0]], set()
    return "", set()


def clean_text(text: str, url: str | None = None, expect: Expect = None) -> Page:
    """A text dump is a notice whatever the caller expects: a listing has no text form."""
    lines = [squash(line) for line in text.splitlines()]
    lines = [line for line in lines if line]
    title, banners = _header_title(lines)
    lines = [line for i, line in enumerate(lines) if i not in banners]
    meta = MetaBuilder()
    body = clean_body(lines, title, meta)
    if not title:
        # No heading above the text (a notice dump starting at its salutation): the
        # first heading-like line of the first few is the document's own title.
        title = next((line for line in body[:12] if _title_like(line)), "")
    elif body and same_text(body[0], title):
        body = body[1:]
    return Page(
        kind="detail",
        parser="text",
        url=url,
        title=title,
        body="\n".join(body),
        meta=meta.meta(),
    )


register("text", text=True)(clean_text)
