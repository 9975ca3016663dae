"""Full-text search: index build time and query times from a big store.

Run by hand:  python bench/search_speed.py [--notices 100000] [--repeat 7] [--db URL] [--reuse]

Fills a fresh store (SQLite in a temp dir unless --db) as bench/feed_speed.py does
(a tenth of the notices revised once; 双减 planted in 5% of them, 校园安全 in 1%), by
bulk inserts that bypass the index, with bodies of about 1,400 characters written from a
vocabulary of 30,000 words of Chinese characters, common ones far more often, beside the
stock phrases of an official notice: some 900 distinct bigrams each, as many as the
first 1,400 characters of real notices have. Then it times the rebuild of the index
(`govwatch search --rebuild`) and the searches a reader makes, warm: after one run,
--repeat runs of the first page of 20 hits, each hit checked to hold the query's words.
It prints the median and the worst wall time; the CPU time of this process (median and
worst, which tells more than the wall clock on a busy machine); on a PostgreSQL on this
machine the server's CPU too (per run, the mean over the runs: /proc counts in 10 ms
ticks); and the load average. Last, record_page of new notices, which indexes each
version in its transaction.

PostgreSQL: start a server as tests/pg.py does (initdb and pg_ctl from
/usr/lib/postgresql/15/bin, a temp dir, a free port), createdb, pass --db
postgresql://postgres@127.0.0.1:PORT/DB. --reuse keeps a store a previous run filled
(and its index) and times the searches only.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import date
from itertools import accumulate
from pathlib import Path

import sqlalchemy as sa
from feed_speed import FILLER, PUBLISHERS, SITES, fill

from govwatch.parsers.records import Page
from govwatch.store import Store
from govwatch.store.filters import NoticeFilter
from govwatch.store.search_text import document_text, matches, parse_query

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

# The characters of the timed words stay out of the vocabulary: they occur where planted.
_RESERVED = set("双减校园安全作业第号")
_VOCABULARY_SIZE = 30_000


def _vocabulary() -> tuple[list[str], list[float]]:
    """Words of two to four characters, and cumulative Zipf weights: a few common, most
    rare."""
    rng = random.Random(2024)
    chars = [chr(c) for c in range(0x4E00, 0x9FA6) if chr(c) not in _RESERVED]
    chars = rng.sample(chars, 6000)  # what a notice draws on, far from evenly
    char_weights = list(accumulate(1 / (rank + 5) ** 1.2 for rank in range(len(chars))))
    words = [
        "".join(rng.choices(chars, cum_weights=char_weights, k=rng.choice((2, 2, 2, 3, 4))))
        for _ in range(_VOCABULARY_SIZE)
    ]
    return words, list(accumulate(1 / (rank + 1) for rank in range(len(words))))


def _sentences(count: int) -> list[str]:
    """Sentences of words, a stock phrase in half of them: bodies draw on these (writing
    every body word by word would take longer than the rest of the bench)."""
    words, weights = _vocabulary()
    rng = random.Random(2025)
    out = []
    for _ in range(count):
        picked = rng.choices(words, cum_weights=weights, k=rng.randint(12, 24))
        if rng.random() < 0.5:
            picked.insert(rng.randrange(len(picked)), rng.choice(FILLER))
        out.append("，".join("".join(picked[k : k + 4]) for k in range(0, len(picked), 4)))
    return out


_SENTENCES = _sentences(20_000)


def realistic_body(rng: random.Random, planted: list[str]) -> str:
    """About 1,400 characters: paragraphs of sentences."""
    paragraphs = [
        "。".join(rng.choices(_SENTENCES, k=rng.randint(2, 4))) + "。"
        for _ in range(rng.randint(6, 10))
    ]
    for word in planted:
        paragraphs.insert(rng.randrange(len(paragraphs)), f"关于{word}工作的具体要求如下。")
    return "\n".join(paragraphs)


def _server_cpu(store: Store) -> Callable[[], float] | None:
    """Seconds of CPU the PostgreSQL backends of this database have used, when the
    server runs on this machine (its processes in /proc); else None."""
    if store._engine.dialect.name != "postgresql":
        return None
    tick = os.sysconf("SC_CLK_TCK")

    def used() -> float:
        with store._engine.connect() as conn:
            pids = conn.execute(
                sa.text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
            ).scalars()
            total = 0
            for pid in pids:
                try:
                    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                total += int(fields[11]) + int(fields[12])  # utime, stime
        return total / tick

    try:
        used()
    except (OSError, sa.exc.SQLAlchemyError):
        return None
    return used


def _check(store: Store, query: str, hits: list) -> None:  # type: ignore[type-arg]
    """Every hit holds every word of the query, in the version found."""
    parsed = parse_query(query)
    for hit in hits:
        version = store.history(hit.url)[hit.version - 1]
        names = [a.name for a in version.attachments]
        files = store.file_texts(hit.notice_id, hit.version)
        text = document_text(version.title, version.body, version.meta, names, files)
        if not matches(parsed, text):
            raise SystemExit(f"{query!r}: {hit.url} v{hit.version} does not hold it")


def _time_searches(store: Store, repeat: int) -> None:
    server = _server_cpu(store)
    for label, query, filters in QUERIES:
        hits = store.search(query, filters)
        _check(store, query, hits)
        walls, cpus = [], []
        server_before = server() if server else 0.0
        for _ in range(repeat):
            begun, begun_cpu = time.perf_counter(), time.process_time()
            store.search(query, filters)
            walls.append((time.perf_counter() - begun) * 1000)
            cpus.append((time.process_time() - begun_cpu) * 1000)
        line = (
            f"search {label:26} {len(hits):3} hits"
            f"  wall {statistics.median(walls):6.1f} ms (worst {max(walls):6.1f})"
            f"  CPU {statistics.median(cpus):5.1f} ms (worst {max(cpus):5.1f})"
        )
        if server:
            line += f"  server CPU {(server() - server_before) * 1000 / repeat:5.1f} ms"
        print(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notices", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--db", help="database URL (default: SQLite in a temp dir)")
    parser.add_argument("--reuse", action="store_true", help="time the searches of --db only")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.db or f"sqlite:///{Path(tmp) / 'bench.db'}"
        print(f"load average {os.getloadavg()[0]:.1f} {os.getloadavg()[1]:.1f} at the start")
        if not args.reuse:
            took = fill(url, args.notices, 1, realistic_body)
            print(f"filling {args.notices} notices: {took:.1f} s")
        with Store.open(url) as store:
            if not args.reuse:
                started = time.perf_counter()
                count = store.rebuild_search_index()
                took = time.perf_counter() - started
                print(f"rebuild: {count} versions in {took:.1f} s ({count / took:.0f} versions/s)")
                if store._engine.dialect.name == "postgresql":  # as autovacuum soon would
                    with store._engine.connect() as conn:
                        conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
                            "VACUUM ANALYZE search_docs, search_fts"
                        )
            _time_searches(store, args.repeat)
            if args.reuse:
                return
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
        print(f"load average {os.getloadavg()[0]:.1f} {os.getloadavg()[1]:.1f} at the end")


if __name__ == "__main__":
    main()
