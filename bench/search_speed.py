"""Full-text search: index build time and query times from a big store.

Run by hand:  python bench/search_speed.py [--notices 5000] [--repeat 7] [--db URL]

Fills a fresh store (SQLite in a temp dir unless --db) as bench/feed_speed.py does
(notices of about a thousand characters, a tenth revised once; 双减 planted in 5% of
them, 校园安全 in 1%), by bulk inserts that bypass the index; then times the rebuild of
the index (`govwatch search --rebuild`), the searches a reader makes (warm: the median of
--repeat runs, in ms, first page of 20 hits; with the CPU time of this process, which
is all of it on SQLite, and tells more than the wall clock on a busy machine), and
record_page of new notices, which now indexes each version in its transaction.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path

from feed_speed import PUBLISHERS, SITES, fill

from govwatch.parsers.records import Page
from govwatch.store import Store
from govwatch.store.filters import NoticeFilter

QUERIES: tuple[tuple[str, str, NoticeFilter], ...] = (
    ("双减 (5% of notices)", "双减", NoticeFilter()),
    ("校园安全 (1%)", "校园安全", NoticeFilter()),
    ("教育 (every notice)", "教育", NoticeFilter()),
    ("第4321号 (one notice)", "第4321号", NoticeFilter()),
    ("落实 双减, one site", "落实 双减", NoticeFilter(sites=(SITES[1],))),
    (
        "双减, publisher + since",
        "双减",
        NoticeFilter(publishers=(PUBLISHERS[2],), since=date(2024, 1, 10)),
    ),
    ("作业 (no notice)", "作业", NoticeFilter()),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notices", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--db", help="database URL (default: SQLite in a temp dir)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.db or f"sqlite:///{Path(tmp) / 'bench.db'}"
        print(f"filling {args.notices} notices: {fill(url, args.notices):.1f} s")
        with Store.open(url) as store:
            started = time.perf_counter()
            count = store.rebuild_search_index()
            took = time.perf_counter() - started
            print(f"rebuild: {count} versions in {took:.1f} s ({count / took:.0f} versions/s)")
            for label, query, filters in QUERIES:
                hits = store.search(query, filters)
                runs, cpu = [], []
                for _ in range(args.repeat):
                    begun, begun_cpu = time.perf_counter(), time.process_time()
                    store.search(query, filters)
                    runs.append((time.perf_counter() - begun) * 1000)
                    cpu.append((time.process_time() - begun_cpu) * 1000)
                print(
                    f"search {label:28} {len(hits):3} hits  {statistics.median(runs):7.1f} ms"
                    f"  (this process's CPU: {statistics.median(cpu):.1f} ms)"
                )
            run = store.start_run([SITES[0]])
            begun = time.perf_counter()
            for n in range(100):
                page = Page(
                    kind="detail",
                    parser="generic",
                    title=f"新增第{n}号通知",
                    body="关于双减工作的具体要求如下。" * 40,
                )
                store.record_page(SITES[0], f"http://new.example/{n}.html", page, b"", run)
            each = (time.perf_counter() - begun) * 10
            print(f"record_page of a new notice, index included: {each:.1f} ms")


if __name__ == "__main__":
    main()
