"""Extract an attachment's text in a process of its own, under a time limit and a memory cap.

A hostile or broken file can make any library loop, recurse or eat memory (a zip bomb
inflating to gigabytes, a PDF whose page tree points at itself): each extraction runs in
a child Python (`python -m govwatch.crawler.sandbox`) that caps its own address space
before it reads the file, in a session of its own so that the programs it starts
(antiword, LibreOffice) die with it. Over time, the whole group is killed and the status
is `timeout`; a child that dies leaves `failed` and the crawl goes on.
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
from dataclasses import dataclass
from pathlib import Path

from govwatch.parsers.attachments import Extraction, extract, identify
from govwatch.parsers.attachments.identify import UNKNOWN


@dataclass(frozen=True)
class Limits:
    timeout: float = 60.0
    """Seconds for one file, programs it starts included."""
    memory_mb: int = 1024
    """Address space of the extracting process (and of each program it starts)."""


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
    with tempfile.TemporaryDirectory(prefix="govwatch-extract-") as folder:
        out_path = Path(folder, "out.jsonl")
        err_path = Path(folder, "err.txt")
        with out_path.open("wb") as out, err_path.open("wb") as err:
            proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "govwatch.crawler.sandbox",
                str(limits.memory_mb),
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
                await asyncio.wait_for(_feed(proc, data), limits.timeout)
            except TimeoutError:
                timed_out = True
            finally:
                _kill_group(proc.pid)
                await proc.wait()
        lines = out_path.read_bytes().splitlines()
        stderr = err_path.read_text("utf-8", "replace").strip().splitlines()
    return _outcome(lines, stderr, proc.returncode, timed_out, limits)


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
    lines: list[bytes], stderr: list[str], code: int | None, timed_out: bool, limits: Limits
) -> Extraction:
    """The child writes its format on a first line, then the Extraction: a child killed
    half-way has said at least what the file is."""
    found = [json.loads(line) for line in lines if line.strip()]
    head = found[0] if found else {"format": UNKNOWN.name, "media_type": UNKNOWN.media_type}
    if timed_out:
        message = f"extraction took longer than {limits.timeout:g} s"
        return Extraction(head["format"], head["media_type"], "timeout", None, "", message)
    if len(found) == 2 and code == 0:
        return Extraction.from_json(found[1])
    if code is not None and code < 0:
        why = f"the extracting process died of {signal.Signals(-code).name}"
    else:
        why = f"the extracting process failed ({stderr[-1] if stderr else f'exit {code}'})"
    return Extraction(head["format"], head["media_type"], "failed", None, "", why[:300])


def _child(memory_mb: int) -> None:
    cap = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    data = sys.stdin.buffer.read()
    fmt = identify(data)
    print(json.dumps({"format": fmt.name, "media_type": fmt.media_type}), flush=True)
    try:
        result = extract(data, fmt)
    except MemoryError:
        message = f"out of memory (the cap is {memory_mb} MB)"
        result = Extraction(fmt.name, fmt.media_type, "failed", None, "", message)
    print(json.dumps(result.to_json(), ensure_ascii=False), flush=True)


if __name__ == "__main__":
    _child(int(sys.argv[1]))
