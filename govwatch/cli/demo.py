"""`govwatch demo`: the whole cycle, offline, against the local mirror."""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.option(
    "--keep",
    type=click.Path(path_type=Path),
    help="A new or empty directory to keep the demo's store in (default: thrown away).",
)
@click.option(
    "--seed-texts",
    type=click.Path(path_type=Path),
    help="A directory of seed notices (*.txt) for the mirror's notices "
    "(default: GOVWATCH_SEED_TEXTS, else generated text).",
)
def demo(keep: Path | None, seed_texts: Path | None) -> None:
    """Crawl a local mirror of the seed sites, change it, crawl again, show what changed."""
    from govwatch.demo import run

    run(click.echo, keep, seed_texts)
