"""Which extractors read which format, in which order, and what their results become.

Each format has a chain: the first extractor whose text passes the quality gate wins.
Every result names its extractor as `<name>@<library version>+<code digest>`: the digest
covers this package, so a new release that would extract differently re-extracts, and
the store can tell that from a change of the file.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version
from pathlib import Path

from govwatch.parsers.attachments import identify as formats
from govwatch.parsers.attachments import ole
from govwatch.parsers.attachments.quality import normalise, problem
from govwatch.parsers.attachments.records import (
    Encrypted,
    Extraction,
    Format,
    Status,
    Text,
    Unavailable,
)


@dataclass(frozen=True)
class Extractor:
    name: str
    run: Callable[[bytes], Text]
    library: Callable[[], str | None]
    """The version of the library or program doing the work, None when it is missing."""


@cache
def _package(name: str) -> str | None:
    try:
        return package_version(name)
    except PackageNotFoundError:
        return None


@cache
def _antiword() -> str | None:
    program = shutil.which("antiword")
    if program is None:
        return None
    # antiword has no --version: its usage text, on a bare call, names it.
    usage = subprocess.run([program], capture_output=True, check=False, timeout=10)
    found = re.search(rb"Version:\s*(\S+)", usage.stdout + usage.stderr)
    return found.group(1).decode() if found else "unknown"


@cache
def _libreoffice() -> str | None:
    from govwatch.parsers.attachments.word import soffice

    program = soffice()
    if program is None:
        return None
    said = subprocess.run([program, "--version"], capture_output=True, check=False, timeout=60)
    found = re.search(rb"LibreOffice (\S+)", said.stdout)
    return found.group(1).decode() if found else "unknown"


def _lazy(module: str, function: str) -> Callable[[bytes], Text]:
    """Import an extractor's library only when a file of its format comes: a crawl of
    PDFs never loads python-docx."""

    def run(data: bytes) -> Text:
        from importlib import import_module

        extract: Callable[[bytes], Text] = getattr(
            import_module(f"govwatch.parsers.attachments.{module}"), function
        )
        return extract(data)

    return run


PDFIUM = Extractor("pypdfium2", _lazy("pdf", "pdfium_text"), lambda: _package("pypdfium2"))
PYPDF = Extractor("pypdf", _lazy("pdf", "pypdf_text"), lambda: _package("pypdf"))
DOCX = Extractor("python-docx", _lazy("word", "docx_text"), lambda: _package("python-docx"))
ANTIWORD = Extractor("antiword", _lazy("word", "antiword_text"), _antiword)
LIBREOFFICE = Extractor("libreoffice", _lazy("word", "libreoffice_text"), _libreoffice)
CALAMINE = Extractor(
    "python-calamine", _lazy("sheets", "calamine_text"), lambda: _package("python-calamine")
)
XLRD = Extractor("xlrd", _lazy("sheets", "xlrd_text"), lambda: _package("xlrd"))
OFDKIT = Extractor("ofdkit", _lazy("ofd", "ofdkit_text"), lambda: _package("ofdkit"))
RAPIDOCR = Extractor("rapidocr", _lazy("ocr", "ocr_text"), lambda: _package("rapidocr-onnxruntime"))

CHAINS: dict[str, tuple[Extractor, ...]] = {
    "pdf": (PDFIUM, PYPDF),
    "docx": (DOCX,),
    "doc": (ANTIWORD, LIBREOFFICE),
    "rtf": (LIBREOFFICE,),
    "xlsx": (CALAMINE,),
    "xls": (CALAMINE, XLRD),
    "ofd": (OFDKIT,),
}
# Formats whose text, when no extractor gives a good one, is in the pixels.
SCANNABLE = frozenset({"pdf", "ofd", "image"})
# Those of them OCR reads (an OFD scan would need a renderer for OFD pages).
OCR_FORMATS = frozenset({"pdf", "image"})


@cache
def code_digest() -> str:
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:8]


def extractor_id(extractor: Extractor) -> str | None:
    library = extractor.library()
    return None if library is None else f"{extractor.name}@{library}+{code_digest()}"


def extract(data: bytes, fmt: Format | None = None) -> Extraction:
    """The text of an attachment, by its content's format. Never raises for a bad file:
    what went wrong is the status and the message."""
    fmt = fmt or formats.identify(data)

    def result(status: Status, message: str, text: str = "", by: str | None = None) -> Extraction:
        return Extraction(fmt.name, fmt.media_type, status, by, text, message)

    if fmt == formats.ENCRYPTED_OOXML:
        return result("encrypted", "a password-protected Office document")
    if (fmt == formats.DOC and ole.doc_encrypted(data)) or (
        fmt == formats.XLS and ole.xls_encrypted(data)
    ):
        return result("encrypted", f"a password-protected {fmt.name.upper()} document")
    if fmt == formats.DAMAGED_ZIP:
        return result("failed", "a zip package cut short or damaged: its members cannot be read")
    if fmt.name == "image":
        return result("needs_ocr", "an image: its text is in the pixels")
    chain = CHAINS.get(fmt.name)
    if chain is None:
        return result("unsupported", f"no extractor for {fmt.name} files")
    notes: list[str] = []
    rejected: tuple[str, str] | None = None  # the first text the gate refused, and by whom
    for extractor in chain:
        made_by = extractor_id(extractor)
        if made_by is None:
            notes.append(f"{extractor.name}: not installed")
            continue
        try:
            got = extractor.run(data)
        except Encrypted as exc:
            return result("encrypted", str(exc), by=made_by)
        except Unavailable as exc:
            notes.append(f"{extractor.name}: {exc}")
            continue
        except MemoryError:
            raise  # the sandbox's memory cap, not this extractor: the sandbox says so
        except Exception as exc:  # a broken file breaks libraries in any way they like
            notes.append(f"{extractor.name}: {type(exc).__name__}: {exc}"[:300])
            continue
        text = normalise(got.text)
        why = problem(text, got.pages)
        if why is None:
            return result("ok", "; ".join(notes), text, made_by)
        notes.append(f"{extractor.name}: {why}")
        rejected = rejected or (text, made_by)
    message = "; ".join(notes)
    if rejected is None:
        return result("failed", message)
    text, made_by = rejected
    status: Status = "needs_ocr" if fmt.name in SCANNABLE else "failed"
    return result(status, message, text, made_by)


def read_scan(data: bytes, fmt: Format | None = None) -> Extraction:
    """A scan's text by OCR (the `ocr` extra), through the same quality gate: `ok`, or
    `needs_ocr` with the reason OCR gave no text. Slow: the sandbox runs it only for a
    file `extract` found to be a scan, under limits of its own."""
    fmt = fmt or formats.identify(data)

    def result(status: Status, message: str, text: str = "", by: str | None = None) -> Extraction:
        return Extraction(fmt.name, fmt.media_type, status, by, text, message)

    made_by = extractor_id(RAPIDOCR)
    if made_by is None:
        return result("needs_ocr", "rapidocr: not installed (the ocr extra)")
    if fmt.name not in OCR_FORMATS:
        return result("needs_ocr", f"rapidocr: no OCR for {fmt.name} files")
    try:
        got = RAPIDOCR.run(data)
    except MemoryError:
        raise  # the sandbox's memory cap, not the scan: the sandbox says so
    except Exception as exc:  # a broken scan breaks the renderer or the image reader
        return result("needs_ocr", f"rapidocr: {type(exc).__name__}: {exc}"[:300])
    text = normalise(got.text)
    why = problem(text, got.pages)
    if why is not None:
        return result("needs_ocr", f"rapidocr: {why}")
    return result("ok", got.note, text, made_by)
