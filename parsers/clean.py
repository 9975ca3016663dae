"""The entry point: page bytes or text in, a `Page` out."""

from __future__ import annotations

import re

from govwatch.errors import ParseError
from govwatch.parsers import registry
from govwatch.parsers.challenge import detect_challenge
from govwatch.parsers.decode import decode_html
from govwatch.parsers.records import Expect, Page

_HTML_SIGN = re.compile(
    r"<\s*(?:!doctype\s+html|html|head|body|div|p|table|meta|title|script|span|a\s)[\s>/]", re.I
)


def looks_like_html(text: str) -> bool:
    return bool(_HTML_SIGN.search(text[:4096]))


def clean(
    text: str,
    url: str | None = None,
    *,
    parser: str | None = None,
    status: int | None = None,
    expect: Expect = None,
) -> Page:
    """Clean a decoded page. `parser` forces a registered parser; else one is chosen.
    `expect` says what the page is known to be; else the parser classifies it."""
    is_html = looks_like_html(text)
    if is_html:
        vendor = detect_challenge(text, status)
        if vendor is not None:
            return Page(kind="challenge", parser=parser or "challenge", url=url, vendor=vendor)
    try:
        chosen = registry.get(parser) if parser else registry.choose(text, url, is_html=is_html)
        return chosen.parse(text, url, expect)
    except ValueError as exc:  # a malformed URL given, or one inside the page's scripts
        raise ParseError(url, f"malformed URL: {exc}") from exc


def clean_bytes(
    data: bytes,
    url: str | None = None,
    *,
    parser: str | None = None,
    content_type: str | None = None,
    status: int | None = None,
    expect: Expect = None,
) -> Page:
    """Decode (BOM, HTTP charset, <meta>, detector) and clean."""
    text = decode_html(data, content_type).text
    return clean(text, url, parser=parser, status=status, expect=expect)
