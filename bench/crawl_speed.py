"""Crawl throughput and the cost of an unchanged re-crawl, on a loopback mirror.

Run by hand:  python bench/crawl_speed.py [--hosts 20] [--notices 2000] [--db URL]

Serves `bench_mirror` (static pages with ETag/Last-Modified) on 127.0.0.x, crawls
it once into a fresh store (SQLite in a temp dir unless --db), then again with
nothing changed, and prints notices/s, requests and bytes of each pass and the
re-crawl's requests and bytes as a share of the first.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from govwatch.crawler.engine import Crawler, RunSummary
from govwatch.crawler.seeds import load_seeds
from govwatch.demo.mirror import bench_mirror
from govwatch.settings import Settings
from govwatch.store import Store


def totals(summary: RunSummary) -> tuple[int, int, int, int]:
    stats = summary.sites.values()
    return (
        sum(s.new for s in stats),
        sum(s.requests for s in stats),
        sum(s.bytes for s in stats),
        sum(s.errors for s in stats),
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hosts", type=int, default=20)
    ap.add_argument("--notices", type=int, default=2000)
    ap.add_argument("--rate", type=float, default=100.0, help="requests/s per host")
    ap.add_argument("--db", help="database URL (default: SQLite in a temp dir)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp, bench_mirror(args.hosts, args.notices) as mirror:
        seeds = load_seeds(Path(mirror.seed_files(Path(tmp) / "seeds", rate=args.rate)[0]).parent)
        settings = Settings(concurrency=32, host_concurrency=4)
        with Store.open(args.db or f"sqlite:///{Path(tmp) / 'bench.db'}") as store:
            crawler = Crawler(store, settings)
            print(f"mirror: {len(mirror.sites)} hosts, {args.notices} notices")
            started = time.perf_counter()
            first = totals(asyncio.run(crawler.run(seeds)))
            took = time.perf_counter() - started
            print(
                f"first crawl:     {first[0]} new in {took:.1f} s"
                f" = {first[0] / took:.0f} notices/s,"
                f" {first[1]} requests, {first[2] / 2**20:.1f} MiB, {first[3]} errors"
            )
            started = time.perf_counter()
            again = totals(asyncio.run(crawler.run(seeds)))
            took = time.perf_counter() - started
            print(
                f"unchanged again: {again[0]} new in {took:.1f} s,"
                f" {again[1]} requests, {again[2] / 2**10:.1f} KiB, {again[3]} errors"
            )
            print(
                f"re-crawl / first: requests {again[1] / first[1]:.1%},"
                f" bytes {again[2] / max(first[2], 1):.2%}"
            )


if __name__ == "__main__":
    main()
