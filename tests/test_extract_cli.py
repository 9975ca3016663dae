"""`govwatch extract FILE…`: one JSON line per file, in order, the format by content."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from govwatch.cli import main
from govwatch.crawler import sandbox
from tests import attachment_files as files
from tests.conftest import LocalServer


def test_extract_files_as_jsonl(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sandbox, "ocr_installed", lambda: False)  # as without the ocr extra
    named_doc = tmp_path / "岗位表.doc"  # a DOCX, as sites name them
    named_doc.write_bytes(files.docx_notice())
    sheet = tmp_path / "schools.et"
    sheet.write_bytes(files.xls())
    scan = tmp_path / "scan.pdf"
    scan.write_bytes(files.scanned_pdf())
    result = CliRunner().invoke(
        main, ["extract", str(named_doc), str(sheet), str(tmp_path / "gone.pdf"), str(scan)]
    )
    assert result.exit_code == 1  # the missing file; the others are answered
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["input"] for line in lines] == [
        str(named_doc),
        str(sheet),
        str(tmp_path / "gone.pdf"),
        str(scan),
    ]
    docx, xls, gone, scanned = lines
    assert (docx["format"], docx["status"]) == ("docx", "ok")
    assert docx["sha256"] == hashlib.sha256(named_doc.read_bytes()).hexdigest()
    assert docx["size"] == named_doc.stat().st_size
    assert docx["extractor"].startswith("python-docx@")
    assert "联系人：王老师" in docx["text"]
    assert (xls["format"], xls["media_type"], xls["status"]) == (
        "xls",
        "application/vnd.ms-excel",
        "ok",
    )
    assert xls["text"].startswith("工作表：岗位表\n岗位代码 | 岗位名称")
    assert gone == {
        "input": str(tmp_path / "gone.pdf"),
        "error": f"{tmp_path / 'gone.pdf'}: No such file or directory",
    }
    assert (scanned["status"], scanned["text"]) == ("needs_ocr", "")
    assert "rapidocr" not in scanned["message"]
    assert "No such file or directory" in result.stderr


PAGE = """<html><head><meta charset="utf-8"><title>关于公布岗位表的通知</title></head><body>
<div class="article"><h1>关于公布岗位表的通知</h1><div class="content">
<p>各有关学校：现将2024年公开招聘教师岗位表公布如下，请各校认真组织报名工作。</p>
<p>附件：<a href="/files/gwb.xlsx">岗位表.xlsx</a></p>
<p>附件：<a href="/files/gone.pdf">说明.pdf</a></p>
</div></div></body></html>"""


def test_clean_with_attachments_fetches_and_extracts(
    http_server: LocalServer, tmp_path: Path
) -> None:
    http_server.page("/files/gwb.xlsx", files.xlsx(), content_type="application/octet-stream")
    saved = tmp_path / "notice.html"
    saved.write_text(PAGE, encoding="utf-8")
    url = f"{http_server.base}/tzgg/1.html"
    result = CliRunner().invoke(main, ["clean", str(saved), "--url", url, "--attachments"])
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    sheet, gone = record["attachments"]
    assert (sheet["name"], sheet["format"], sheet["status"]) == ("岗位表.xlsx", "xlsx", "ok")
    assert sheet["url"] == f"{http_server.base}/files/gwb.xlsx"
    assert "001 | 初中语文教师 | 2 | 本科及以上" in sheet["text"]
    assert gone == {
        "name": "说明.pdf",
        "url": f"{http_server.base}/files/gone.pdf",
        "error": "HTTP 404",
    }
    text = CliRunner().invoke(
        main, ["clean", str(saved), "--url", url, "--attachments", "--format", "text"]
    )
    assert "附件：岗位表.xlsx <" in text.stdout and "  not fetched: HTTP 404" in text.stdout
    plain = json.loads(CliRunner().invoke(main, ["clean", str(saved), "--url", url]).stdout)
    assert plain["attachments"][0] == {
        "name": "岗位表.xlsx",
        "url": f"{http_server.base}/files/gwb.xlsx",
    }
