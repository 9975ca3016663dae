"""Site text on its way to a terminal, a log or a page, without what those act on.

Text from a site is not ours: a control character, an escape sequence, a bidi override
or a line separator in a title would clear a terminal, recolour it, or make a line read
differently from what it is. Every place that shows site text passes it through here.
"""

from __future__ import annotations


def printable(text: str, *, keep: str = "", replace: str = "") -> str:
    """`text` with every character `str.isprintable` refuses (C0 and C1 controls, DEL,
    format characters such as bidi overrides and zero-width ones, separators other than
    the ASCII space, unassigned and private-use code points) dropped, or written as
    `replace`; the characters in `keep` (say, a line break) stay."""
    return "".join(ch if ch.isprintable() or ch in keep else replace for ch in text)
