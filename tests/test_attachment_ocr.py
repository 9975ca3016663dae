"""Scans read by OCR (the `ocr` extra, rapidocr-onnxruntime): in a process of their own
under OCR's limits, through the same quality gate, the first OCR_PAGES pages of a PDF;
without the extra, or when OCR gives nothing, a scan stays `needs_ocr`."""

from __future__ import annotations

import asyncio
import importlib
import json
from pathlib import Path

import pytest

from govwatch.crawler import sandbox
from govwatch.crawler.sandbox import Limits, extract_isolated
from govwatch.feeds.render import FeedBuilder
from govwatch.feeds.topics import ALL
from govwatch.parsers.attachments import ocr, read_scan
from govwatch.parsers.attachments.extract import Extractor, code_digest
from govwatch.store import Store
from tests import attachment_files as files
from tests.conftest import LocalServer
from tests.test_attachment_crawl import Files, crawl, site, texts_of

# The module, not the function the package exports under its name.
extraction = importlib.import_module("govwatch.parsers.attachments.extract")
LINES = (files.TITLE, *files.PARAGRAPHS)
MAX_CER = 0.02
"""Character errors allowed per character of the page: rapidocr made ~1% on a real scan."""


def character_error_rate(expected: str, got: str) -> float:
    """Levenshtein distance over the characters but spaces and line breaks (OCR sets
    neither as the page did), per expected character."""
    want = "".join(expected.split())
    have = "".join(got.split())
    row = list(range(len(have) + 1))
    for i, ch in enumerate(want, 1):
        diagonal, row[0] = row[0], i
        for j, other in enumerate(have, 1):
            diagonal, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, diagonal + (ch != other))
    return row[-1] / len(want)


def test_character_error_rate() -> None:
    assert character_error_rate("岗位 表\n通知", "岗位表通知") == 0
    assert character_error_rate("岗位表通知", "岗住表通知") == 0.2  # one substituted
    assert character_error_rate("岗位表通知", "岗位表通") == 0.2  # one lost
    assert character_error_rate("岗位表通知", "岗位表通知书") == 0.2  # one made up


def test_without_the_ocr_extra_a_scan_stays_needs_ocr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sandbox, "ocr_installed", lambda: False)
    got = asyncio.run(extract_isolated(files.scan(), Limits()))
    assert (got.format, got.status, got.text) == ("pdf", "needs_ocr", "")
    assert "rapidocr" not in got.message
    missing = Extractor("rapidocr", extraction.RAPIDOCR.run, lambda: None)
    monkeypatch.setattr(extraction, "RAPIDOCR", missing)
    alone = read_scan(files.scan())
    assert (alone.status, alone.message) == ("needs_ocr", "rapidocr: not installed (the ocr extra)")


@pytest.mark.slow  # four processes, two of them loading OCR
@pytest.mark.serial
def test_ocr_that_fails_leaves_needs_ocr_with_its_reason() -> None:
    got = asyncio.run(extract_isolated(files.scan(), Limits(ocr_memory_mb=200)))
    assert (got.status, got.text) == ("needs_ocr", "")
    assert got.extractor is not None and got.extractor.startswith("pypdfium2@")
    assert got.message.startswith("pypdfium2: 0 CJK characters on 1 pages")
    assert "; rapidocr: " in got.message
    slow = asyncio.run(extract_isolated(files.scan(), Limits(ocr_timeout=0.5)))
    assert (slow.status, slow.text) == ("needs_ocr", "")
    assert slow.message.endswith("; rapidocr: extraction took longer than 0.5 s")
    assert read_scan(files.xlsx()).message == "rapidocr: no OCR for xlsx files"


@pytest.mark.slow
@pytest.mark.serial
def test_a_scan_is_read_by_ocr_in_the_sandbox() -> None:
    got = asyncio.run(extract_isolated(files.scan(), Limits()))
    assert (got.format, got.status, got.message) == ("pdf", "ok", "")
    assert got.extractor == f"rapidocr@1.4.4+{code_digest()}"
    assert got.text.splitlines()[0] == files.TITLE
    assert character_error_rate("\n".join(LINES), got.text) <= MAX_CER


@pytest.mark.slow
@pytest.mark.serial
def test_ocr_reads_the_first_pages_and_says_so_and_reads_images(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(ocr, "OCR_PAGES", 1)
    got = read_scan(files.scan(pages=2))
    assert (got.status, got.message) == ("ok", "OCR read the first 1 of 2 pages")
    assert got.text.count(files.TITLE) == 1
    assert character_error_rate("\n".join(LINES), got.text) <= MAX_CER
    photo = read_scan(files.scan_jpeg())
    assert (photo.format, photo.media_type, photo.status) == ("image", "image/jpeg", "ok")
    assert character_error_rate("\n".join(LINES), photo.text) <= MAX_CER


@pytest.mark.slow
@pytest.mark.serial
def test_a_scan_in_a_crawl_gets_its_text_and_the_feed_no_scan_note(
    http_server: LocalServer, tmp_path: Path
) -> None:
    Files(http_server).put("/files/scan.pdf", files.scan())
    seeds = site(http_server, {1: [("附件：扫描件.pdf", "/files/scan.pdf")]}, tmp_path)
    with Store.open(f"sqlite:///{tmp_path / 'db.sqlite'}") as store:
        assert crawl(store, seeds).sites["qs"].new == 1
        fmt, status, text = texts_of(store, f"{http_server.base}/tzgg/1.html")["附件：扫描件.pdf"]
        assert (fmt, status) == ("pdf", "ok")
        assert character_error_rate("\n".join(LINES), text) <= MAX_CER
        feed = json.loads(FeedBuilder(store, "http://govwatch.test").render(ALL, "json").body)
        (item,) = feed["items"]
        assert "附件：扫描件.pdf</a>" in item["content_html"]
        assert "扫描件，未提取文字" not in item["content_html"]
