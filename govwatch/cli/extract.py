"""`govwatch extract`: the text of local attachment files, as the crawl extracts it."""

from __future__ import annotations

import asyncio
import hashlib
import sys
from pathlib import Path
from typing import Any

import click

from govwatch.cli.common import ExitsOneOnFailure, dump
from govwatch.crawler.sandbox import Limits, Sandbox

MAX_FILE_BYTES = 256 * 1024 * 1024


def _read(path: str) -> bytes:
    """The file's bytes; OSError or ValueError says why there are none."""
    if path == "-":
        data = sys.stdin.buffer.read(MAX_FILE_BYTES + 1)
    else:
        file = Path(path)
        if file.is_dir():
            raise ValueError("is a directory")
        if file.stat().st_size > MAX_FILE_BYTES:
            raise ValueError(f"larger than {MAX_FILE_BYTES // 2**20} MiB")
        data = file.read_bytes()
    if len(data) > MAX_FILE_BYTES:
        raise ValueError(f"larger than {MAX_FILE_BYTES // 2**20} MiB")
    return data


@click.command(cls=ExitsOneOnFailure)
@click.argument("paths", nargs=-1, required=True)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.1),
    default=Limits.timeout,
    show_default=True,
    help="Seconds for one file.",
)
@click.option(
    "--memory",
    "memory_mb",
    type=click.IntRange(min=64),
    default=Limits.memory_mb,
    show_default=True,
    help="Memory cap of the extracting process, in MB.",
)
def extract(paths: tuple[str, ...], timeout: float, memory_mb: int) -> None:
    """Extract the text of attachment files (PDF, DOC/DOCX, WPS, XLS/XLSX/ET, OFD): one
    JSON object per FILE per line, in order (- reads standard input). The format comes
    from the bytes, never the file's name."""
    sandbox_limits = Limits(timeout=timeout, memory_mb=memory_mb)

    async def one(sandbox: Sandbox, path: str) -> dict[str, Any]:
        try:
            data = _read(path)
        except (OSError, ValueError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            return {"input": path, "error": f"{path}: {reason}"}
        extraction = await sandbox.extract(data)
        digest = hashlib.sha256(data).hexdigest()
        return {"input": path, "sha256": digest, "size": len(data), **extraction.to_json()}

    async def run() -> list[dict[str, Any]]:
        sandbox = Sandbox(sandbox_limits)
        return await asyncio.gather(*(one(sandbox, path) for path in paths))

    failed = 0
    for record in asyncio.run(run()):
        if "error" in record:
            failed += 1
            click.echo(f"govwatch: {record['error']}", err=True)
        click.echo(dump(record))
    if failed:
        sys.exit(1)
