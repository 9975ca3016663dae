"""`govwatch crawl`, `reparse` and `migrate`: the commands that write the store."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from govwatch.cli.common import (
    MAX_LISTED,
    ProgressBar,
    db_option,
    load_seeds,
    open_store,
    seeds_option,
)
from govwatch.cli.summary import crawl_table
from govwatch.errors import ConfigError
from govwatch.settings import Settings
from govwatch.text import printable

if TYPE_CHECKING:
    from govwatch.feeds.push import Notifier
    from govwatch.store import Store


@click.command()
@click.argument("site_ids", nargs=-1)
@seeds_option
@db_option
@click.option(
    "--topics", "topics_path", help="Topics file: push their events to their notify URLs."
)
def crawl(
    site_ids: tuple[str, ...], seeds_path: str | None, db: str | None, topics_path: str | None
) -> None:
    """Crawl the sites once: new, revised and removed notices into the store."""
    from govwatch.crawler.engine import Crawler

    seeds = load_seeds(seeds_path, site_ids)
    if not seeds:
        where = seeds_path or Settings.from_env().seeds
        raise ConfigError(
            f"no enabled seed in {where}: set enabled = true in one, or name it "
            "(govwatch crawl ID; govwatch sites lists them)"
        )
    settings = Settings.from_env(db=db, topics=topics_path)
    store = open_store(db)
    progress = ProgressBar.on_terminal()
    try:
        notifier = _notifier(store, settings)  # before the crawl: owed what it finds
        crawler = Crawler(store, settings, progress.update if progress else None)
        summary = asyncio.run(crawler.run(seeds))
        if progress:
            progress.done()
            progress = None
        pushed = notifier.run() if notifier else None
    finally:
        if progress:
            progress.done()
        store.close()
    click.echo(crawl_table(summary))
    if pushed is not None and (pushed.sent or pushed.failed):
        line = f"pushed {pushed.sent} event(s)"
        if pushed.failed:
            line += (
                f"; {pushed.failed} could not be sent and will be tried again by the next "
                "crawl or by govwatch serve (see /healthz)"
            )
        click.echo(line)
    # For cron: 1 when a site could not be crawled at all (no listing page read, or its
    # listing stopped yielding notices); a failed notice page is in the table, not fatal.
    if any(h.status in ("unreachable", "layout_change") for h in summary.health.values()):
        sys.exit(1)


def _notifier(store: Store, settings: Settings) -> Notifier | None:
    """The Notifier of the topics file, started; None without one or without notify URLs."""
    from govwatch.feeds.push import Notifier
    from govwatch.feeds.topics import load_topics
    from govwatch.server.app import public_url

    if not settings.topics:
        return None
    notifier = Notifier(store, load_topics(Path(settings.topics)), public_url(settings), settings)
    if not notifier:
        return None
    notifier.start()
    return notifier


@click.command()
@click.option("--site", help="Only this site id.")
@click.option("--seeds", "seeds_path", help="Seed file or directory, for the sites' encodings.")
@db_option
def reparse(site: str | None, seeds_path: str | None, db: str | None) -> None:
    """Re-clean stored pages with this release's parsers (no revisions, no events)."""
    from govwatch.crawler.engine import Progress
    from govwatch.crawler.reparse import reparse as run_reparse
    from govwatch.crawler.seeds import load_seeds as read_seeds

    path = Path(seeds_path or Settings.from_env().seeds)
    seeds = read_seeds(path) if seeds_path or path.exists() else []
    store = open_store(db, create=False)
    bar = ProgressBar.on_terminal()

    def progress(done: int, total: int) -> None:
        if bar is not None:
            bar.update(Progress(done, total, site or "all sites", "reparse"))

    try:
        summary = run_reparse(store, seeds, site, progress)
    finally:
        if bar is not None:
            bar.done()
        store.close()
    if not summary.checked:
        click.echo("nothing to reparse: this release's parsers made every stored version", err=True)
        return
    click.echo(summary.line())
    for url, number, reason in summary.failed[:MAX_LISTED]:
        click.echo(f"  v{number} {printable(url)}: {printable(reason)}")


@click.command()
@db_option
def migrate(db: str | None) -> None:
    """Bring the database to the newest schema (opening the store does it too)."""
    store = open_store(db)
    store.close()
    click.echo(f"{store.name}: schema up to date")
