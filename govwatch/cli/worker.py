"""`govwatch worker`: one of many crawl workers over one PostgreSQL store (govwatch/fleet)."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from govwatch.cli.common import db_option, open_store, seeds_option
from govwatch.settings import Settings


@click.command()
@seeds_option
@click.option(
    "--topics",
    "topics_path",
    help="Topics file, checked against the seeds as serve does; their notify URLs are pushed to.",
)
@db_option
@click.option(
    "--concurrency",
    type=click.IntRange(1, 256),
    default=4,
    show_default=True,
    help="Crawls this worker runs at once.",
)
def worker(
    seeds_path: str | None, topics_path: str | None, db: str | None, concurrency: int
) -> None:
    """Crawl due sites from the fleet's job queue in PostgreSQL, until stopped."""
    from govwatch.crawler.seeds import load_seeds
    from govwatch.feeds.push import Notifier
    from govwatch.feeds.topics import load_topics
    from govwatch.fleet.worker import run
    from govwatch.server.app import public_url

    settings = Settings.from_env(db=db, topics=topics_path)
    seeds = load_seeds(Path(seeds_path or settings.seeds))
    topics = load_topics(Path(settings.topics) if settings.topics else None, {s.id for s in seeds})
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # One line per crawl is ours to log; one per job, request or migration is noise.
    for chatty in ("procrastinate", "httpx", "alembic"):
        logging.getLogger(chatty).setLevel(logging.WARNING)
    store = open_store(db)
    try:
        notifier = Notifier(store, topics, public_url(settings), settings)
        status = run(store, seeds, settings, concurrency, notifier if notifier else None)
    finally:
        store.close()
    sys.exit(status)
