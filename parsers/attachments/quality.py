"""Whether an extracted text can be trusted, and the only normalisation it gets.

A PDF whose fonts map glyphs to nothing gives U+FFFD, private-use code points or pdfminer's
`(cid:NN)`; a scan gives almost no text; a font that maps CJK glyphs to Latin codes gives
text without CJK. Any of these sends the file to the next extractor (or to OCR).
"""

from __future__ import annotations

import re

# Word's symbol-font bullets land in the private-use area; a few are no sign of a broken
# text layer, a share of the characters is.
MAX_BAD_SHARE = 0.01
MIN_CJK_PER_PAGE = 10
"""Government PDFs are Chinese: a page with fewer is a scan, or its fonts lost the map."""

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")
_BAD = re.compile(r"[\ufffd\ue000-\uf8ff\U000f0000-\U0010ffff]")
_CID = "(cid:"


def problem(text: str, pages: int | None) -> str | None:
    """Why the text fails the gate, or None when it passes. The CJK rule applies where
    the format has pages (PDF)."""
    if _CID in text:
        return "(cid:) markers: glyphs without a character map"
    visible = len(text) - sum(1 for ch in text if ch.isspace())
    bad = len(_BAD.findall(text))
    if visible and bad > MAX_BAD_SHARE * visible:
        return f"{bad} replacement or private-use characters in {visible}"
    if pages:
        cjk = len(_CJK.findall(text))
        if cjk < MIN_CJK_PER_PAGE * pages:
            return f"{cjk} CJK characters on {pages} pages: a scan, or fonts without a map"
    return None


_LINE_BREAKS = re.compile(r"\r\n|[\r\f\v\x1c-\x1e\x85\u2028\u2029]")
_BLANKS = re.compile(r"[ \t\u00a0]+")
_EMPTY_RUN = re.compile(r"\n{3,}")


def normalise(text: str) -> str:
    """Line endings to \\n, runs of spaces and tabs to one space, lines stripped, at most
    one empty line in a row. Never Unicode normalisation: NFKC would turn `，` into `,`
    and the text would no longer be the document's."""
    lines = (_BLANKS.sub(" ", line).strip() for line in _LINE_BREAKS.split(text))
    return _EMPTY_RUN.sub("\n\n", "\n".join(lines)).strip("\n")
