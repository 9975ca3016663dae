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
from govwatch.parsers import Page
from govwatch.parsers.attachments import Extraction
from govwatch.settings import Settings
from govwatch.store.file_diff import shown_text

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


def page_files(page: Page, settings: Settings) -> list[dict[str, Any]]:
    """`govwatch clean --attachments`: the page's attachments fetched, their texts
    extracted, in the page's order."""
    from govwatch.crawler.attachments import fetch_files

    fetched = {
        f.url: f for f in asyncio.run(fetch_files([a.url for a in page.attachments], settings))
    }
    out: list[dict[str, Any]] = []
    for attachment in page.attachments:
        got = fetched[attachment.url]
        entry: dict[str, Any] = {"name": attachment.name, "url": attachment.url}
        if got.error is not None or got.extraction is None:
            entry["error"] = got.error
        else:
            entry |= {"sha256": got.sha256, "size": got.size, **got.extraction.to_json()}
        out.append(entry)
    return out


def files_text(files: list[dict[str, Any]]) -> str:
    """The fetched attachments for reading: a head line each, then its text."""
    lines: list[str] = []
    for file in files:
        lines += ["", f"附件：{file['name']} <{file['url']}>"]
        if "error" in file:
            lines.append(f"  not fetched: {file['error']}")
            continue
        lines.append(
            f"  {file['sha256']}  {file['media_type']}  {file['status']}  {file['size']} bytes"
        )
        extraction = Extraction.from_json(file)
        lines += ["  " + line for line in shown_text(extraction).splitlines()]
    return "\n".join(lines)
