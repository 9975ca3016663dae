"""Crawls through real sockets: the local mirror on 127.0.0.x, a real store (SQLite and
PostgreSQL), the crawler as `govwatch crawl` runs it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from govwatch.crawler.engine import Crawler, RunSummary
from govwatch.crawler.politeness import Gates
from govwatch.crawler.seeds import Seed, load_seeds
from govwatch.demo.mirror import Mirror, demo_mirror
from govwatch.settings import Settings
from govwatch.store import Store
from govwatch.store.diff import diff_bodies, to_unified
from tests.conftest import LocalServer

FAST = Settings(retry_base=0.05, concurrency=16, host_concurrency=4)


@pytest.fixture(scope="module")
def mirror() -> Iterator[Mirror]:
    with demo_mirror() as m:
        yield m


def seeds_for(mirror: Mirror, tmp_path: Path, *names: str) -> list[Seed]:
    seeds = load_seeds(tmp_path / "seeds") if (tmp_path / "seeds").exists() else None
    if seeds is None:
        mirror.seed_files(tmp_path / "seeds", rate=200.0)
        seeds = load_seeds(tmp_path / "seeds")
    return [s for s in seeds if not names or s.id in names]


def crawl(store: Store, seeds: list[Seed], settings: Settings = FAST) -> RunSummary:
    return asyncio.run(Crawler(store, settings).run(seeds))


def test_unseen_site_new_then_revised_new_removed(store_url: str, tmp_path: Path) -> None:
    """The generic parser on a site it has never seen: plain listings with 下一页, notices
    with chrome, a 信息公开 table and a view counter that changes on every request."""
    with demo_mirror() as mirror, Store.open(store_url) as store:
        site = mirror.site("generic")
        seeds = seeds_for(mirror, tmp_path, "generic")
        first = crawl(store, seeds).sites["generic"]
        assert (first.new, first.revised, first.removed, first.errors) == (
            len(site.notices),
            0,
            0,
            0,
        )
        assert len(store.events(kind="new")) == len(site.notices)

        again = crawl(store, seeds).sites["generic"]
        assert (again.new, again.revised, again.removed, again.errors) == (0, 0, 0, 0), (
            "a view counter must never count as a revision"
        )

        edited, removed = site.notices[3], site.notices[5]
        removed_url = site.notice_url(removed.id)
        sentence = "请各校于6月30日前将汇总表报送至局办公室。"
        paragraphs = edited.paragraphs[:]
        paragraphs[1] = paragraphs[1] + sentence
        site.edit(edited.id, paragraphs)
        site.remove(removed.id)
        added = site.make_notice(
            "关于做好2024年暑期安全教育工作的通知",
            ["各学校：", "现就暑期安全教育工作通知如下。"],
            "2024-06-30",
        )
        site.add(added)

        second = crawl(store, seeds).sites["generic"]
        assert (second.new, second.revised, second.removed, second.errors) == (1, 1, 0, 0)
        third = crawl(store, seeds).sites["generic"]
        assert (third.new, third.revised, third.removed, third.errors) == (0, 0, 1, 0)

        (revised,) = store.events(kind="revised")
        assert revised.url == site.notice_url(edited.id)
        assert revised.changed_fields == ("body",)
        old, new = store.version(revised.url, 1), store.version(revised.url, 2)
        plus = [
            ln
            for ln in to_unified(diff_bodies(old.body, new.body)).splitlines()
            if ln.startswith("+") and not ln.startswith("+++")
        ]
        assert plus == [f"+{paragraphs[1]}"]
        (gone,) = store.events(kind="removed")
        assert gone.url == removed_url
        assert store.notice(gone.url) is not None and store.history(gone.url)
        assert {e.url for e in store.events(kind="new")} >= {site.notice_url(added.id)}


@pytest.mark.parametrize("site_name", ["trs-wcm", "hanweb-jcms", "hanweb-jpaas", "sd-gongkai"])
def test_each_cms_flow(mirror: Mirror, tmp_path: Path, site_name: str) -> None:
    site = mirror.site(site_name)
    with Store.open(f"sqlite:///{tmp_path / 'g.db'}") as store:
        seeds = seeds_for(mirror, tmp_path, site_name)
        first = crawl(store, seeds).sites[site_name]
        assert (first.new, first.errors) == (len(site.notices), 0)
        for notice in site.notices[:3]:
            assert len(store.history(site.notice_url(notice.id))) == 1
            assert store.version(site.notice_url(notice.id), 1).body == notice.body
        mirror.reset_logs()
        again = crawl(store, seeds).sites[site_name]
        assert (again.new, again.revised, again.removed, again.errors) == (0, 0, 0, 0)
        assert again.not_modified >= len(site.notices)
        # An unchanged re-crawl costs no body bytes beyond shells without validators.
        assert site.stats().bytes_sent < 0.05 * first.bytes


def test_crawl_exits_cleanly_on_a_site_that_is_down(tmp_path: Path) -> None:
    seed_file = tmp_path / "down.toml"
    seed_file.write_text(
        'id = "down"\nname = "down"\nparser = "generic"\n'
        'listing_urls = ["http://127.0.0.1:9/tzgg/index.html"]\ninterval = "1h"\n',
        encoding="utf-8",
    )
    with Store.open(f"sqlite:///{tmp_path / 'd.db'}") as store:
        summary = crawl(store, load_seeds(seed_file), Settings(retries=1, retry_base=0.01))
        stats = summary.sites["down"]
        assert (stats.errors, stats.new) == (1, 0)
        (error,) = store.errors(summary.run_id)
        assert error.kind == "refused"


def test_retries_honour_retry_after_then_succeed(http_server: LocalServer, tmp_path: Path) -> None:
    answers = iter(
        [
            (503, {"Retry-After": "1"}, b"busy"),
            (429, {"Retry-After": "0"}, b"slow down"),
        ]
    )

    def listing(_h: object) -> tuple[int, dict[str, str], bytes]:
        return next(answers, (200, {"Content-Type": "text/html; charset=utf-8"}, LISTING))

    http_server.routes["/list.html"] = listing
    http_server.page("/n1.html", NOTICE)
    seed_file = tmp_path / "s.toml"
    seed_file.write_text(
        f'id = "s"\nname = "s"\nparser = "generic"\nlisting_urls = ["{http_server.base}/list.html"]\n'
        'interval = "1h"\nrate = 100.0\n',
        encoding="utf-8",
    )
    with Store.open(f"sqlite:///{tmp_path / 'r.db'}") as store:
        started = time.monotonic()
        stats = crawl(store, load_seeds(seed_file)).sites["s"]
        assert time.monotonic() - started >= 1.0  # waited as Retry-After asked
    assert (stats.errors, stats.new) == (0, 1)
    assert [p for _, p, _ in http_server.requests].count("/list.html") == 3


def test_host_gate_paces_and_bounds_concurrency() -> None:
    async def run() -> tuple[float, int]:
        gates = Gates(global_limit=10, per_host=2)
        active = peak = 0

        async def one() -> None:
            nonlocal active, peak
            async with gates.turn("h", rate=20.0):
                active += 1
                peak = max(peak, active)
                await asyncio.sleep(0.05)
                active -= 1

        started = time.monotonic()
        await asyncio.gather(*(one() for _ in range(10)))
        return time.monotonic() - started, peak

    elapsed, peak = asyncio.run(run())
    assert peak <= 2
    assert elapsed >= 9 / 20  # ten starts at 20/s: the last no sooner than 0.45 s


LISTING = (
    "<html><body><ul>"
    + "".join(
        f'<li><a href="/n{i}.html">关于第{i}项工作的通知</a><span>2024-06-0{i}</span></li>'
        for i in range(1, 2)
    )
    + '</ul><div><a href="#">首页</a><a href="#">上一页</a></div></body></html>'
).encode()
NOTICE = (
    "<html><head><title>关于第1项工作的通知</title></head><body><h1>关于第1项工作的通知</h1>"
    '<div class="content"><p>各单位：请按时完成第一项工作，并于月底前报送总结。</p>'
    "<p>特此通知。</p></div></body></html>"
).encode()


@pytest.mark.slow
@pytest.mark.serial
def test_two_crawlers_and_a_server_share_one_postgresql(
    postgres_url: str, mirror: Mirror, tmp_path: Path
) -> None:
    """`govwatch crawl` twice at once, and `govwatch serve` (its scheduler crawling the same
    seeds) reading and writing the same database: no duplicate notice, version or event,
    no deadlock, and a reader polling the feed meanwhile only ever sees whole notices."""
    import json
    import os
    import signal
    import socket
    import subprocess
    import sys

    import httpx

    from tests.pg import fresh_database

    db = fresh_database(postgres_url)
    seeds = tmp_path / "seeds"
    mirror.seed_files(seeds, rate=200.0, baseline=False)  # the feed must show old notices
    env = {**os.environ, "GOVWATCH_DB": db}
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    govwatch = [sys.executable, "-m", "govwatch"]
    server = subprocess.Popen(
        [*govwatch, "serve", "--seeds", str(seeds), "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    crawlers = [
        subprocess.Popen(
            [*govwatch, "crawl", "--seeds", str(seeds)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(2)
    ]
    feed = f"http://127.0.0.1:{port}/feeds/all.json"
    seen_items = 0
    try:
        with httpx.Client(timeout=10) as client:
            deadline = time.monotonic() + 120
            while any(c.poll() is None for c in crawlers) and time.monotonic() < deadline:
                try:
                    resp = client.get(feed)
                except httpx.TransportError:
                    time.sleep(0.1)  # the server is still starting
                    continue
                assert resp.status_code == 200
                items = json.loads(resp.content)["items"]
                for item in items:  # every item a whole notice: its version and its text
                    assert item["_govwatch"]["version"] >= 1
                    assert item["content_html"]
                seen_items = max(seen_items, len(items))
        for proc in crawlers:
            out, err = proc.communicate(timeout=120)
            assert proc.returncode == 0, err.decode()
            assert b"generic" in out
    finally:
        server.send_signal(signal.SIGTERM)
        _, server_err = server.communicate(timeout=60)
    assert server.returncode == 0, server_err.decode()[-2000:]
    assert seen_items > 0
    total = sum(len(site.notices) for site in mirror.sites)
    with Store.open(db) as store:
        new = store.events(kind="new", limit=10_000)
        assert len(new) == total
        assert len({e.url for e in new}) == total
        assert all(len(store.history(e.url)) == 1 for e in new)
        assert store.events(kind="revised") == []


def test_a_failed_listing_page_is_walked_past_next_time(
    http_server: LocalServer, tmp_path: Path
) -> None:
    """Page 2 fails on the first crawl; page 1 is then all known, yet the next crawl must
    walk on to page 2, whose notices were never listed."""

    def rows(first: int) -> str:
        return "".join(
            f'<li><a href="/n{i}.html">关于第{i}项工作安排的通知</a><span>2024-06-{i:02d}</span></li>'
            for i in range(first, first + 5)
        )

    pager = '<div><a href="/list.html">首页</a><a href="/list_2.html">下一页</a></div>'
    http_server.page("/list.html", f"<html><body><ul>{rows(1)}</ul>{pager}</body></html>".encode())
    failing = [True]

    def page_two(_h: object) -> tuple[int, dict[str, str], bytes]:
        if failing[0]:
            return 500, {}, b"down"
        body = f'<html><body><ul>{rows(6)}</ul><div><a href="/list.html">首页</a><a href="/list.html">上一页</a></div></body></html>'
        return 200, {"Content-Type": "text/html; charset=utf-8"}, body.encode()

    http_server.routes["/list_2.html"] = page_two
    for i in range(1, 11):
        http_server.page(f"/n{i}.html", NOTICE.replace("第1项".encode(), f"第{i}项".encode()))
    seed_file = tmp_path / "s.toml"
    seed_file.write_text(
        f'id = "s"\nname = "s"\nparser = "generic"\nlisting_urls = ["{http_server.base}/list.html"]\n'
        'interval = "1h"\nrate = 100.0\n',
        encoding="utf-8",
    )
    settings = Settings(retries=0)
    with Store.open(f"sqlite:///{tmp_path / 'w.db'}") as store:
        first = crawl(store, load_seeds(seed_file), settings).sites["s"]
        assert (first.new, first.errors) == (5, 1)
        failing[0] = False
        second = crawl(store, load_seeds(seed_file), settings).sites["s"]
        assert (second.new, second.errors) == (5, 0)
        assert len(store.events(kind="new")) == 10
