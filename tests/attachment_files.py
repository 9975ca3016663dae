"""Attachments of every format, built the way real ones are: by the libraries that write
them (reportlab, python-docx, openpyxl, xlwt), an OFD package laid out as GB/T 33190 says,
and a DOC saved by LibreOffice (tests/fixtures/attachments/, made from NOTICE_LINES).
Nothing here comes from a real site."""

from __future__ import annotations

import copy
import io
import struct
import zipfile
from pathlib import Path

import docx
import olefile
import openpyxl
import pypdfium2
import xlwt
from docx.oxml import parse_xml
from msoffcrypto.format.ooxml import OOXMLFile
from PIL import Image, ImageDraw, ImageFilter
from reportlab.lib.pdfencrypt import StandardEncryption
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas
from xlwt.CompoundDoc import XlsDoc

FIXTURES = Path(__file__).parent / "fixtures" / "attachments"

TITLE = "关于公布2024年公开招聘教师岗位表的通知"
PARAGRAPHS = (
    "各有关学校：",
    "根据《事业单位公开招聘人员暂行规定》，现将我局2024年公开招聘教师岗位公布如下。",
    "报名时间：2024年6月1日至6月5日，逾期不予受理。",
)
POSTS = (
    ("岗位代码", "岗位名称", "招聘人数", "学历要求"),
    ("001", "初中语文教师", "2", "本科及以上"),
    ("002", "小学数学教师", "3", "本科及以上"),
)

pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))


def pdf(lines: tuple[str, ...] = (TITLE, *PARAGRAPHS), *, password: str | None = None) -> bytes:
    """A text PDF, one line of text each, with the Adobe CJK font PDF readers carry."""
    out = io.BytesIO()
    page = canvas.Canvas(
        out, encrypt=StandardEncryption(password, canPrint=0) if password else None
    )
    page.setFont("STSong-Light", 12)
    for n, line in enumerate(lines):
        page.drawString(60, 780 - 24 * n, line)
    page.showPage()
    page.save()
    return out.getvalue()


def _scanned_page(lines: tuple[str, ...]) -> Image.Image:
    """reportlab sets the text, PDFium rasterises it at 200 dpi, Pillow makes it look
    scanned: greyscale, tilted half a degree, a little blur."""
    printed = pypdfium2.PdfDocument(pdf(lines))
    picture = printed[0].render(scale=200 / 72, grayscale=True).to_pil()
    printed.close()
    return picture.rotate(0.5, Image.Resampling.BICUBIC, fillcolor=255).filter(
        ImageFilter.GaussianBlur(0.6)
    )


def scan(lines: tuple[str, ...] = (TITLE, *PARAGRAPHS), *, pages: int = 1) -> bytes:
    """A scanned notice: each page a picture of `lines` and nothing else, an image-only
    PDF as Pillow writes one."""
    page = _scanned_page(lines)
    out = io.BytesIO()
    page.save(out, "PDF", resolution=200, save_all=True, append_images=[page] * (pages - 1))
    return out.getvalue()


def scan_jpeg(lines: tuple[str, ...] = (TITLE, *PARAGRAPHS)) -> bytes:
    """The scanned page as a photo of it is attached: a JPEG."""
    out = io.BytesIO()
    _scanned_page(lines).save(out, "JPEG", quality=80)
    return out.getvalue()


def scanned_pdf() -> bytes:
    """A page that is a picture of text, as a scanner makes it: no text layer."""
    image = Image.new("L", (600, 200), 255)
    ImageDraw.Draw(image).rectangle((40, 40, 560, 60), fill=0)
    out = io.BytesIO()
    page = canvas.Canvas(out)
    page.drawImage(ImageReader(image), 40, 500, width=500, height=160)
    page.showPage()
    page.save()
    return out.getvalue()


W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_TEXT_BOX = f"""<w:r xmlns:w="{W}"
  xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006"
  xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing"
  xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main"
  xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape"
  xmlns:v="urn:schemas-microsoft-com:vml">
 <mc:AlternateContent>
  <mc:Choice Requires="wps"><w:drawing><wp:anchor><a:graphic><a:graphicData
    uri="http://schemas.microsoft.com/office/word/2010/wordprocessingShape"><wps:wsp><wps:txbx>
    <w:txbxContent><w:p><w:r><w:t>{{text}}</w:t></w:r></w:p></w:txbxContent>
  </wps:txbx></wps:wsp></a:graphicData></a:graphic></wp:anchor></w:drawing></mc:Choice>
  <mc:Fallback><w:pict><v:shape><v:textbox>
    <w:txbxContent><w:p><w:r><w:t>{{text}}</w:t></w:r></w:p></w:txbxContent>
  </v:textbox></v:shape></w:pict></mc:Fallback>
 </mc:AlternateContent>
</w:r>"""


