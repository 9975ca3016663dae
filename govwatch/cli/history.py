"""`govwatch events`, `history` and `diff`: reading what the store kept."""

from __future__ import annotations

import html
from datetime import datetime
from typing import TYPE_CHECKING, cast
from zoneinfo import ZoneInfo

import click

from govwatch.cli.common import db_option, dump, format_option, known, open_store, safe_lines
from govwatch.errors import ConfigError
from govwatch.settings import Settings
from govwatch.text import printable

if TYPE_CHECKING:
    from govwatch.store.rows import EventKind


@click.command()
@db_option
@click.option("--site", help="Only this site id.")
@click.option("--kind", type=click.Choice(["new", "revised", "removed", "restored"]))
@click.option("--since", help="Only events at or after this time (ISO date or datetime).")
@format_option("table", "json", default="table")
def events(db: str | None, site: str | None, kind: str | None, since: str | None, fmt: str) -> None:
    """Show what happened: new, revised, removed and restored notices, newest first."""
    zone = Settings.from_env().zone
    when = _parse_since(since, zone)
    store = open_store(db, create=False)
    try:
        if site is not None and site not in (names := store.site_names()):
            raise ConfigError(f"--site: no site {site!r} in {store.name} ({known(names)})")
        rows = store.events(site=site, kind=cast("EventKind | None", kind), since=when)
    finally:
        store.close()
    if not rows:
        click.echo("govwatch: no events" + (f" since {when.isoformat()}" if when else ""), err=True)
    if fmt == "json":
        click.echo(
            dump(
                [
                    {
                        "kind": r.kind,
                        "url": r.url,
                        "title": r.title,
                        "site": r.site,
                        "site_name": r.site_name,
                        "at": r.at.astimezone(zone).isoformat(),
                        "version": r.version,
                        "changed_fields": list(r.changed_fields),
                        "baseline": r.baseline,
                    }
                    for r in rows
                ]
            )
        )
        return
    for r in rows:
        click.echo(
            f"{_local(r.at, zone)}  {r.kind:8} v{r.version or '-':<3} {printable(r.site_name)}  "
            f"{printable(r.title)}  {printable(r.url)}"
        )


def _local(when: datetime, zone: ZoneInfo) -> str:
    """A time in the configured zone, labelled with its offset: 2026-12-01 16:00+08:00."""
    local = when.astimezone(zone)
    return local.strftime("%Y-%m-%d %H:%M") + local.isoformat()[-6:]


def _parse_since(since: str | None, zone: ZoneInfo) -> datetime | None:
    """--since: ISO 8601; without an offset, a time in the configured zone."""
    if since is None:
        return None
    try:
        when = datetime.fromisoformat(since)
    except ValueError:
        raise ConfigError(f"--since: not an ISO date or datetime: {since!r}") from None
    return when if when.tzinfo else when.replace(tzinfo=zone)


@click.command()
@click.argument("url")
@db_option
@format_option("table", "json", default="table")
def history(url: str, db: str | None, fmt: str) -> None:
    """The versions of one notice."""
    zone = Settings.from_env().zone
    store = open_store(db, create=False)
    try:
        rows = store.history(url)
    finally:
        store.close()
    if not rows:
        click.echo("govwatch: the notice is listed but was never fetched: no versions", err=True)
    if fmt == "json":
        click.echo(
            dump(
                [
                    {
                        "version": r.number,
                        "fetched_at": r.fetched_at.astimezone(zone).isoformat(),
                        "title": r.title,
                        "hash": r.content_hash,
                        "changed_fields": list(r.changed_fields),
                        "parser": r.parser_version,
                    }
                    for r in rows
                ]
            )
        )
        return
    for r in rows:
        changed = ", ".join(r.changed_fields) or "-"
        click.echo(
            f"v{r.number:<3} {_local(r.fetched_at, zone)}  {changed:24} {printable(r.title)}"
        )


@click.command()
@click.argument("url")
@db_option
@click.option("--from", "from_", type=int, help="Old version (default: the one before --to).")
@click.option("--to", type=int, help="New version (default: the latest).")
@format_option("text", "json", "html", default="text")
def diff(url: str, db: str | None, from_: int | None, to: int | None, fmt: str) -> None:
    """What changed between two versions of a notice."""
    from govwatch.store.diff import diff_bodies, to_html, to_unified, versions_json

    store = open_store(db, create=False)
    try:
        versions = store.history(url)
        if len(versions) < 2 and from_ is None:
            have = "only one version" if versions else "no version yet"
            click.echo(f"govwatch: {have}: nothing to diff", err=True)
            return
        new_no = to or versions[-1].number
        old_no = from_ or max(new_no - 1, 1)
        old = store.version(url, old_no)
        new = store.version(url, new_no)
        files = store.file_changes(old, new)
    finally:
        store.close()
    body = diff_bodies(old.body, new.body)
    if fmt == "json":
        changed_files = [change.to_json() for change in files]
        click.echo(dump({"url": url, **versions_json(old, new), "files": changed_files}))
    elif fmt == "html":
        parts = [to_html(body)]
        for change in files:
            head = f"附件 {change.change}: {change.name}"
            parts += [f"<h3>{html.escape(head)}</h3>", to_html(change.diff())]
        click.echo("\n".join(parts))
    else:
        lines = []
        if old.title != new.title:
            lines += [f"-title: {printable(old.title)}", f"+title: {printable(new.title)}"]
        for key in sorted(set(old.meta) | set(new.meta)):
            if old.meta.get(key) != new.meta.get(key):
                lines += [f"-{key}: {old.meta.get(key, '')}", f"+{key}: {new.meta.get(key, '')}"]
        text = to_unified(body, old_label=f"{url} v{old_no}", new_label=f"{url} v{new_no}")
        # Each attachment file added, removed or replaced, its text diffed like the body.
        lines += [text, *(change.unified() for change in files)]
        click.echo(safe_lines("\n".join(lines).strip("\n")))
