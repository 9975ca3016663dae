"""From raw lines to the notice body: chrome out, metadata lines read and removed.

Rules, in order: a QR/share caption glued to a line's end is cut; chrome lines go
wherever they are; metadata lines (label：value, or a pipe row of labels) are read
into the metadata and removed in the header zone (before the first line of notice
text) and the footer zone (after the last), and anywhere when a row holds strong
labels only a 信息公开 table has; repeats of the title in the header zone go.
"""

from __future__ import annotations

import re

from govwatch.parsers.meta import WEAK, MetaBuilder, add_pairs, read_meta_line
from govwatch.parsers.text import compact, is_chrome, strip_qr_tail

_RELATED_HEADING = re.compile(
    r"^[【\[]?(?:相关链接|相关文章|相关阅读|相关新闻|相关文件|相关信息|相关稿件|延伸阅读|推荐阅读)"
    r"[】\]]?\s*[:：]?$"
)
_DOWNLOAD_LABEL = re.compile(r"^(?:附件下载|相关附件|附件列表)\s*[:：]")
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
    skip = 0
    for i, line in enumerate(kept):
        if skip:
            skip -= 1
            continue
        pairs = read_meta_line(line, header=header)
        if pairs is not None and (header or (len(pairs) >= 2 and _strong(pairs))):
            add_pairs(meta, pairs)
            continue
        if header and same_text(line, title):
            continue
        if header and (split := _title_split(kept, i, title)):
            skip = split - 1  # the title again, broken over lines by <br>
            continue
        if header and title and compact(line).startswith(compact(title)):
            rest = read_meta_line(line[len(title) :].strip(), header=True)
            if rest is not None:
                add_pairs(meta, rest)
                continue
        header = False
        body.append(line)

    body = _without_related(body)
    while body:
        pairs = read_meta_line(body[-1], header=True)
        if pairs is None or (is_paragraph(body[-1]) and not _strong(pairs)):
            break
        add_pairs(meta, pairs)
        body.pop()
    return body


def _title_split(lines: list[str], start: int, title: str) -> int:
    """How many lines from `start` spell the title together (2–4), else 0."""
    want = compact(title)
    if not want:
        return 0
    joined = ""
    for n, line in enumerate(lines[start : start + 4], 1):
        joined += compact(line)
        if not want.startswith(joined):
            return 0
        if joined == want:
            return n if n > 1 else 0
    return 0


def _without_related(body: list[str]) -> list[str]:
    """Cut a trailing 相关链接 / 相关文章 block, and 附件下载 lines after the text: page
    furniture that CMS templates put inside the content element."""
    for i, line in enumerate(body):
        if _RELATED_HEADING.match(line) and i > 0:
            body = body[:i]
            break
    while body and _DOWNLOAD_LABEL.match(body[-1]):
        body = body[:-1]
    return body
