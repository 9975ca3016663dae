"""`govwatch extract FILE…`: one JSON line per file, in order, the format by content."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from click.testing import CliRunner

from govwatch.cli import main
from tests import attachment_files as files


def test_extract_files_as_jsonl(tmp_path: Path) -> None:
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
    assert "No such file or directory" in result.stderr
