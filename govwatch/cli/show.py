"""`govwatch show`: one stored version of a notice, with its attachments' texts."""

from __future__ import annotations

from typing import Any

import click

from govwatch.cli.common import db_option, dump, format_option, open_store, safe_lines
from govwatch.errors import ConfigError
from govwatch.parsers.records import META_KEYS, META_LABELS
from govwatch.settings import Settings
from govwatch.store.file_diff import shown_text


@click.command()
@click.argument("url")
@db_option
@click.option("--version", "number", type=click.IntRange(min=1), help="Default: the latest.")
@format_option("text", "json", default="text")
def show(url: str, db: str | None, number: int | None, fmt: str) -> None:
    """A stored version of a notice with its attachments: name, url, sha256, media type,
    extraction status, extractor and text."""
    zone = Settings.from_env().zone
    store = open_store(db, create=False)
    try:
        versions = store.history(url)
        if not versions:
            raise ConfigError(f"{url}: listed but never fetched: no versions")
        latest = versions[-1].number
        if number is not None and number > latest:
            raise ConfigError(f"{url} has no version {number} (the latest is {latest})")
        version = store.version(url, number or latest)
        texts = store.texts([a.sha256 for a in version.attachments if a.sha256])
    finally:
        store.close()
    files: list[dict[str, Any]] = []
    for attachment in version.attachments:
        stored = texts.get(attachment.sha256 or "")
        extraction = stored.extraction if stored else None
        files.append(
            {
                "name": attachment.name,
                "url": attachment.url,
                "sha256": attachment.sha256,
                "media_type": extraction.media_type if extraction else None,
                "status": extraction.status if extraction else None,
                "extractor": extraction.extractor if extraction else None,
                "text": extraction.text if extraction else None,
            }
        )
    if fmt == "json":
        record = {
            "url": url,
            "version": version.number,
            "fetched_at": version.fetched_at.astimezone(zone).isoformat(),
            "parser": version.parser_version,
            "title": version.title,
            "meta": {k: version.meta[k] for k in META_KEYS if version.meta.get(k)},
            "body": version.body,
            "attachments": files,
        }
        click.echo(dump(record))
        return
    lines = [f"{version.title}  (v{version.number} of {latest})", ""]
    lines += [f"{META_LABELS[k]}：{version.meta[k]}" for k in META_KEYS if version.meta.get(k)]
    lines += ["", version.body]
    for file in files:
        lines += ["", f"附件：{file['name']} <{file['url']}>"]
        stored = texts.get(file["sha256"] or "")
        if stored is None:
            lines.append("  (not fetched)")
            continue
        lines.append(
            f"  {file['sha256']}  {file['media_type']}  {file['status']}  {file['extractor']}"
        )
        lines += ["  " + line for line in shown_text(stored.extraction).splitlines()]
    click.echo(safe_lines("\n".join(lines)))
