"""Bytes to text: BOM, then the HTTP charset, then <meta>, checked against the bytes.

A declaration is trusted only when the bytes decode under it; gb2312/gbk are read as
GB18030 (a declared gb2312 page often holds GBK-only characters). Because GB18030
decodes almost any byte string, a page declared GBK whose bytes are valid multi-byte
UTF-8 is read as UTF-8. The detector is the last resort, not the first.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

from charset_normalizer import from_bytes

from govwatch.errors import DecodeError

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_GB_FAMILY = {"gb2312", "gbk", "gb18030", "euc-cn", "x-gbk", "cp936", "hz-gb-2312"}
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-:.]+)""", re.I)
_HEADER_CHARSET = re.compile(r"""charset\s*=\s*["']?([A-Za-z0-9_\-:.]+)""", re.I)
# UTF-16 without a BOM shows up as ASCII interleaved with NULs.
_UTF16LE_HINT = re.compile(rb"^(?:[\x09\x0a\x0d\x20-\x7e]\x00){8}")
_UTF16BE_HINT = re.compile(rb"^(?:\x00[\x09\x0a\x0d\x20-\x7e]){8}")


class Utf8Text(str):
    """Text strictly decoded from UTF-8, which encodes back to exactly those bytes: the
    HTML parser, which reads UTF-8, is handed `utf8` rather than an encoding of the whole
    text again (1.4% of a cleaning of the real pages, in instructions)."""

    utf8: bytes


def _utf8(data: bytes, text: str) -> Utf8Text:
    found = Utf8Text(text)
    found.utf8 = data
    return found


@dataclass(frozen=True)
class Decoded:
    text: str
    encoding: str
    declared: str | None


def normalise_charset(name: str) -> str | None:
    """A Python codec name for a declared charset, or None if Python knows no such codec."""
    name = name.strip().strip("\"'").lower()
    if name in _GB_FAMILY or name.startswith("gb_2312"):
        return "gb18030"
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def charset_from_content_type(content_type: str | None) -> str | None:
    if not content_type:
        return None
    m = _HEADER_CHARSET.search(content_type)
    return m.group(1) if m else None


def _strict(data: bytes, encoding: str) -> str | None:
    try:
        return data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None


def _looks_utf8_multibyte(data: bytes) -> bool:
    return any(b >= 0x80 for b in data[:65536]) and _strict(data, "utf-8") is not None


def decode_html(
    data: bytes, content_type: str | None = None, *, override: str | None = None
) -> Decoded:
    """Decode a page's bytes; raises DecodeError when they are no text at all. An
    `override` (a seed's `encoding`) is trusted over anything the page declares."""
    if override:
        return Decoded(data.decode(override, errors="replace"), override, None)
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            text = _strict(data, encoding)
            if text is not None:
                return Decoded(text.lstrip("\ufeff"), encoding, None)
    if _UTF16LE_HINT.match(data) or _UTF16BE_HINT.match(data):
        enc = "utf-16-le" if _UTF16LE_HINT.match(data) else "utf-16-be"
        text = _strict(data, enc)
        if text is not None:
            return Decoded(text, enc, None)

    declared_names = [charset_from_content_type(content_type)]
    m = _META_CHARSET.search(data[:8192])
    declared_names.append(m.group(1).decode("ascii", "replace") if m else None)
    declared = next((n for n in declared_names if n), None)

    for name in declared_names:
        if not name:
            continue
        codec = normalise_charset(name)
        if codec is None:
            continue
        if codec == "gb18030" and _looks_utf8_multibyte(data):
            return Decoded(_utf8(data, data.decode("utf-8")), "utf-8", declared)
        text = _strict(data, codec)
        if text is not None:
            return Decoded(_utf8(data, text) if codec == "utf-8" else text, codec, declared)

    text = _strict(data, "utf-8")
    if text is not None:
        return Decoded(_utf8(data, text), "utf-8", declared)
    if b"\x00" in data[:4096]:
        raise DecodeError("binary data (NUL bytes), not a text page")
    best = from_bytes(data[:262144]).best()
    if best is None or best.encoding is None:
        raise DecodeError("bytes are not text in any known encoding")
    encoding = normalise_charset(best.encoding) or best.encoding
    return Decoded(data.decode(encoding, errors="replace"), encoding, declared)
