"""Extract an attachment's text in a process of its own, under a time limit and a memory cap.

A hostile or broken file can make any library loop, recurse or eat memory (a zip bomb
inflating to gigabytes, a PDF whose page tree points at itself): each extraction runs in
a child Python (`python -m govwatch.crawler.sandbox`) that caps its own address space
before it reads the file, in a session of its own so that the programs it starts
(antiword, LibreOffice) die with it. Over time, the whole group is killed and the status
is `timeout`; a child that dies leaves `failed` and the crawl goes on.

A scan (`needs_ocr`) is read again by OCR where the `ocr` extra is installed, in a second
child with limits of its own: OCR takes seconds a page and its models hundreds of MB.
When OCR gives no text (over time, out of memory, too few characters) the status stays
`needs_ocr` and the message says why.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import resource
import signal
import sys
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

from govwatch.parsers.attachments import OCR_FORMATS, Extraction, extract, identify, read_scan
from govwatch.parsers.attachments.extract import RAPIDOCR, extractor_id
from govwatch.parsers.attachments.identify import UNKNOWN

Mode = Literal["text", "ocr"]


@dataclass(frozen=True)
class Limits:
    timeout: float = 60.0
    """Seconds for one file, programs it starts included."""
    memory_mb: int = 1024
    """Address space of the extracting process (and of each program it starts)."""
    ocr_timeout: float = 300.0
    """Seconds for reading a scan by OCR (at most 20 pages, a few seconds each)."""
    ocr_memory_mb: int = 2048
    """Address space of the OCR process: ONNX Runtime, the models and a page's pixels."""


class Sandbox:
    """Runs extractions, at most `parallel` at once (each is a process, and the crawl's
    fetching goes on beside them)."""

    def __init__(self, limits: Limits | None = None, parallel: int = 2) -> None:
        self.limits = limits or Limits()
        self._slots = asyncio.Semaphore(parallel)

    async def extract(self, data: bytes) -> Extraction:
        async with self._slots:
            return await extract_isolated(data, self.limits)


async def extract_isolated(data: bytes, limits: Limits) -> Extraction:
    """The file's text as `extract` gives it; for a scan, by OCR when it is installed."""
    found = await _isolated(data, "text", limits.timeout, limits.memory_mb)
    if found.status != "needs_ocr" or found.format not in OCR_FORMATS or not ocr_installed():
        return found
    read = await _isolated(data, "ocr", limits.ocr_timeout, limits.ocr_memory_mb)
    if read.status == "ok":
        return read
    why = read.message if read.status == "needs_ocr" else f"rapidocr: {read.message}"
    return replace(found, message="; ".join(filter(None, (found.message, why))))


def ocr_installed() -> bool:
    return extractor_id(RAPIDOCR) is not None


async def _isolated(data: bytes, mode: Mode, timeout: float, memory_mb: int) -> Extraction:
    with tempfile.TemporaryDirectory(prefix="govwatch-extract-") as folder:
        out_path = Path(folder, "out.jsonl")
        err_path = Path(folder, "err.txt")
        with out_path.open("wb") as out, err_path.open("wb") as err:
            proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "govwatch.crawler.sandbox",
                mode,
                str(memory_mb),
                stdin=asyncio.subprocess.PIPE,
                stdout=out,
                stderr=err,
                start_new_session=True,
                # Temporary files (antiword's and LibreOffice's copies) go where the
                # parent removes them, even when the child is killed.
                env={**os.environ, "TMPDIR": folder},
            )
            timed_out = False
            try:
                await asyncio.wait_for(_feed(proc, data), timeout)
            except TimeoutError:
                timed_out = True
            finally:
                _kill_group(proc.pid)
                await proc.wait()
        lines = out_path.read_bytes().splitlines()
        stderr = err_path.read_text("utf-8", "replace").strip().splitlines()
    return _outcome(lines, stderr, proc.returncode, timed_out, timeout)


async def _feed(proc: asyncio.subprocess.Process, data: bytes) -> None:
    assert proc.stdin is not None
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
        proc.stdin.write(data)
        await proc.stdin.drain()
        proc.stdin.close()
    await proc.wait()


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def _outcome(
    lines: list[bytes], stderr: list[str], code: int | None, timed_out: bool, timeout: float
) -> Extraction:
    """The child writes its format on a first line, then the Extraction: a child killed
    half-way has said at least what the file is."""
    found = [json.loads(line) for line in lines if line.strip()]
    head = found[0] if found else {"format": UNKNOWN.name, "media_type": UNKNOWN.media_type}
    if timed_out:
        message = f"extraction took longer than {timeout:g} s"
        return Extraction(head["format"], head["media_type"], "timeout", None, "", message)
    if len(found) == 2 and code == 0:
        return Extraction.from_json(found[1])
    if code is not None and code < 0:
        why = f"the extracting process died of {signal.Signals(-code).name}"
    else:
        why = f"the extracting process failed ({stderr[-1] if stderr else f'exit {code}'})"
    return Extraction(head["format"], head["media_type"], "failed", None, "", why[:300])


def _child(mode: Mode, memory_mb: int) -> None:
    cap = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    data = sys.stdin.buffer.read()
    fmt = identify(data)
    print(json.dumps({"format": fmt.name, "media_type": fmt.media_type}), flush=True)
    try:
        # Libraries that print would garble the answer on stdout: their words go to stderr.
        with contextlib.redirect_stdout(sys.stderr):
            result = extract(data, fmt) if mode == "text" else read_scan(data, fmt)
    except MemoryError:
        message = f"out of memory (the cap is {memory_mb} MB)"
        result = Extraction(fmt.name, fmt.media_type, "failed", None, "", message)
    print(json.dumps(result.to_json(), ensure_ascii=False), flush=True)


if __name__ == "__main__":
    _child("ocr" if sys.argv[1] == "ocr" else "text", int(sys.argv[2]))
