"""Anti-bot challenge pages: recognised so they are never taken for content.

瑞数 (Ruishu) answers HTTP 412 with a tiny page of `$_ts` scripts and a
`<meta … r="m">`; 加速乐 (JSL) answers 521 with scripts setting `__jsl_clearance`.
Real content pages can carry `$_ts` too, so a saved page counts as a challenge only
when the markers come without text to read.
"""

from __future__ import annotations

import re

_RUISHU_MARKS = ("$_ts", ' r="m"', " r='m'", " r=m>")
_JSL_MARKS = ("__jsl_clearance", "__jsluid", "_jsl_clearance_s")
_TAGS = re.compile(r"<script\b.*?</script>|<style\b.*?</style>|<[^>]+>|&[a-z#0-9]+;", re.I | re.S)
_MAX_TEXT = 200
# The marks sit in a challenge's few first lines.
_HEAD = 20000


def visible_text_len(html: str) -> int:
    return len(re.sub(r"\s+", "", _TAGS.sub(" ", html)))


def _little_text(html: str) -> bool:
    """`visible_text_len(html) < _MAX_TEXT`, read only as far as it takes: a content page
    carrying `$_ts` is answered at its first lines of text, not after a scan of all of it."""
    seen = at = 0
    for m in _TAGS.finditer(html):
        seen += len("".join(html[at : m.start()].split()))
        if seen >= _MAX_TEXT:
            return False
        at = m.end()
    return seen + len("".join(html[at:].split())) < _MAX_TEXT


def _in_head(html: str, mark: str) -> bool:
    """Whether `mark` lies wholly within the first _HEAD characters of the page."""
    return html.find(mark, 0, _HEAD) >= 0


def detect_challenge(html: str, status: int | None = None) -> str | None:
    """The vendor ("ruishu", "jsl") when the page is a challenge, else None."""
    # Each search scans the head, in place (a slice would copy it): the marks' common
    # parts are looked for first.
    ruishu = _in_head(html, "$_ts") or (
        _in_head(html, " r=") and any(_in_head(html, mark) for mark in _RUISHU_MARKS)
    )
    jsl = _in_head(html, "_jsl") and any(_in_head(html, mark) for mark in _JSL_MARKS)
    if status == 412 and (ruishu or _little_text(html)):
        return "ruishu"
    if status == 521 and (jsl or _little_text(html)):
        return "jsl"
    if not (ruishu or jsl) or not _little_text(html):
        return None
    return "ruishu" if ruishu else "jsl"
