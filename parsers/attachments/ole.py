"""What an OLE document (DOC, WPS, XLS, ET) says about itself before anyone reads its text:
whether it needs a password, and which codepage a workbook's 8-bit strings are in.

Both are a few bytes at a fixed place, read here so that a locked file is `encrypted`
whichever extractors are installed, and so that a workbook calamine would misread goes to
the reader that gets it right (sheets.py).
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

import olefile

# [MS-DOC] 2.5.2: FibBase's flags at offset 0x0A, fEncrypted is bit 8.
_FIB_FLAGS = 0x0A
_F_ENCRYPTED = 0x0100
# [MS-XLS] 2.3: record types in a workbook's globals substream.
_EOF, _FILEPASS, _CODEPAGE = 0x000A, 0x002F, 0x0042
_GLOBALS_RECORDS = 200
"""CODEPAGE and FILEPASS come in a workbook's first records: enough to look through."""


def _stream(data: bytes, *names: str) -> bytes | None:
    try:
        with olefile.OleFileIO(data) as ole:
            for name in names:
                if ole.exists(name):
                    return bytes(ole.openstream(name).read())
    except (OSError, ValueError, IndexError, AssertionError):
        return None
    return None


def doc_encrypted(data: bytes) -> bool:
    word = _stream(data, "WordDocument")
    if word is None or len(word) < _FIB_FLAGS + 2:
        return False
    (flags,) = struct.unpack_from("<H", word, _FIB_FLAGS)
    return bool(flags & _F_ENCRYPTED)


def _globals(data: bytes) -> Iterator[tuple[int, bytes]]:
    book = _stream(data, "Workbook", "Book") or b""
    at = 0
    for _ in range(_GLOBALS_RECORDS):
        if at + 4 > len(book):
            return
        kind, size = struct.unpack_from("<HH", book, at)
        yield kind, book[at + 4 : at + 4 + size]
        if kind == _EOF:
            return
        at += 4 + size


def xls_encrypted(data: bytes) -> bool:
    return any(kind == _FILEPASS for kind, _ in _globals(data))


def xls_codepage(data: bytes) -> int | None:
    """The CODEPAGE record's value (1200 is UTF-16, 936 GBK), None without one."""
    for kind, body in _globals(data):
        if kind == _CODEPAGE and len(body) >= 2:
            return int(struct.unpack_from("<H", body)[0])
    return None
