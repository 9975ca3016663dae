"""Attachments (附件): identify a file by its content and extract its text.

Pure in the project's sense, bytes in and an Extraction out; the extractors for DOC and
RTF run a program (antiword, LibreOffice) on a temporary copy. The crawler runs `extract`
in a sandboxed process (govwatch.crawler.sandbox), since a hostile file can make any
library loop or eat memory, and `read_scan` (OCR, the `ocr` extra) in another for a scan.
"""

from govwatch.parsers.attachments.extract import (
    CHAINS,
    OCR_FORMATS,
    extract,
    extractor_id,
    read_scan,
)
from govwatch.parsers.attachments.identify import identify
from govwatch.parsers.attachments.quality import normalise, problem
from govwatch.parsers.attachments.records import STATUSES, Extraction, Format, Status

__all__ = [
    "CHAINS",
    "OCR_FORMATS",
    "STATUSES",
    "Extraction",
    "Format",
    "Status",
    "extract",
    "extractor_id",
    "identify",
    "normalise",
    "problem",
    "read_scan",
]
