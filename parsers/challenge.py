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


def visible_text_len(html: str) -> int:
    return len(re.sub(r"\s+", "", _TAGS.sub(" ", html)))


def detect_challenge(html: str, status: int | None = None) -> str | None:
    """The vendor ("ruishu", "jsl") when the page is a challenge, else None."""
    head = html[:20000]
    ruishu = any(mark in head for mark in _RUISHU_MARKS)
    jsl = any(mark in head for mark in _JSL_MARKS)
    if status == 412 and (ruishu or visible_text_len(html) < _MAX_TEXT):
        return "ruishu"
    if status == 521 and (jsl or visible_text_len(html) < _MAX_TEXT):
        return "jsl"
    if not (ruishu or jsl) or visible_text_len(html) >= _MAX_TEXT:
        return None
    return "ruishu" if ruishu else "jsl"
