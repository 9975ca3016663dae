"""The `govwatch` command: thin wrappers over the packages; user errors are one line."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

import click

from govwatch.errors import ChallengeError, GovwatchError, HTTPStatusError
from govwatch.settings import Settings
from parsers import Page, clean_bytes, registry

MAX_INPUT_BYTES = 64 * 1024 * 1024


def _dump(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False)


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


def _clean_one(path: str, url: str | None, parser: str | None) -> Page:
    data = _read_input(path)
    if len(data) > MAX_INPUT_BYTES:
        raise GovwatchError(f"{path}: larger than {MAX_INPUT_BYTES // 2**20} MiB")
    if not data.strip():
        raise GovwatchError(f"{path}: empty input")
    return clean_bytes(data, url, parser=parser)


def _check_parser(name: str | None) -> None:
    if name is not None:
        try:
            registry.get(name)
        except GovwatchError as exc:
            raise click.ClickException(str(exc)) from None


@click.group()
@click.version_option(package_name="govwatch")
def main() -> None:
    """Watch Chinese government notice pages: clean them, keep versions, publish feeds."""


@main.command()
@click.argument("paths", nargs=-1)
@click.option("--url", help="The page's URL: resolves relative links and picks the site parser.")
@click.option("--parser", "parser_name", help="Force a registered parser (see `govwatch parsers`).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["json", "jsonl", "text"]),
    default="json",
    show_default=True,
)
def clean(paths: tuple[str, ...], url: str | None, parser_name: str | None, fmt: str) -> None:
    """Clean saved HTML pages or text dumps (PATH ... or - for standard input)."""
    _check_parser(parser_name)
    inputs = list(paths) or ["-"]
    if fmt == "jsonl":
        failed = 0
        for path in inputs:
            try:
                record = {"input": path, **_clean_one(path, url, parser_name).to_json()}
            except GovwatchError as exc:
                failed += 1
                record = {"input": path, "error": str(exc)}
                click.echo(f"govwatch: {exc}", err=True)
            click.echo(_dump(record))
        if failed:
            sys.exit(1)
        return
    try:
        pages = [_clean_one(path, url, parser_name) for path in inputs]
    except GovwatchError as exc:
        raise click.ClickException(str(exc)) from None
    if fmt == "text":
        click.echo("\n\n\f\n".join(page.to_text() for page in pages))
    elif len(pages) == 1:
        click.echo(_dump(pages[0].to_json()))
    else:
        click.echo(_dump([page.to_json() for page in pages]))


@main.command()
@click.argument("url")
@click.option("--parser", "parser_name", help="Force a registered parser.")
@click.option(
    "--format", "fmt", type=click.Choice(["json", "text"]), default="json", show_default=True
)
def fetch(url: str, parser_name: str | None, fmt: str) -> None:
    """Fetch a notice page over HTTP and clean it."""
    from crawler.fetch import fetch as http_fetch
    from crawler.fetch import make_client

    _check_parser(parser_name)
    settings = Settings.from_env()

    async def run() -> Page:
        async with make_client(settings) as client:
            resp = await http_fetch(client, url, settings)
        page = clean_bytes(
            resp.content,
            resp.url,
            parser=parser_name,
            content_type=resp.content_type,
            status=resp.status,
        )
        if page.kind == "challenge":
            raise ChallengeError(resp.url, page.vendor or "unknown")
        if resp.status >= 400:
            raise HTTPStatusError(resp.url, resp.status)
        return page

    try:
        page = asyncio.run(run())
    except GovwatchError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(page.to_text() if fmt == "text" else _dump(page.to_json()))


@main.command("parsers")
def list_parsers() -> None:
    """List the registered parsers and the hosts they claim."""
    for name in registry.names():
        parser = registry.get(name)
        hosts = ", ".join(parser.hosts) or ("text dumps" if parser.text else "-")
        click.echo(f"{name:14} {hosts}")
