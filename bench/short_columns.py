"""Columns as real sites page them: a short last page (6 / 6 / 3, 6 / 1), on every CMS flow.

Run by hand:  python bench/short_columns.py

For each mirror flow, serves one column of 15 and one of 7 notices paged by 6, crawls it
into a fresh SQLite store, then again with nothing changed, and prints the notices found,
the errors, the bytes of each pass and the re-crawl's bytes as a share of the first (the
issue's bar: every notice on the first pass, at most 5 % on the re-crawl).
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from govwatch.crawler.engine import Crawler
from govwatch.crawler.seeds import load_seeds
from govwatch.demo.mirror import FLOWS, Mirror
from govwatch.demo.mirror.build import populate
from govwatch.demo.mirror.site import MirrorSite
from govwatch.demo.mirror.texts import generated_texts
from govwatch.settings import Settings
from govwatch.store import Store

COLUMNS = ((15, 6), (7, 6))


def main() -> None:
    print(f"{'flow':13} {'notices':>7} {'found':>5} {'errors':>6} {'first':>9} {'again':>7} share")
    for flow in FLOWS:
        for count, size in COLUMNS:
            with tempfile.TemporaryDirectory() as tmp:
                root = Path(tmp)
                site = populate(
                    MirrorSite("column", flow, page_size=size), count, generated_texts()
                )
                with Mirror([site]) as mirror, Store.open(f"sqlite:///{root / 'g.db'}") as store:
                    mirror.seed_files(root / "seeds", rate=500.0)
                    seeds = load_seeds(root / "seeds")
                    crawler = Crawler(store, Settings(retry_base=0.05))
                    first = asyncio.run(crawler.run(seeds)).sites["column"]
                    again = asyncio.run(crawler.run(seeds)).sites["column"]
            share = again.bytes / first.bytes if first.bytes else 0.0
            print(
                f"{flow:13} {count:>7} {first.new:>5} {first.errors:>6} {first.bytes:>9} "
                f"{again.bytes:>7} {share:6.2%}"
            )


if __name__ == "__main__":
    main()
