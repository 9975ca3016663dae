"""Topic feed render time from a big store, cold and warm.

Run by hand:  python bench/feed_speed.py [--notices 100000] [--repeat 7] [--db URL]

Fills a fresh store (SQLite in a temp dir unless --db) with --notices notices of about a
thousand characters each, a tenth of them revised once and one in a hundred removed, by bulk
inserts straight into the tables (record_page one by one would take minutes and measure the
writer, not the feeds). Then renders a few topics: cold is a new FeedBuilder each time (an
empty cache, so the events are read and matched and the feed written), warm is the same
builder again (one query for the newest event id), +1 event the same builder after a new
notice was recorded (the cache reads the events after its newest one). Prints the median of
--repeat runs in ms.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
import zlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import sqlalchemy as sa

from govwatch.feeds.render import FeedBuilder, Format
from govwatch.feeds.topics import ALL, Topic
from govwatch.parsers.records import Page
from govwatch.store import Store, database
from govwatch.store.hashing import content_hash
from govwatch.store.schema import events, notices, sites, versions

SITES = ("zhangdian-jyj-tzgg", "jingjiang-jyj-tzgg", "tongling-jyt-ghjh", "qianjiang-jyj-ghjh")
PUBLISHERS = ("张店区教育和体育局", "靖江市教育局", "铜陵市教育和体育局", "潜江市教育局")
CATEGORIES = ("教育", "通知公告", "规划计划", "人事")
FILLER = (
    "为深入贯彻落实国家有关工作部署",
    "进一步加强和改进全市教育系统各项工作",
    "结合我区实际情况",
    "现就有关事项通知如下",
    "各学校要高度重视",
    "切实履行主体责任",
    "认真组织开展自查自纠",
    "确保各项措施落到实处",
    "请于规定时间前将有关材料报送至局办公室",
    "联系人及联系电话见附件",
    "本通知自印发之日起施行",
    "加强组织领导，明确责任分工",
    "强化督导检查，严格考核问责",
    "广泛宣传发动，营造良好氛围",
)
# (keyword, share of notices that carry it): what the timed keyword topics look for.
PLANTED = (("校园安全", 0.01), ("双减", 0.05))
START = datetime(2024, 1, 1, tzinfo=UTC)
BASE = "http://govwatch.example"
CHUNK = 5000


def body(rng: random.Random, planted: list[str]) -> str:
    paragraphs = []
    for _ in range(rng.randint(6, 12)):
        sentence = "，".join(rng.choices(FILLER, k=rng.randint(3, 6))) + "。"
        paragraphs.append(sentence)
    for word in planted:
        paragraphs.insert(rng.randrange(len(paragraphs)), f"关于{word}工作的具体要求如下。")
    return "\n".join(paragraphs)


def fill(
    url: str, count: int, seed: int = 1, body_text: Callable[[random.Random, list[str]], str] = body
) -> float:
    """Bulk-insert `count` notices with their versions and events; seconds taken.
    `body_text` writes a body holding the planted words."""
    rng = random.Random(seed)
    started = time.perf_counter()
    Store.open(url).close()  # create the schema
    engine = database.create_engine(database.parse_url(url))
    with engine.begin() as conn:
        conn.execute(
            sa.insert(sites),
            [{"id": s, "name": s, "parser": "generic", "topics": []} for s in SITES],
        )
        timeline: list[dict[str, Any]] = []
        notice_rows, version_rows = [], []
        for i in range(1, count + 1):
            site = i % len(SITES)
            seen = START + timedelta(minutes=5 * i)
            planted = [word for word, share in PLANTED if rng.random() < share]
            title = f"关于做好第{i}号工作的通知" + ("（校园安全）" if "校园安全" in planted else "")
            text = body_text(rng, planted)
            record: dict[str, Any] = {
                "title": title,
                "body": text,
                "meta": {
                    "index_no": f"{site:02d}-{i:08d}",
                    "publisher": PUBLISHERS[site],
                    "category": CATEGORIES[i % len(CATEGORIES)],
                    "issued_date": (seen - timedelta(days=1)).date().isoformat(),
                    "doc_no": f"教发〔2024〕{i}号",
                },
                "attachments": [],
            }
            versions_of = [record]
            revised_at = removed_at = None
            if rng.random() < 0.1:
                versions_of.append({**record, "body": text + "\n（此件有修改）"})
                revised_at = seen + timedelta(days=rng.uniform(0.1, 30))
            if rng.random() < 0.01:
                removed_at = (revised_at or seen) + timedelta(days=rng.uniform(0.1, 30))
            for number, rec in enumerate(versions_of, start=1):
                version_rows.append(
                    {
                        "notice_id": i,
                        "number": number,
                        "fetched_at": seen if number == 1 else revised_at,
                        "content_hash": content_hash(rec),
                        "raw_html": _raw_page(rec),
                        "changed_fields": [] if number == 1 else ["body"],
                        **rec,
                    }
                )
            notice_rows.append(
                {
                    "id": i,
                    "site_id": SITES[site],
                    "url": f"http://www.example.gov.cn/{SITES[site]}/art_{i}.html",
                    "title": title,
                    "first_seen_at": seen,
                    "last_seen_at": seen,
                    "status": "removed" if removed_at else "active",
                    "gone_count": 2 if removed_at else 0,
                    "current_version": len(versions_of),
                }
            )
            timeline.append(_event(i, 1, "new", 1, [], seen))
            if revised_at:
                timeline.append(_event(i, 2, "revised", 2, ["body"], revised_at))
            if removed_at:
                timeline.append(
                    _event(i, len(versions_of) + 1, "removed", len(versions_of), [], removed_at)
                )
        for rows, table in ((notice_rows, notices), (version_rows, versions)):
            for chunk in _chunks(rows):
                conn.execute(sa.insert(table), chunk)
        timeline.sort(key=lambda e: e["at"])
        for chunk in _chunks(timeline):
            conn.execute(sa.insert(events), chunk)
        if conn.dialect.name == "postgresql":  # explicit ids left the sequences behind
            for name in ("notices", "events"):
                conn.execute(
                    sa.text(
                        f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), max(id))"
                        f" FROM {name}"
                    )
                )
    if engine.dialect.name == "postgresql":
        # What autovacuum does soon after a load this big; without statistics the planner
        # joins every event before sorting. SQLite gets none: the store never runs ANALYZE.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("ANALYZE"))
    engine.dispose()
    return time.perf_counter() - started


def _raw_page(record: dict[str, Any]) -> bytes:
    """The fetched page as the store keeps it: compressed, beside the text (it costs I/O)."""
    paragraphs = "".join(f"<p>{line}</p>" for line in record["body"].split("\n"))
    page = f"<html><head><title>{record['title']}</title></head><body>{paragraphs}</body></html>"
    return zlib.compress(page.encode("utf-8"))


def _event(
    notice_id: int, seq: int, kind: str, version: int, fields: list[str], at: datetime
) -> dict[str, Any]:
    return {
        "notice_id": notice_id,
        "seq": seq,
        "kind": kind,
        "version": version,
        "changed_fields": fields,
        "at": at,
    }


def _chunks(rows: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(rows), CHUNK):
        yield rows[start : start + CHUNK]


def add_event(store: Store) -> Callable[[], object]:
    """A step that records one new notice on the first site, as a crawl would."""
    counter = iter(range(1, 1_000_000))

    def step() -> object:
        n = next(counter)
        page = Page(kind="detail", parser="generic", title=f"新增第{n}号", body="正文。")
        return store.record_page(
            SITES[0], f"http://www.example.gov.cn/new/{n}.html", page, b"", None
        )

    return step


def median_ms(
    run: Callable[[], object], repeat: int, before: Callable[[], object] | None = None
) -> float:
    """Median wall time of `run` in ms; `before` runs ahead of each, untimed."""
    times = []
    for _ in range(repeat):
        if before is not None:
            before()
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def count_items(body: bytes, fmt: Format) -> int:
    if fmt == "json":
        return len(json.loads(body)["items"])
    root = ElementTree.fromstring(body)
    return len(
        root.findall("channel/item" if fmt == "rss" else "{http://www.w3.org/2005/Atom}entry")
    )


def time_topic(
    store: Store, topic: Topic, fmt: Format, repeat: int
) -> tuple[int, float, float, float]:
    """Items, then median ms of a cold render, a warm one and one after a new event."""

    def cold() -> object:
        return FeedBuilder(store, BASE).render(topic, fmt)

    builder = FeedBuilder(store, BASE)
    feed = builder.render(topic, fmt)

    def again() -> object:
        return builder.render(topic, fmt)

    return (
        count_items(feed.body, fmt),
        median_ms(cold, repeat),
        median_ms(again, repeat),
        median_ms(again, repeat, before=add_event(store)),
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--notices", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--db", help="database URL (default: SQLite in a temp dir)")
    ap.add_argument("--format", default="rss", choices=["rss", "atom", "json"])
    ap.add_argument("--http-seconds", type=float, default=3.0, help="0 skips the HTTP part")
    args = ap.parse_args()
    fmt: Format = args.format
    topics = [
        ("all (every event)", ALL),
        ("keyword, ~5% of notices", Topic(id="shuangjian", title="双减", keywords=("双减",))),
        ("keyword, ~1% of notices", Topic(id="anquan", title="校园安全", keywords=("校园安全",))),
        ("kind removed, ~1%", Topic(id="chexia", title="撤下", kinds=("removed",))),
        (
            "one site + publisher",
            Topic(id="zd", title="张店", sites=(SITES[0],), publishers=("张店",)),
        ),
        ("keyword in no notice", Topic(id="none", title="无", keywords=("不存在的词",))),
    ]
    with tempfile.TemporaryDirectory() as tmp:
        url = args.db or f"sqlite:///{Path(tmp) / 'feeds.db'}"
        seconds = fill(url, args.notices)
        with Store.open(url) as store:
            total = store.last_event_id()
            print(f"store: {args.notices:,} notices, {total:,} events, filled in {seconds:.1f} s")
            print(f"{fmt} render of max 50 items, median of {args.repeat} runs, ms:")
            print(f"  {'topic':<26} {'items':>5} {'cold':>8} {'warm':>8} {'+1 event':>9}")
            for label, topic in topics:
                items, cold, warm, refresh = time_topic(store, topic, fmt, args.repeat)
                print(f"  {label:<26} {items:>5} {cold:>8.1f} {warm:>8.2f} {refresh:>9.1f}")
        print("cold: a new FeedBuilder (empty cache); warm: the same again (nothing new);")
        print("+1 event: a new notice recorded elsewhere first, so the cache refreshes.")
        if args.http_seconds > 0:
            with Store.open(url) as store:
                http_rates(store, topics[2][1], fmt, args.http_seconds)


_CLIENT = """
import sys, time, httpx
url, etag, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
headers = {"If-None-Match": etag} if etag else {}
n, status = 0, None
with httpx.Client() as client:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        status = client.get(url, headers=headers).status_code
        n += 1
print(n / seconds, status)
"""


def http_rates(store: Store, topic: Topic, fmt: Format, seconds: float) -> None:
    """Requests/s for one served topic feed, plain and with If-None-Match, from a client
    in another process (one keep-alive connection, so the figure is per connection)."""
    import socket
    import subprocess
    import sys
    import threading

    import uvicorn

    from govwatch.server.app import create_app
    from govwatch.settings import Settings

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings = Settings(port=port)
    app = create_app(store, [ALL, topic], [], settings, scheduler=False)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    feed = f"http://127.0.0.1:{port}/feeds/{topic.id}.{fmt}"
    import httpx

    etag = httpx.get(feed).headers["etag"]
    print(f"HTTP, {feed} (uvicorn in this process, client in another), {seconds:.0f} s each:")
    for label, sent in (("plain GET", ""), ("If-None-Match", etag)):
        out = subprocess.run(
            [sys.executable, "-c", _CLIENT, feed, sent, str(seconds)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        print(f"  {label:<14} {float(out[0]):8.0f} requests/s  (status {out[1]})")
    server.should_exit = True
    thread.join(timeout=10)


if __name__ == "__main__":
    main()
