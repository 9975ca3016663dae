"""Attachments: identified by their bytes, their text extracted by the format's chain and
judged by the quality gate; every format's text pinned exactly."""

from __future__ import annotations

import shutil

import pytest

from govwatch.parsers.attachments import extract, identify, normalise, problem
from govwatch.parsers.attachments.extract import code_digest
from tests import attachment_files as files

NOTICE = "\n".join((files.TITLE, *files.PARAGRAPHS))
SHEETS = (
    "工作表：岗位表\n"
    "岗位代码 | 岗位名称 | 招聘人数 | 学历要求\n"
    "001 | 初中语文教师 | 2 | 本科及以上\n"
    "002 | 小学数学教师 | 3 | 本科及以上\n"
    "\n"
    "工作表：说明\n"
    "报名时间：2024年6月1日至6月5日，逾期不予受理。"
)


def test_pdf_text_by_pdfium() -> None:
    got = extract(files.pdf())
    assert (got.format, got.media_type, got.status) == ("pdf", "application/pdf", "ok")
    assert got.extractor == f"pypdfium2@{_version('pypdfium2')}+{code_digest()}"
    assert got.text == NOTICE


def test_docx_reads_tables_in_order_merged_cells_once_and_text_boxes() -> None:
    got = extract(files.docx_notice())
    assert (got.format, got.status) == ("docx", "ok")
    assert got.extractor is not None and got.extractor.startswith("python-docx@")
    assert got.text == (
        "关于公布2024年公开招聘教师岗位表的通知\n"
        "各有关学校：\n"
        "岗位代码 | 岗位名称 | 招聘人数 | 学历要求 | 面试\n"
        "001 | 初中语文教师 | 2 | 本科及以上\n"
        "002 | 小学数学教师 | 3 | 本科及以上\n"
        "备注：持教师资格证\n"
        "根据《事业单位公开招聘人员暂行规定》，现将我局2024年公开招聘教师岗位公布如下。\n"
        "联系人：王老师\n"  # the text box, once (not again from its VML fallback)
        "报名时间：2024年6月1日至6月5日，逾期不予受理。"
    )


@pytest.mark.skipif(shutil.which("antiword") is None, reason="antiword is not installed")
def test_doc_by_antiword_tables_as_rows() -> None:
    got = extract(files.doc())
    assert (got.format, got.media_type, got.status) == ("doc", "application/msword", "ok")
    assert got.extractor is not None and got.extractor.startswith("antiword@0.37+")
    assert got.text == (
        "关于公布2024年公开招聘教师岗位表的通知\n\n"
        "各有关学校：\n\n"
        "岗位代码 | 岗位名称 | 招聘人数 | 学历要求 | 面试\n"
        "001 | 初中语文教师 | 2 | 本科及以上\n"
        "002 | 小学数学教师 | 3 | 本科及以上\n"
        "备注：持教师资格证\n\n"
        "根据《事业单位公开招聘人员暂行规定》，现将我局2024年公开招聘教师岗位公布如下。\n\n"
        "报名时间：2024年6月1日至6月5日，逾期不予受理。\n\n"
        "-----------------------\n\n"
        "联系人：王老师"
    )


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed")
def test_doc_antiword_cannot_read_goes_to_libreoffice() -> None:
    # LibreOffice keeps a short document's text in the OLE mini stream, which antiword
    # does not read.
    got = extract((files.FIXTURES / "short.doc").read_bytes())
    assert got.status == "ok"
    assert got.extractor is not None and got.extractor.startswith("libreoffice@")
    assert got.text == "各有关单位：\n为进一步规范教师招聘工作，"
    assert "antiword:" in got.message and "too small" in got.message


@pytest.mark.parametrize("make", [files.xlsx, files.xls], ids=["xlsx", "xls"])
def test_spreadsheets_row_by_row_per_sheet(make: object) -> None:
    data = make()  # type: ignore[operator]
    got = extract(data)
    assert got.status == "ok"
    assert got.extractor is not None and got.extractor.startswith("python-calamine@")
    assert got.text == SHEETS


def test_wps_gbk_xls_by_xlrd_where_calamine_would_misread() -> None:
    # CODEPAGE 936 and GBK bytes in 8-bit strings: calamine 0.9 gives U+FFFD and NULs.
    data = files.wps_xls({"岗位表": files.POSTS, "说明": ((files.PARAGRAPHS[2],),)})
    assert identify(data).name == "xls"
    got = extract(data)
    assert (got.status, got.text) == ("ok", SHEETS)
    assert got.extractor == f"xlrd@{_version('xlrd')}+{code_digest()}"
    assert (
        got.message
        == "python-calamine: ValueError: codepage 936: calamine would misread its strings"
    )


