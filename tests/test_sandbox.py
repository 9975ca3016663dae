"""Extraction in a process of its own: a hostile file costs its status, never the crawl."""

from __future__ import annotations

import asyncio
import signal
import time

import pytest

from govwatch.crawler.sandbox import Limits, Sandbox, _outcome, extract_isolated
from govwatch.parsers.attachments import extract
from tests import attachment_files as files


def test_the_sandbox_gives_what_extract_gives() -> None:
    data = files.docx_notice()
    assert asyncio.run(extract_isolated(data, Limits())) == extract(data)


def test_over_time_is_timeout_and_returns_at_once() -> None:
    started = time.monotonic()
    got = asyncio.run(extract_isolated(files.pdf(), Limits(timeout=0.05)))
    assert (got.status, got.text, got.extractor) == ("timeout", "", None)
    assert got.message == "extraction took longer than 0.05 s"
    assert time.monotonic() - started < 5


def test_memory_cap_is_failed_out_of_memory() -> None:
    got = asyncio.run(extract_isolated(files.pdf(), Limits(memory_mb=16)))
    assert (got.format, got.status, got.text) == ("pdf", "failed", "")
    assert got.message == "out of memory (the cap is 16 MB)"


def test_a_process_that_dies_is_failed_with_its_signal() -> None:
    head = [b'{"format": "pdf", "media_type": "application/pdf"}']
    got = _outcome(head, [], -signal.SIGKILL, False, 60.0)
    assert (got.format, got.status) == ("pdf", "failed")
    assert got.message == "the extracting process died of SIGKILL"
    silent = _outcome([], ["Fatal Python error: x"], 1, False, 60.0)
    assert (silent.format, silent.status) == ("unknown", "failed")
    assert silent.message == "the extracting process failed (Fatal Python error: x)"


@pytest.mark.slow
@pytest.mark.serial
def test_parallel_extractions_are_bounded_and_each_answers() -> None:
    async def run() -> list[str]:
        sandbox = Sandbox(parallel=2)
        made = [files.pdf(), files.xlsx(), files.ofd(), files.scanned_pdf()]
        return [e.status for e in await asyncio.gather(*map(sandbox.extract, made))]

    assert asyncio.run(run()) == ["ok", "ok", "ok", "needs_ocr"]


@pytest.mark.slow
@pytest.mark.serial
def test_zip_bomb_meets_the_memory_cap() -> None:
    bomb = files.zip_bomb(300)  # 1.4 MB inflating to 300 MB of XML
    got = asyncio.run(extract_isolated(bomb, Limits(memory_mb=256)))
    assert (got.format, got.status, got.text) == ("docx", "failed", "")
    assert got.message == "out of memory (the cap is 256 MB)"