def docx_notice(posts: tuple[tuple[str, ...], ...] = POSTS, box: str = "联系人：王老师") -> bytes:
    """A notice as Word writes one: paragraphs, the posts table (its header cell 备注
    merged across two columns and 学历要求 down two rows), a text box between them."""
    document = docx.Document()
    document.add_paragraph(TITLE)
    document.add_paragraph(PARAGRAPHS[0])
    table = document.add_table(rows=len(posts) + 1, cols=len(posts[0]) + 1)
    for r, row in enumerate(posts):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    note = table.cell(len(posts), 0).merge(table.cell(len(posts), 1))
    note.text = "备注：持教师资格证"
    table.cell(0, len(posts[0])).merge(table.cell(1, len(posts[0]))).text = "面试"
    boxed = document.add_paragraph(PARAGRAPHS[1])
    boxed._p.append(parse_xml(_TEXT_BOX.format(text=box)))
    document.add_paragraph(PARAGRAPHS[2])
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def xlsx(posts: tuple[tuple[str, ...], ...] = POSTS) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "岗位表"
    for row in posts:
        sheet.append([int(v) if v.isdigit() and len(v) < 3 else v for v in row])
    book.create_sheet("说明").append([PARAGRAPHS[2]])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def xls(posts: tuple[tuple[str, ...], ...] = POSTS) -> bytes:
    """Excel 97 (BIFF8), as WPS ET and old Excel save a `.xls`."""
    book = xlwt.Workbook(encoding="gbk")
    sheet = book.add_sheet("岗位表")
    for r, row in enumerate(posts):
        for c, value in enumerate(row):
            sheet.write(r, c, int(value) if value.isdigit() and len(value) < 3 else value)
    book.add_sheet("说明").write(0, 0, PARAGRAPHS[2])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _record(kind: int, body: bytes) -> bytes:
    return struct.pack("<HH", kind, len(body)) + body


def wps_xls(sheets: dict[str, tuple[tuple[str, ...], ...]], *, password: bool = False) -> bytes:
    """A BIFF8 `.xls` as WPS writes one on a Chinese system: CODEPAGE 936, and each string
    GBK bytes in BIFF8's 8-bit form (which the format reserves for Latin-1), counted in
    bytes; strings in the shared string table, numbers as NUMBER cells. xlwt cannot write
    this (it writes UTF-16 and CODEPAGE 1200), so the records are laid here and put in an
    OLE container by xlwt's CompoundDoc. `password`: a FILEPASS record, as a workbook
    saved with a password to open has first (the rest is not encrypted here)."""
    table: dict[str, int] = {}
    bodies = []
    for rows in sheets.values():
        cells = b""
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if value.isdigit() and len(value) < 3:
                    cells += _record(0x0203, struct.pack("<HHHd", r, c, 0, float(value)))
                else:
                    index = table.setdefault(value, len(table))
                    cells += _record(0x00FD, struct.pack("<HHHI", r, c, 0, index))
        width = max((len(row) for row in rows), default=0)
        bodies.append(
            _record(0x0809, struct.pack("<HHHHII", 0x0600, 0x0010, 0x0DBB, 0x07CC, 0, 6))
            + _record(0x0200, struct.pack("<IIHHH", 0, len(rows), 0, width, 0))
            + cells
            + _record(0x000A, b"")
        )
    strings = b"".join(
        struct.pack("<HB", len(raw), 0) + raw for raw in (s.encode("gbk") for s in table)
    )

    def workbook_globals(offsets: list[int]) -> bytes:
        names = b"".join(
            _record(0x0085, struct.pack("<IBBBB", at, 0, 0, len(raw), 0) + raw)
            for at, raw in zip(offsets, (name.encode("gbk") for name in sheets), strict=True)
        )
        return (
            _record(0x0809, struct.pack("<HHHHII", 0x0600, 0x0005, 0x0DBB, 0x07CC, 0, 6))
            + (_record(0x002F, struct.pack("<HHH", 1, 1, 2) + bytes(48)) if password else b"")
            + _record(0x0042, struct.pack("<H", 936))
            + names
            + _record(0x00FC, struct.pack("<II", len(table), len(table)) + strings)
            + _record(0x000A, b"")
        )

    at = len(workbook_globals([0] * len(bodies)))
    offsets = []
    for body in bodies:
        offsets.append(at)
        at += len(body)
    out = io.BytesIO()
    XlsDoc().save(out, workbook_globals(offsets) + b"".join(bodies))
    return out.getvalue()


def doc() -> bytes:
    """A Word 97 `.doc` (LibreOffice saved it from docx_notice's text; see fixtures)."""
    return (FIXTURES / "notice.doc").read_bytes()


