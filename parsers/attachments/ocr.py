"""Scans: the text in the pixels of a PDF's pages or of an image, read by RapidOCR
(rapidocr-onnxruntime, the `ocr` extra: PaddleOCR's Chinese models run by ONNX Runtime,
the models inside the wheel, so nothing is downloaded when it runs).

A PDF's first OCR_PAGES pages are rendered by PDFium at OCR_DPI, at most MAX_SIDE pixels
on the long side: RapidOCR shrinks a larger picture to that before it looks for text, so
more pixels cost time and memory for nothing. OCR is slow (seconds a page), which is why
a file is read this way only when its text layer fails the quality gate, and why the
sandbox gives it a time limit and memory cap of its own.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from functools import cache
from typing import Any

import pypdfium2
from PIL import Image

from govwatch.parsers.attachments.identify import PDF, identify
from govwatch.parsers.attachments.records import Text

OCR_PAGES = 20
"""Pages read of one PDF: the rest of a long scan waits for a person (the message says so)."""
OCR_DPI = 150
"""Enough for body text (五号, 10.5 pt, is 22 pixels high); the models read lines 48 high."""
MAX_SIDE = 2000


@cache
def _engine() -> Any:
    from rapidocr_onnxruntime import RapidOCR

    return RapidOCR()


def ocr_text(data: bytes) -> Text:
    """The lines OCR reads on each page of a PDF, a blank line between pages (`note` says
    which pages were left out), or in an image."""
    if identify(data) == PDF:
        document = pypdfium2.PdfDocument(data)
        try:
            total = len(document)
            pages = [_read(image) for image in _rendered(document, min(total, OCR_PAGES))]
        finally:
            document.close()
        note = f"OCR read the first {OCR_PAGES} of {total} pages" if total > OCR_PAGES else ""
        return Text("\n\n".join(pages), len(pages), note)
    with Image.open(io.BytesIO(data)) as image:
        image.thumbnail((MAX_SIDE, MAX_SIDE))
        return Text(_read(image.convert("L")), 1)


def _rendered(document: pypdfium2.PdfDocument, count: int) -> Iterator[Image.Image]:
    for index in range(count):
        page = document[index]
        try:
            width, height = page.get_size()
            scale = min(OCR_DPI / 72, MAX_SIDE / max(width, height, 1))
            yield page.render(scale=scale, grayscale=True).to_pil()
        finally:
            page.close()


def _read(image: Image.Image) -> str:
    """RapidOCR's boxes, top to bottom, as lines: boxes side by side (the cells of a
    table row, words set apart) share a line, joined by a space."""
    found, _ = _engine()(image)
    lines: list[list[str]] = []
    bottom = -1.0
    for box, text, _score in found or ():
        ys = [point[1] for point in box]
        middle = (min(ys) + max(ys)) / 2
        if lines and middle < bottom:
            lines[-1].append(text)
        else:
            lines.append([text])
            bottom = max(ys)
    return "\n".join(" ".join(line) for line in lines)
