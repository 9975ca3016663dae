"""Word documents. DOCX: python-docx, walking the body in document order (paragraphs and
tables interleaved: `.paragraphs` alone misses every table, most of a form's text), each
merged cell once, and text boxes, which python-docx does not read. DOC and WPS: antiword
run as a program (it matched LibreOffice on real files), LibreOffice headless where it
is installed as the fallback, also for RTF."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import docx
from docx.oxml.ns import qn
from docx.table import Table
from docx.text.paragraph import Paragraph
from lxml import etree

from govwatch.parsers.attachments.records import Encrypted, Text, Unavailable

_NS = {
    "w": "http://schemas.openxmlformats.org/wordprocessingml/2006/main",
    "mc": "http://schemas.openxmlformats.org/markup-compatibility/2006",
}
# A text box is written twice, as DrawingML (mc:Choice) and as VML for older readers
# (mc:Fallback): read the first only.
_TEXT_BOXES = etree.XPath(".//w:txbxContent[not(ancestor::mc:Fallback)]", namespaces=_NS)


def docx_text(data: bytes) -> Text:
    document = docx.Document(io.BytesIO(data))
    lines: list[str] = []
    _walk(document.element.body, document, lines)
    return Text("\n".join(lines))


def _walk(container: etree._Element, parent: object, lines: list[str]) -> None:
    for child in container.iterchildren():
        if child.tag == qn("w:p"):
            lines.append(Paragraph(child, parent).text)  # type: ignore[arg-type]
            for box in _TEXT_BOXES(child):
                _walk(box, parent, lines)
        elif child.tag == qn("w:tbl"):
            _table(Table(child, parent), lines)  # type: ignore[arg-type]
        elif child.tag == qn("w:sdt"):
            for content in child.iterchildren(qn("w:sdtContent")):
                _walk(content, parent, lines)


def _table(table: Table, lines: list[str]) -> None:
    """One line per row, cells joined by " | " as in a notice body's tables; a cell merged
    across columns or rows is python-docx's same cell again, and is written once."""
    # The elements themselves, not their ids: lxml makes a new proxy (and may reuse an
    # id) for a node nothing holds on to.
    seen: set[etree._Element] = set()
    for row in table.rows:
        cells = []
        for cell in row.cells:
            if cell._tc in seen:
                continue
            seen.add(cell._tc)
            cells.append(" ".join(p.text for p in cell.paragraphs).strip())
        while cells and not cells[-1]:
            cells.pop()
        if cells:
            lines.append(" | ".join(cells))


ANTIWORD_TIMEOUT = 60.0
"""A bound of its own, inside the sandbox's: antiword is a second process to stop."""


def antiword_text(data: bytes) -> Text:
    program = shutil.which("antiword")
    if program is None:
        raise Unavailable("antiword is not installed (apt-get install antiword)")
    with tempfile.TemporaryDirectory(prefix="govwatch-antiword-") as folder:
        path = Path(folder, "document.doc")
        path.write_bytes(data)
        # -w 0: paragraphs unwrapped, so a diff is per paragraph, not per 80 columns.
        done = subprocess.run(
            [program, "-m", "UTF-8.txt", "-w", "0", str(path)],
            capture_output=True,
            timeout=ANTIWORD_TIMEOUT,
            check=False,
        )
    err = done.stderr.decode("utf-8", "replace").strip()
    if "encrypted" in err.lower():
        raise Encrypted("the document needs a password")
    if done.returncode != 0:
        raise ValueError(f"antiword: {err.splitlines()[-1] if err else done.returncode}")
    return Text("\n".join(_antiword_row(line) for line in done.stdout.decode().splitlines()))


def _antiword_row(line: str) -> str:
    """antiword draws a table row as `|cell   |cell   |`: cells joined by " | " instead."""
    stripped = line.strip()
    if len(stripped) > 1 and stripped.startswith("|") and stripped.endswith("|"):
        cells = [cell.strip() for cell in stripped[1:-1].split("|")]
        while cells and not cells[-1]:
            cells.pop()
        return " | ".join(cells)
    return line


LIBREOFFICE_TIMEOUT = 120.0


def soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def libreoffice_text(data: bytes) -> Text:
    program = soffice()
    if program is None:
        raise Unavailable("LibreOffice is not installed")
    with tempfile.TemporaryDirectory(prefix="govwatch-soffice-") as folder:
        source = Path(folder, "document")
        source.write_bytes(data)
        # A profile of its own: two conversions at once must not share (and lock) one.
        profile = Path(folder, "profile").as_uri()
        done = subprocess.run(
            [
                program,
                f"-env:UserInstallation={profile}",
                "--headless",
                "--norestore",
                "--convert-to",
                "txt:Text (encoded):UTF8",
                "--outdir",
                folder,
                str(source),
            ],
            capture_output=True,
            timeout=LIBREOFFICE_TIMEOUT,
            check=False,
            env={**os.environ, "HOME": folder},
        )
        target = Path(folder, "document.txt")
        if not target.exists():
            err = done.stderr.decode("utf-8", "replace").strip().splitlines()
            raise ValueError(f"LibreOffice converted nothing: {err[-1] if err else ''}")
        return Text(target.read_bytes().decode("utf-8-sig"))
