"""The JSON API's queries on a big store: a page of notices (first, deep, filtered), a page
of events, a notice with its versions.

Run by hand:  python bench/api_speed.py [--notices 100000] [--repeat 7] [--db URL]

Fills a fresh store as bench/feed_speed.py does and builds the search index (whose `day`
orders and filters the notices), then prints the median of --repeat warm runs of each
query in ms, with this process's CPU time (all of it on SQLite).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

from feed_speed import PUBLISHERS, SITES, fill

from govwatch.store import Store
from govwatch.store.filters import NoticeFilter
from govwatch.store.listings import list_events, list_notices


def timed(repeat: int, work: Callable[[], object]) -> tuple[float, float]:
    work()
    runs, cpu = [], []
    for _ in range(repeat):
        begun, begun_cpu = time.perf_counter(), time.process_time()
        work()
        runs.append((time.perf_counter() - begun) * 1000)
        cpu.append((time.process_time() - begun_cpu) * 1000)
    return statistics.median(runs), statistics.median(cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notices", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--db", help="database URL (default: SQLite in a temp dir)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.db or f"sqlite:///{Path(tmp) / 'bench.db'}"
        print(f"filling {args.notices} notices: {fill(url, args.notices):.1f} s")
        with Store.open(url) as store:
            store.rebuild_search_index()
            middle = list_notices(store, NoticeFilter(), limit=args.notices // 2)[-1]
            some = list_notices(store, NoticeFilter(), limit=1)[0]
            queries: list[tuple[str, Callable[[], object]]] = [
                (
                    "notices, first page of 50",
                    lambda: list_notices(store, NoticeFilter(), limit=51),
                ),
                (
                    "notices, a page half way down",
                    lambda: list_notices(
                        store, NoticeFilter(), limit=51, after=(middle.day, middle.id)
                    ),
                ),
                (
                    "notices, one site",
                    lambda: list_notices(store, NoticeFilter(sites=(SITES[1],)), limit=51),
                ),
                (
                    "notices, publisher + since",
                    lambda: list_notices(
                        store,
                        NoticeFilter(publishers=(PUBLISHERS[2],), since=date(2024, 1, 10)),
                        limit=51,
                    ),
                ),
                (
                    "notices, kind revised",
                    lambda: list_notices(store, NoticeFilter(kinds=("revised",)), limit=51),
                ),
                ("events, a page from the start", lambda: list_events(store, limit=51)),
                (
                    "events, a page half way",
                    lambda: list_events(store, after_id=args.notices // 2, limit=51),
                ),
                ("a notice with its versions", lambda: store.history(some.url)),
            ]
            for label, work in queries:
                wall, cpu = timed(args.repeat, work)
                print(f"{label:34} {wall:8.1f} ms  (this process's CPU: {cpu:.1f} ms)")


if __name__ == "__main__":
    main()
