"""`govwatch fleet`: how the workers keep up, from the store and its job queue."""

from __future__ import annotations

import click

from govwatch.cli.common import db_option, dump, format_option, open_store
from govwatch.settings import Settings


@click.command()
@db_option
@format_option("table", "json", default="table")
def fleet(db: str | None, fmt: str) -> None:
    """Workers alive, crawl jobs waiting and running, the oldest waiting job, and the sites
    overdue and by how much."""
    from govwatch.fleet.figures import fleet_figures

    store = open_store(db, create=False)
    try:
        figures = fleet_figures(store, Settings.from_env(db=db))
    finally:
        store.close()
    if fmt == "json":
        click.echo(dump(figures))
        return
    for key, value in figures.items():
        shown = "-" if value is None else f"{value:.1f}" if isinstance(value, float) else value
        click.echo(f"{key:28} {shown}")
