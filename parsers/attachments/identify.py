"""Identify an attachment by its bytes: sites serve DOCX and WPS files named `.doc`, PDFs
as application/octet-stream, spreadsheets as `.xls` that are HTML. The name lies; the
container does not: zip packages by their members, OLE compound files by their streams.
"""

from __future__ import annotations

import io
import zipfile

import olefile

from govwatch.parsers.attachments.records import Format

PDF = Format("pdf", "application/pdf")
DOCX = Format("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document")
XLSX = Format("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
PPTX = Format("pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation")
OFD = Format("ofd", "application/ofd")
DOC = Format("doc", "application/msword")
XLS = Format("xls", "application/vnd.ms-excel")
PPT = Format("ppt", "application/vnd.ms-powerpoint")
ENCRYPTED_OOXML = Format("encrypted-ooxml", "application/x-ole-storage")
RTF = Format("rtf", "application/rtf")
ZIP = Format("zip", "application/zip")
DAMAGED_ZIP = Format("damaged-zip", "application/zip")
UNKNOWN = Format("unknown", "application/octet-stream")

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
IMAGES: tuple[tuple[bytes, Format], ...] = (
    (b"\x89PNG\r\n\x1a\n", Format("image", "image/png")),
    (b"\xff\xd8\xff", Format("image", "image/jpeg")),
    (b"GIF8", Format("image", "image/gif")),
    (b"II*\x00", Format("image", "image/tiff")),
    (b"MM\x00*", Format("image", "image/tiff")),
    (b"BM", Format("image", "image/bmp")),
)
# The PDF header may follow some junk; readers accept it within the first 1024 bytes.
PDF_HEADER_WINDOW = 1024


def identify(data: bytes) -> Format:
    if b"%PDF-" in data[:PDF_HEADER_WINDOW]:
        return PDF
    if data.startswith(b"PK\x03\x04"):
        return _zip(data)
    if data.startswith(OLE_MAGIC):
        return _ole(data)
    if data.lstrip()[:5] == b"{\\rtf":
        return RTF
    for magic, image in IMAGES:
        if data.startswith(magic):
            return image
    return UNKNOWN


def _zip(data: bytes) -> Format:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            names = {name.lower() for name in package.namelist()}
    except (zipfile.BadZipFile, ValueError):
        return DAMAGED_ZIP  # cut short (its directory is at the end) or broken
    if "ofd.xml" in names:
        return OFD
    if "[content_types].xml" in names:
        if "word/document.xml" in names:
            return DOCX
        if "xl/workbook.xml" in names:
            return XLSX
        if "ppt/presentation.xml" in names:
            return PPTX
    return ZIP


def _ole(data: bytes) -> Format:
    try:
        with olefile.OleFileIO(data) as ole:
            streams = {"/".join(entry).lower() for entry in ole.listdir()}
    except (OSError, ValueError, IndexError, AssertionError):
        return UNKNOWN
    # Word and WPS Writer keep the text in WordDocument; Excel and WPS ET in Workbook
    # (Book: Excel 5/95); a password-protected DOCX or XLSX is an OLE file too.
    if "worddocument" in streams:
        return DOC
    if "workbook" in streams or "book" in streams:
        return XLS
    if "encryptedpackage" in streams:
        return ENCRYPTED_OOXML
    if "powerpoint document" in streams:
        return PPT
    return UNKNOWN
