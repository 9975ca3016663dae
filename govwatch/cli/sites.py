"""`govwatch sites`, `add` and `check`: the seeds, a new one made from a column page, and
the dry run that says whether one works."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import click

from govwatch.cli.common import ExitsOneOnFailure, seeds_option
from govwatch.cli.report import MAX_SHOWN, count, failure, more, report_lines
from govwatch.crawler.proxy import mask
from govwatch.errors import GovwatchError
from govwatch.settings import Settings
from govwatch.text import printable

if TYPE_CHECKING:
    from govwatch.crawler.seeds import Seed
    from govwatch.crawler.survey import HomePage
    from govwatch.parsers.columns import ColumnLink


@click.command(cls=ExitsOneOnFailure)
@seeds_option
def sites(seeds_path: str | None) -> None:
    """List the seeds: id, parser, interval, listing URLs (disabled ones marked)."""
    from govwatch.crawler.seeds import load_seeds

    for seed in load_seeds(Path(seeds_path or Settings.from_env().seeds)):
        urls = " ".join(seed.listing_urls)
        state = "" if seed.enabled else " (disabled)"
        via = f" via {printable(mask(seed.proxy))}" if seed.proxy else ""
        click.echo(
            f"{seed.id:24} {seed.parser:13} {_duration(seed.interval):>5}  {urls}{via}{state}"
        )


def _duration(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0 and seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _pick_column(yes: bool) -> Callable[[HomePage], ColumnLink]:
    """How `add` chooses among a home page's columns: the best-ranked one with --yes, else
    the user's pick."""

    def pick(home: HomePage) -> ColumnLink:
        click.echo(f"home page {printable(home.url)}: {count(len(home.columns), 'column')} found")
        shown = [
            f"  {n:>3}. {printable(c.text)}  {printable(c.url)}"
            for n, c in enumerate(home.columns[:MAX_SHOWN], 1)
        ]
        click.echo("\n".join(more(shown, len(home.columns))))
        if yes:
            choice = home.columns[0]
            click.echo(
                f"picked {printable(choice.text)} (the best-ranked column): {printable(choice.url)}"
            )
            return choice
        number = click.prompt(
            "column to watch", type=click.IntRange(1, min(len(home.columns), MAX_SHOWN)), default=1
        )
        return home.columns[number - 1]

    return pick


@click.command(cls=ExitsOneOnFailure)
@click.argument("url")
@click.option("--id", "seed_id", help="The seed's id (default: from the host and column).")
@click.option("--seeds", "seeds_dir", help="Seed directory to write to (default: seeds/).")
@click.option(
    "--yes", is_flag=True, help="Write without asking; on a home page take the best column."
)
def add(url: str, seed_id: str | None, seeds_dir: str | None, yes: bool) -> None:
    """Make a seed from a column page or a site's home page: dry-run it, then write it."""
    from govwatch.crawler.seeds import ensure_new_id, seed_toml, used_ids, write_seed
    from govwatch.crawler.survey import survey

    settings = Settings.from_env()
    directory = Path(seeds_dir or settings.seeds)
    if seed_id is not None:
        ensure_new_id(directory, seed_id)
    found = asyncio.run(
        survey(url, settings, pick=_pick_column(yes), seed_id=seed_id, used=used_ids(directory))
    )
    seed, column = found.seed, found.column
    click.echo(f"column    {printable(column.url)}  ({printable(seed.name)})")
    click.echo(f"parser    {seed.parser} ({column.how})")
    click.echo("\n".join(report_lines(found.report, full=True)))
    if not found.report.works:
        raise GovwatchError(f"{url}: no seed written: {failure(found.report)}")
    header = found.header(url, datetime.now(UTC).date())
    path = directory / f"{seed.id}.toml"
    click.echo(f"\n{path}:")
    click.echo("\n".join(f"  {printable(line)}" for line in seed_toml(seed, header).splitlines()))
    if not yes:
        click.confirm(f"write {path}?", default=True, abort=True)
    path = write_seed(directory, seed, header)
    where = f" --seeds {directory}" if seeds_dir else ""
    click.echo(f"wrote {path}; `govwatch check {seed.id}{where}` checks it again at any time")


def _seed_to_check(target: str, seeds_path: str | None) -> Seed:
    """A seed by URL (an ad-hoc generic seed), by file, or by id in the seeds directory."""
    from govwatch.crawler.probe import adhoc_seed
    from govwatch.crawler.seeds import load_seed, load_seeds

    if re.match(r"https?://", target, re.I):
        return adhoc_seed(target)
    path = Path(target)
    if path.suffix == ".toml" or path.is_file():
        return load_seed(path)
    directory = Path(seeds_path or Settings.from_env().seeds)
    seeds = load_seeds(directory)
    for seed in seeds:
        if seed.id == target:
            return seed
    known = ", ".join(s.id for s in seeds) or "none"
    raise GovwatchError(f"unknown seed id {target!r} in {directory} (known: {known})")


@click.command(cls=ExitsOneOnFailure)
@click.argument("target", metavar="SEED_ID|FILE|URL")
@seeds_option
def check(target: str, seeds_path: str | None) -> None:
    """Dry-run a seed: listing, a few notices, the next page; exit 0 only when it works."""
    from govwatch.crawler.probe import check_seed
    from govwatch.crawler.proxy import proxy_for

    seed = _seed_to_check(target, seeds_path)
    settings = Settings.from_env()
    report = asyncio.run(check_seed(seed, settings))
    where = str(seed.path) if seed.path else "a bare URL, checked as a generic seed"
    click.echo(f"seed      {seed.id}  ({printable(where)})")
    hosts = ", ".join(seed.hosts)
    click.echo(f"parser    {seed.parser}, rate {seed.rate:g}/s, hosts {hosts}")
    proxy = proxy_for(settings, seed.proxy)
    if proxy:
        click.echo(f"proxy     {printable(mask(proxy))}")
    click.echo("\n".join(report_lines(report, full=False)))
    if not report.works:
        raise GovwatchError(f"{seed.id} does not work: {failure(report)}")
    if not seed.enabled:
        click.echo(f"note      enabled = false in {seed.path}: set it to true to crawl this seed")
