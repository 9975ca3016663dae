"""`govwatch search`: full-text search of the store, and the rebuild of its index."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, cast

import click

from govwatch.cli.common import (
    check_sites,
    db_option,
    dump,
    format_option,
    iso_day,
    open_store,
)
from govwatch.errors import ConfigError
from govwatch.text import printable

if TYPE_CHECKING:
    from govwatch.store.rows import EventKind
    from govwatch.store.search import SearchHit

KINDS = ("new", "revised", "removed", "restored")


@click.command()
@click.argument("query", required=False)
@db_option
@click.option("--site", "sites", multiple=True, help="Only this site id (repeatable).")
@click.option("--publisher", "publishers", multiple=True, help="发布机构 containing this.")
@click.option("--category", "categories", multiple=True, help="主题分类 containing this.")
@click.option("--since", help="Notices dated on or after this day (YYYY-MM-DD).")
@click.option("--until", help="Notices dated on or before this day (YYYY-MM-DD).")
@click.option("--kind", "kinds", multiple=True, type=click.Choice(KINDS), help="Event kind.")
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True)
@click.option("--rebuild", is_flag=True, help="Index every stored version again, then exit.")
@format_option("text", "json", default="text")
def search(
    query: str | None,
    db: str | None,
    sites: tuple[str, ...],
    publishers: tuple[str, ...],
    categories: tuple[str, ...],
    since: str | None,
    until: str | None,
    kinds: tuple[str, ...],
    limit: int,
    rebuild: bool,
    fmt: str,
) -> None:
    """Find notices whose text (any version) holds every word of QUERY, newest first."""
    from govwatch.store.filters import NoticeFilter
    from govwatch.store.search_text import parse_query

    if rebuild:
        if query is not None:
            raise ConfigError("--rebuild takes no QUERY")
        _rebuild(db)
        return
    try:
        parsed = parse_query(query or "")
    except ValueError as exc:
        raise ConfigError(f"QUERY: {exc}") from None
    filters = NoticeFilter(
        sites=sites,
        publishers=publishers,
        categories=categories,
        since=iso_day("--since", since),
        until=iso_day("--until", until),
        kinds=cast("tuple[EventKind, ...]", kinds),
    )
    store = open_store(db, create=False)
    try:
        check_sites(store, sites)
        hits = store.search(parsed, filters, limit=limit)
    finally:
        store.close()
    if not hits:
        click.echo(f"govwatch: no notice holds {parsed.text!r}", err=True)
    if fmt == "json":
        click.echo(dump([_json(hit) for hit in hits]))
        return
    for hit in hits:
        old = (
            f"  (v{hit.version} of {hit.current_version})"
            if hit.version != hit.current_version
            else ""
        )
        gone = "  [removed]" if hit.status == "removed" else ""
        click.echo(f"{hit.day}  {printable(hit.site_name)}  {printable(hit.title)}{old}{gone}")
        marked = "".join(
            click.style(printable(text), bold=True, underline=True) if match else printable(text)
            for text, match in hit.snippet
        )
        click.echo(f"    {marked}")
        click.echo(f"    {printable(hit.url)}")


def _rebuild(db: str | None) -> None:
    store = open_store(db, create=False)
    try:
        started = time.perf_counter()
        count = store.rebuild_search_index()
    finally:
        store.close()
    click.echo(f"indexed {count} stored versions in {time.perf_counter() - started:.1f} s")


def _json(hit: SearchHit) -> dict[str, Any]:
    at, marks = 0, []
    for text, match in hit.snippet:
        if match:
            marks.append([at, at + len(text)])
        at += len(text)
    return {
        "url": hit.url,
        "title": hit.title,
        "site": hit.site_id,
        "site_name": hit.site_name,
        "date": hit.day,
        "snippet": "".join(text for text, _ in hit.snippet),
        "highlights": marks,
        "version": hit.version,
        "current_version": hit.current_version,
        "status": hit.status,
    }