def test_a_unicode_xls_stays_with_calamine() -> None:
    got = extract(files.xls())  # xlwt writes CODEPAGE 1200 and UTF-16 strings
    assert (got.status, got.message) == ("ok", "")
    assert got.extractor is not None and got.extractor.startswith("python-calamine@")


@pytest.mark.parametrize(
    ("make", "fmt", "message"),
    [
        (files.encrypted_doc, "doc", "a password-protected DOC document"),
        (
            lambda: files.wps_xls({"岗位表": files.POSTS}, password=True),
            "xls",
            "a password-protected XLS document",
        ),
        (
            lambda: files.encrypted_ooxml(files.docx_notice()),
            "encrypted-ooxml",
            "a password-protected Office document",
        ),
        (
            lambda: files.encrypted_ooxml(files.xlsx()),
            "encrypted-ooxml",
            "a password-protected Office document",
        ),
    ],
    ids=["doc", "xls", "docx", "xlsx"],
)
def test_encrypted_office_documents(make: object, fmt: str, message: str) -> None:
    # Told by the file itself (FIB fEncrypted, FILEPASS, an EncryptedPackage stream),
    # whichever extractors are installed.
    got = extract(make())  # type: ignore[operator]
    assert (got.format, got.status, got.extractor, got.text, got.message) == (
        fmt,
        "encrypted",
        None,
        "",
        message,
    )


def test_ofd_by_ofdkit() -> None:
    got = extract(files.ofd())
    assert (got.format, got.media_type, got.status) == ("ofd", "application/ofd", "ok")
    assert got.extractor is not None and got.extractor.startswith("ofdkit@0.2.0+")
    assert got.text == "\n\n".join((files.TITLE, *files.PARAGRAPHS))


def test_identified_by_content_not_name() -> None:
    assert identify(files.docx_notice()).name == "docx"  # what sites serve as `.doc`
    assert identify(files.xlsx()).name == "xlsx"
    assert identify(files.xls()).name == "xls"
    assert identify(files.doc()).name == "doc"
    assert identify(files.ofd()).name == "ofd"
    assert identify(b"\n%PDF-1.7 junk before the header is allowed").name == "pdf"
    assert identify(b"{\\rtf1\\ansi hello}").name == "rtf"
    assert identify(b"<html><body>not an attachment</body></html>").name == "unknown"
    assert identify(files.pdf()[:-1]).name == "pdf"


def test_scanned_pdf_needs_ocr() -> None:
    got = extract(files.scanned_pdf())
    assert (got.status, got.text) == ("needs_ocr", "")
    assert "0 CJK characters on 1 pages" in got.message


def test_image_needs_ocr_and_unknown_is_unsupported() -> None:
    assert extract(b"\x89PNG\r\n\x1a\n" + b"\0" * 64).status == "needs_ocr"
    got = extract(b"<html><body>404</body></html>")
    assert (got.format, got.status) == ("unknown", "unsupported")


def test_encrypted_pdf() -> None:
    got = extract(files.pdf(password="secret"))
    assert (got.status, got.text, got.message) == ("encrypted", "", "the PDF needs a password")


def test_truncated_files_fail_with_reasons() -> None:
    docx_half = extract(files.docx_notice()[:3000])
    assert (docx_half.format, docx_half.status) == ("damaged-zip", "failed")
    pdf_half = extract(files.pdf()[:1500])
    assert (pdf_half.format, pdf_half.status, pdf_half.text) == ("pdf", "failed", "")
    assert pdf_half.message.startswith("pypdfium2: PdfiumError: Failed to load document")
    assert "; pypdf: PdfStreamError" in pdf_half.message


def test_quality_gate() -> None:
    assert problem("关于公布岗位表的通知，各有关学校请按时报名参加考试", pages=1) is None
    assert problem("(cid:12)(cid:34)", pages=None) is not None
    assert problem("\ufffd\ufffd岗位表", pages=None) is not None
    assert problem("岗位" * 100 + "\uf0b7", pages=None) is None  # one symbol-font bullet
    assert problem("岗位\ue000\ue001", pages=None) is not None
    assert problem("!\"#$%&'()*+,-./0123456789" * 5, pages=1) is not None  # fonts lost the map
    assert problem("!\"#$%&'()*+,-./0123456789" * 5, pages=None) is None


def test_normalise_whitespace_only_never_nfkc() -> None:
    text = "  一、总则\r\n\r\n\r\n\r\n第一条\t\t为规范，制定本办法（试行）。\u00a0 \rＡ１\f第二页 "
    assert normalise(text) == "一、总则\n\n第一条 为规范，制定本办法（试行）。\nＡ１\n第二页"


def _version(name: str) -> str:
    from importlib.metadata import version

    return version(name)
