"""`govwatch serve`: the feeds and pages, crawling each enabled seed on its interval."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from govwatch.cli.common import db_option, open_store, seeds_option
from govwatch.settings import Settings


class CannotStart(click.ClickException):
    """`serve` could not start serving: exit status 3, as the README says."""

    exit_code = 3


@click.command()
@seeds_option
@click.option("--topics", "topics_path", help="Topics file (default: only the `all` topic).")
@db_option
@click.option("--host", help="Address to listen on (default 127.0.0.1).")
@click.option("--port", type=click.IntRange(1, 65535), help="Port to listen on (default 8080).")
@click.option(
    "--legacy-guid-base",
    metavar="URL",
    help="The address readers had the feeds from before the upgrade to tag: GUIDs; items "
    "stored before it keep GUIDs made of it (setting legacy_guid_base).",
)
def serve(
    seeds_path: str | None,
    topics_path: str | None,
    db: str | None,
    host: str | None,
    port: int | None,
    legacy_guid_base: str | None,
) -> None:
    """Serve the topic feeds and notice pages, crawling each enabled seed on its interval."""
    from govwatch.crawler.seeds import load_seeds
    from govwatch.feeds.topics import load_topics
    from govwatch.server.run import ListenError
    from govwatch.server.run import serve as run_server
    from govwatch.store.feed_identity import check_legacy_base

    settings = Settings.from_env(
        db=db, host=host, port=port, topics=topics_path, legacy_guid_base=legacy_guid_base
    )
    check_legacy_base(settings.legacy_guid_base)  # before the store opens or a port is bound
    every_seed = load_seeds(Path(seeds_path or settings.seeds))
    # A disabled seed's id counts: its site is only paused.
    topics = load_topics(
        Path(settings.topics) if settings.topics else None, {s.id for s in every_seed}
    )
    seeds = [s for s in every_seed if s.enabled]
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # One line per crawl is ours to log; one per request or migration is noise.
    for chatty in ("httpx", "alembic"):
        logging.getLogger(chatty).setLevel(logging.WARNING)
    if not seeds:
        logging.getLogger("govwatch.server").warning("no enabled seeds: serving without crawling")
    store = open_store(db)
    try:
        status = run_server(store, topics, seeds, settings)
    except ListenError as exc:
        raise CannotStart(str(exc)) from None
    finally:
        store.close()
    sys.exit(status)