def encrypted_doc() -> bytes:
    """doc() with its FIB saying fEncrypted, as Word sets it for a password to open (the
    text is not scrambled here: readers go by the flag)."""
    with olefile.OleFileIO(doc(), write_mode=True) as ole:
        word = bytearray(ole.openstream("WordDocument").read())
        word[0x0B] |= 0x01  # FibBase flags at 0x0A, fEncrypted is bit 8
        ole.write_stream("WordDocument", bytes(word))
        written: bytes = ole.fp.getvalue()
    return written


def encrypted_ooxml(data: bytes, password: str = "secret") -> bytes:
    """A DOCX or XLSX saved with a password to open: an OLE file of EncryptionInfo and
    EncryptedPackage streams (ECMA-376 agile encryption), as Office writes it."""
    out = io.BytesIO()
    OOXMLFile(io.BytesIO(data)).encrypt(password, out)
    return out.getvalue()


OFD_NS = "http://www.ofdspec.org/2016"


def ofd(lines: tuple[str, ...] = (TITLE, *PARAGRAPHS), per_page: int = 25) -> bytes:
    """An OFD package: OFD.xml → Doc_0/Document.xml → pages of text objects, a font in
    the public resources, and a signature folder as signed documents carry."""
    chunks = [lines[n : n + per_page] for n in range(0, len(lines), per_page)] or [()]
    pages = "".join(
        f'<ofd:Page ID="{n + 1}" BaseLoc="Pages/Page_{n}/Content.xml"/>' for n in range(len(chunks))
    )
    parts = {
        "OFD.xml": f'<ofd:OFD xmlns:ofd="{OFD_NS}" Version="1.0" DocType="OFD"><ofd:DocBody>'
        "<ofd:DocInfo><ofd:DocID>0c7d2f</ofd:DocID><ofd:Title>通知</ofd:Title></ofd:DocInfo>"
        "<ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot>"
        "<ofd:Signatures>Doc_0/Signs/Signatures.xml</ofd:Signatures>"
        "</ofd:DocBody></ofd:OFD>",
        "Doc_0/Document.xml": f'<ofd:Document xmlns:ofd="{OFD_NS}"><ofd:CommonData>'
        "<ofd:MaxUnitID>99</ofd:MaxUnitID><ofd:PageArea><ofd:PhysicalBox>0 0 210 297"
        "</ofd:PhysicalBox></ofd:PageArea><ofd:PublicRes>PublicRes.xml</ofd:PublicRes>"
        f"</ofd:CommonData><ofd:Pages>{pages}</ofd:Pages></ofd:Document>",
        "Doc_0/PublicRes.xml": f'<ofd:Res xmlns:ofd="{OFD_NS}" BaseLoc="Res"><ofd:Fonts>'
        '<ofd:Font ID="2" FontName="宋体" FamilyName="宋体"/></ofd:Fonts></ofd:Res>',
        "Doc_0/Signs/Signatures.xml": f'<ofd:Signatures xmlns:ofd="{OFD_NS}"/>',
    }
    for n, chunk in enumerate(chunks):
        objects = "".join(
            f'<ofd:TextObject ID="{100 + k}" Boundary="20 {20 + 10 * k} 170 8" Font="2" '
            f'Size="4"><ofd:TextCode X="0" Y="4">{line}</ofd:TextCode></ofd:TextObject>'
            for k, line in enumerate(chunk)
        )
        parts[f"Doc_0/Pages/Page_{n}/Content.xml"] = (
            f'<ofd:Page xmlns:ofd="{OFD_NS}"><ofd:Content>'
            f'<ofd:Layer ID="3">{objects}</ofd:Layer></ofd:Content></ofd:Page>'
        )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        for name, xml in parts.items():
            package.writestr(name, '<?xml version="1.0" encoding="UTF-8"?>' + xml)
    return out.getvalue()


def zip_bomb(megabytes: int) -> bytes:
    """A DOCX whose document.xml inflates from a few kilobytes to `megabytes` MB: valid
    XML, a paragraph of spaces, as the classic bombs of Office files are."""
    inner = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(docx_notice())) as good,
        zipfile.ZipFile(inner, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as bomb,
    ):
        for item in good.infolist():
            if item.filename != "word/document.xml":
                bomb.writestr(copy.copy(item), good.read(item))
        with bomb.open("word/document.xml", "w", force_zip64=True) as xml:
            xml.write(f'<w:document xmlns:w="{W}"><w:body><w:p><w:r><w:t>'.encode())
            block = b" " * (1 << 20)
            for _ in range(megabytes):
                xml.write(block)
            xml.write(b"</w:t></w:r></w:p></w:body></w:document>")
    return inner.getvalue()
