"""`govwatch clean`, `fetch` and `parsers`: one page cleaned, from a file or over HTTP."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import click

from govwatch.cli.common import (
    ExitsOneOnFailure,
    check_parser,
    dump,
    format_option,
    kind_option,
    safe_lines,
)
from govwatch.cli.extract import files_text, page_files
from govwatch.errors import FetchError, GovwatchError
from govwatch.parsers import Page, clean_bytes, registry
from govwatch.parsers.records import Expect
from govwatch.settings import Settings

MAX_INPUT_BYTES = 64 * 1024 * 1024


def _read_input(path: str) -> bytes:
    if path == "-":
        return sys.stdin.buffer.read(MAX_INPUT_BYTES + 1)
    p = Path(path)
    if not p.exists():
        raise GovwatchError(f"{path}: no such file")
    if p.is_dir():
        raise GovwatchError(f"{path}: is a directory")
    if p.stat().st_size > MAX_INPUT_BYTES:
        raise GovwatchError(f"{path}: larger than {MAX_INPUT_BYTES // 2**20} MiB")
    try:
        return p.read_bytes()
    except OSError as exc:
        raise GovwatchError(f"{path}: {exc.strerror}") from exc


def _clean_one(path: str, url: str | None, parser: str | None, expect: Expect) -> Page:
    data = _read_input(path)
    if len(data) > MAX_INPUT_BYTES:
        raise GovwatchError(f"{path}: larger than {MAX_INPUT_BYTES // 2**20} MiB")
    if not data.strip():
        raise GovwatchError(f"{path}: empty input")
    try:
        return clean_bytes(data, url, parser=parser, expect=expect)
    except GovwatchError as exc:
        raise GovwatchError(f"{path}: {exc}") from exc


@click.command(cls=ExitsOneOnFailure)
@click.argument("paths", nargs=-1)
@click.option("--url", help="The page's URL: resolves relative links and picks the site parser.")
@click.option("--parser", "parser_name", help="Force a registered parser (see `govwatch parsers`).")
@kind_option
@format_option("json", "jsonl", "text", default="json")
@click.option(
    "--attachments",
    "with_files",
    is_flag=True,
    help="Fetch each notice's attachments and extract their text (relative links need --url).",
)
def clean(
    paths: tuple[str, ...],
    url: str | None,
    parser_name: str | None,
    expect: Expect,
    fmt: str,
    with_files: bool,
) -> None:
    """Clean saved HTML pages or text dumps (PATH ... or - for standard input)."""
    check_parser(parser_name)
    settings = Settings.from_env()

    def as_json(page: Page) -> dict[str, Any]:
        record = page.to_json()
        if with_files and page.kind == "detail":
            record["attachments"] = page_files(page, settings)
        return record

    def as_text(page: Page) -> str:
        if with_files and page.kind == "detail":
            return page.to_text() + files_text(page_files(page, settings))
        return page.to_text()

    inputs = list(paths) or ["-"]
    if fmt == "jsonl":
        failed = 0
        for path in inputs:
            try:
                record = {"input": path, **as_json(_clean_one(path, url, parser_name, expect))}
            except GovwatchError as exc:
                failed += 1
                record = {"input": path, "error": str(exc)}
                click.echo(f"govwatch: {exc}", err=True)
            click.echo(dump(record))
        if failed:
            sys.exit(1)
        return
    pages = [_clean_one(path, url, parser_name, expect) for path in inputs]
    if fmt == "text":
        click.echo("\n\n\f\n".join(safe_lines(as_text(page)) for page in pages))
    elif len(pages) == 1:
        click.echo(dump(as_json(pages[0])))
    else:
        click.echo(dump([as_json(page) for page in pages]))


@click.command(cls=ExitsOneOnFailure)
@click.argument("url")
@click.option("--parser", "parser_name", help="Force a registered parser.")
@kind_option
@format_option("json", "text", default="json")
def fetch(url: str, parser_name: str | None, expect: Expect, fmt: str) -> None:
    """Fetch a notice page over HTTP and clean it."""
    from govwatch.crawler.fetch import fetch as http_fetch
    from govwatch.crawler.fetch import make_client
    from govwatch.crawler.pages import PageFailure, read_page

    check_parser(parser_name)

    async def run() -> Page:
        settings = Settings.from_env()
        async with make_client(settings, settings.proxy or None) as client:
            resp = await http_fetch(client, url, settings)
        try:
            return read_page(resp, parser_name, expect)
        except PageFailure as failure:
            raise FetchError(resp.url, str(failure)) from None

    page = asyncio.run(run())
    click.echo(safe_lines(page.to_text()) if fmt == "text" else dump(page.to_json()))


@click.command("parsers")
def list_parsers() -> None:
    """List the registered parsers and the hosts they claim."""
    for name in registry.names():
        parser = registry.get(name)
        hosts = ", ".join(parser.hosts) or ("text dumps" if parser.text else "-")
        click.echo(f"{name:14} {hosts}")
