"""`govwatch serve` against the local mirror: feeds that follow the sites, conditional
requests, OPML, notice and diff pages, hostile site text, health, metrics, SIGTERM, and a
real feed reader (newsboat)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar
from xml.etree import ElementTree

import feedparser
import httpx
import pytest
import sqlalchemy as sa
import uvicorn
from prometheus_client.parser import text_string_to_metric_families

from govwatch.cli.summary import crawl_table
from govwatch.crawler.engine import Crawler
from govwatch.crawler.seeds import Seed, load_seeds
from govwatch.demo.mirror import Mirror, MirrorSite, demo_mirror
from govwatch.errors import StoreError
from govwatch.feeds.topics import Topic, load_topics
from govwatch.server import pages
from govwatch.server.app import create_app
from govwatch.server.metrics import Metrics
from govwatch.server.scheduler import CrawlScheduler
from govwatch.settings import Settings
from govwatch.store import Store
from tests.conftest import ROOT

# A uvicorn server per module, feed readers and server processes.
pytestmark = [pytest.mark.slow, pytest.mark.serial]

T = TypeVar("T")

FAST = Settings(retry_base=0.05, concurrency=16, host_concurrency=4, jitter=0.1)
KEYWORD = "防溺水"
ADDED = "请各校于6月30日前将汇总表报送至局办公室。"
HOSTILE_TITLE = "<script>alert(1)</script>关于防溺水\x1b[31m工作的紧急通知\u202e"
TOPICS_TOML = f"""
[[topic]]
id = "nishui"
title = "防溺水"
keywords = ["{KEYWORD}"]
"""
FORMATS = ("rss", "atom", "json")


# --- helpers the browser test shares -----------------------------------------


def write_seeds(
    mirror: Mirror,
    directory: Path,
    *names: str,
    interval: str = "2s",
    rate: float = 200.0,
) -> list[Seed]:
    """The mirror's seed files (only `names`, when given) crawled every `interval`. The
    feeds follow the mirror's notices from the first crawl on, although they are old:
    these seeds turn the quiet first crawl off (tests/test_baseline.py tests it)."""
    for path in mirror.seed_files(directory, rate=rate, baseline=False):
        if names and path.stem not in names:
            path.unlink()
            continue
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace('interval = "10s"', f'interval = "{interval}"'), "utf-8")
    return load_seeds(directory)


def crawl(store: Store, seeds: list[Seed]) -> None:
    summary = asyncio.run(Crawler(store, FAST).run(seeds))
    assert not any(stats.errors for stats in summary.sites.values()), crawl_table(summary)


def revise(site: MirrorSite, index: int) -> str:
    """Edit the notice at `index` as an editor would: a sentence added, a paragraph
    dropped, one inserted. Returns the notice id. The sentence goes at the end of a
    paragraph of running text (not a heading such as 一、工作要求, which a diff rightly shows
    as replaced whole): the mirror's texts differ with and without named seed texts."""
    notice = site.notices[index]
    paragraphs = notice.paragraphs[:]
    prose = next(k for k, text in enumerate(paragraphs) if k and len(text) >= 30)
    paragraphs[prose] += ADDED
    del paragraphs[prose + 2]
    paragraphs.insert(prose + 4, "各学校要建立健全安全工作责任制，明确第一责任人。")
    site.edit(notice.id, paragraphs)
    return notice.id


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(check: Callable[[], T | None], timeout: float, what: str) -> T:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.1)


@contextmanager
def live_server(
    store: Store,
    seeds: list[Seed],
    topics: list[Topic],
    *,
    scheduler: bool = True,
) -> Iterator[str]:
    """The app under uvicorn on a free 127.0.0.1 port, in a thread; yields its base URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = int(sock.getsockname()[1])
    app = create_app(
        store, topics, seeds, replace(FAST, host="127.0.0.1", port=port), scheduler=scheduler
    )
    server = uvicorn.Server(uvicorn.Config(app, lifespan="on", log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        wait_for(lambda: server.started or not thread.is_alive(), 10, "the server to start")
        assert server.started, "the server did not start"
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()
    assert not thread.is_alive(), "the server did not stop"


def require_tool(name: str, package: str) -> str:
    """The tool's path; skip without it, except under CI, which must have it."""
    path = shutil.which(name)
    if path is None:
        reason = f"`{name}` is not on PATH (Debian package {package})"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}: CI must run this test")
        pytest.skip(reason)
    return path


# --- a store crawled once, shared by the request-level tests -----------------


class Crawled:
    """A store after two crawls of two mirror sites: one notice revised, a hostile one added."""

    def __init__(self, root: Path) -> None:
        self.mirror = demo_mirror().start()
        self.db = f"sqlite:///{root / 'govwatch.db'}"
        self.store = Store.open(self.db)
        self.seeds = write_seeds(self.mirror, root / "seeds", "generic", "trs-wcm")
        (root / "topics.toml").write_text(TOPICS_TOML, encoding="utf-8")
        self.topics = load_topics(root / "topics.toml")
        crawl(self.store, self.seeds)
        site = self.mirror.site("generic")
        self.revised_url = site.notice_url(revise(site, 2))
        hostile = site.make_notice(
            HOSTILE_TITLE,
            [
                "<img src=x onerror=alert(2)>各学校：",
                f"请做好{KEYWORD}工作。</p><script>alert(3)</script>",
            ],
            attachments=[("<b onmouseover=alert(4)>附件</b>.pdf", "P0000.pdf")],
        )
        site.add(hostile)
        self.hostile_url = site.notice_url(hostile.id)
        crawl(self.store, self.seeds)
        self.revised = self.notice_id(self.revised_url)
        self.hostile = self.notice_id(self.hostile_url)

    def notice_id(self, url: str) -> int:
        row = self.store.notice(url)
        assert row is not None
        return row.id

    def close(self) -> None:
        self.store.close()
        self.mirror.stop()


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Crawled]:
    state = Crawled(tmp_path_factory.mktemp("crawled"))
    try:
        yield state
    finally:
        state.close()


@pytest.fixture(scope="module")
def client(crawled: Crawled) -> Iterator[httpx.Client]:
    """The app without its scheduler, serving the crawled store."""
    with (
        live_server(crawled.store, crawled.seeds, crawled.topics, scheduler=False) as base,
        httpx.Client(base_url=base) as c,
    ):
        yield c


def entries(body: bytes) -> list[Any]:
    """The items of an RSS or Atom feed (feedparser, which must find no error) or of a JSON
    Feed 1.1 (which feedparser 6.0 does not read), as feedparser entries."""
    if body.lstrip().startswith(b"{"):
        feed = json.loads(body)
        assert feed["version"] == "https://jsonfeed.org/version/1.1"
        return [
            feedparser.FeedParserDict(id=i["id"], title=i["title"], summary=i["content_html"])
            for i in feed["items"]
        ]
    parsed = feedparser.parse(body)
    assert not parsed.bozo, parsed.get("bozo_exception")
    return list(parsed.entries)


def entry_html(entry: Any) -> str:
    """An entry's HTML body, wherever the format put it (RSS: description)."""
    contents = entry.get("content")
    return str(contents[0].value if contents else entry.get("summary", ""))


def entry_text(entry: Any) -> str:
    return f"{entry.title}\n{entry_html(entry)}"


# --- end to end: the scheduler follows the site ------------------------------


def test_topic_feed_follows_the_site(store_url: str, tmp_path: Path) -> None:
    """serve on the unseen-site flow with a one-keyword topic: the feed fills with only the
    matching notices, then shows a revision (with its diff) and a new notice within a few
    scheduler intervals."""
    (tmp_path / "topics.toml").write_text(TOPICS_TOML, encoding="utf-8")
    topics = load_topics(tmp_path / "topics.toml")
    with demo_mirror() as mirror, Store.open(store_url) as store:
        site = mirror.site("generic")
        seeds = write_seeds(mirror, tmp_path / "seeds", "generic")
        matching = {n.title for n in site.notices if KEYWORD in n.title + n.body}
        assert 0 < len(matching) < len(site.notices)
        with live_server(store, seeds, topics) as base, httpx.Client(base_url=base) as http:

            def topic_entries() -> list[Any]:
                return entries(http.get("/feeds/nishui.rss").content)

            def filled() -> list[Any] | None:
                items = topic_entries()
                return items if len(items) == len(matching) else None

            first = wait_for(filled, 20, "the topic feed to fill")
            assert {e.title for e in first} == {f"[新] {t}" for t in matching}

            edited = next(n for n in site.notices if KEYWORD in n.body)
            revise(site, site.notices.index(edited))
            fresh = site.make_notice(f"关于做好暑期{KEYWORD}工作的通知", ["各学校：", "特此通知。"])
            other = site.make_notice("关于举办教师书法比赛的通知", ["各学校：", "特此通知。"])
            site.add(fresh)
            site.add(other)

            def updated() -> list[Any] | None:
                items = topic_entries()
                titles = [e.title for e in items]
                if f"[修订] {edited.title}" in titles and f"[新] {fresh.title}" in titles:
                    return items
                return None

            # A few 2 s intervals: the next crawl sees the change, the feed shows it at once.
            items = wait_for(updated, 12, "the revision and the new notice in the topic feed")
            revision = next(e for e in items if e.title == f"[修订] {edited.title}")
            assert f"<ins>{ADDED}</ins>" in entry_html(revision)
            assert "<del>" in entry_html(revision)
            assert revision.id != next(e.id for e in items if e.title == f"[新] {edited.title}")
            assert all(KEYWORD in entry_text(e) for e in items)
            assert f"[新] {other.title}" not in [e.title for e in items]
            everything = entries(http.get("/feeds/all.rss").content)
            assert f"[新] {other.title}" in [e.title for e in everything]

            for fmt in FORMATS:
                response = http.get(f"/feeds/nishui.{fmt}")
                assert len(entries(response.content)) == len(items)
                again = http.get(
                    f"/feeds/nishui.{fmt}", headers={"If-None-Match": response.headers["etag"]}
                )
                assert again.status_code == 304 and again.content == b""

            health = http.get("/healthz").json()
            assert health["status"] == "ok" and health["scheduler"]["running"]
            assert health["sites"]["generic"]["last_success"] is not None

            def counted() -> bool:
                """Metrics count a run when it ends, a little after its events are in feeds."""
                samples = {
                    (s.name, tuple(sorted(s.labels.items()))): s.value
                    for family in text_string_to_metric_families(http.get("/metrics").text)
                    for s in family.samples
                }
                events = ("govwatch_events_total", (("kind", "revised"), ("site", "generic")))
                crawls = ("govwatch_crawls_total", (("result", "ok"), ("site", "generic")))
                return samples[events] >= 1 and samples[crawls] >= 2

            wait_for(counted, 10, "the metrics to count the revision")


# --- request level ----------------------------------------------------------


def test_every_format_parses_and_answers_conditional_requests(client: httpx.Client) -> None:
    for fmt, media in zip(FORMATS, ("rss+xml", "atom+xml", "feed+json"), strict=True):
        response = client.get(f"/feeds/all.{fmt}")
        assert response.status_code == 200
        assert response.headers["content-type"] == f"application/{media}; charset=utf-8"
        assert len(entries(response.content)) == 50
        etag, modified = response.headers["etag"], response.headers["last-modified"]
        for headers in (
            {"If-None-Match": etag},
            {"If-None-Match": f'"other", W/{etag}'},
            {"If-None-Match": "*"},
            {"If-Modified-Since": modified},
        ):
            cached = client.get(f"/feeds/all.{fmt}", headers=headers)
            assert cached.status_code == 304, headers
            assert cached.headers["etag"] == etag and cached.content == b""
        for headers in (
            {"If-None-Match": '"other"'},
            {"If-None-Match": '"other"', "If-Modified-Since": modified},  # the ETag wins
            {"If-Modified-Since": "Thu, 01 Jan 2015 00:00:00 GMT"},
            {"If-Modified-Since": "yesterday"},
        ):
            assert client.get(f"/feeds/all.{fmt}", headers=headers).status_code == 200, headers


def test_topic_and_search_feeds(client: httpx.Client) -> None:
    topic = entries(client.get("/feeds/nishui.atom").content)
    assert topic and all(KEYWORD in entry_text(e) for e in topic)
    search = entries(client.get("/feeds/search.rss", params={"q": KEYWORD}).content)
    assert {e.id for e in search} == {e.id for e in topic}
    one_site = client.get("/feeds/search.rss", params={"q": KEYWORD, "site": "generic"})
    assert 0 < len(entries(one_site.content)) < len(topic)
    assert entries(
        client.get("/feeds/search.json", params={"q": KEYWORD, "site": "trs-wcm"}).content
    )
    assert client.get("/feeds/search.rss").status_code == 400
    assert client.get("/feeds/search.rss", params={"q": "长" * 101}).status_code == 400
    assert client.get("/feeds/nowhere.rss").status_code == 404
    assert client.get("/feeds/all.xml").status_code == 404


def test_opml_lists_every_topic_feed(client: httpx.Client, crawled: Crawled) -> None:
    response = client.get("/opml")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/x-opml")
    urls = {o.get("xmlUrl") for o in ElementTree.fromstring(response.content).iter("outline")}
    for topic in crawled.topics:
        assert f"{str(client.base_url).rstrip('/')}/feeds/{topic.id}.rss" in urls
        assert f"{str(client.base_url).rstrip('/')}/feeds/{topic.id}.atom" in urls
    cached = client.get("/opml", headers={"If-None-Match": response.headers["etag"]})
    assert cached.status_code == 304


def test_pages_name_sites_and_speak_chinese(client: httpx.Client, crawled: Crawled) -> None:
    """Sites by the names their seeds give them, not ids; error pages in Chinese."""
    name = next(s.name for s in crawled.seeds if s.id == "generic")
    notice = client.get(f"/notices/{crawled.revised}").text
    assert f'<th scope="row">网站</th><td>{name}</td>' in notice
    assert f'<span class="aside">{name}</span>' in client.get("/").text
    for path, message in (
        ("/notices/999999", "没有这条公告"),
        ("/nowhere", "找不到这个页面"),
        ("/feeds/nope.rss", "没有名为 nope 的专题"),
        (f"/notices/{crawled.revised}?version=9", "这条公告没有第 9 版"),
    ):
        page = client.get(path)
        assert page.status_code == 404 and message in page.text, path
    assert "搜索需要关键词" in client.get("/feeds/search.rss").text


def test_notice_page(client: httpx.Client, crawled: Crawled) -> None:
    response = client.get(f"/notices/{crawled.revised}")
    assert response.status_code == 200
    page = response.text
    assert '<html lang="zh-CN">' in page and 'name="viewport"' in page
    for label in ("索引号", "主题分类", "发布机构", "成文日期", "发布日期", "有效性"):
        assert f'<th scope="row">{label}</th>' in page
    assert ADDED in page
    assert f'href="/notices/{crawled.revised}/diff?from=1&amp;to=2"' in page
    assert f'href="/notices/{crawled.revised}?version=1"' in page
    old = client.get(f"/notices/{crawled.revised}", params={"version": 1}).text
    assert ADDED not in old and "不是最新版本" in old
    with_attachment = client.get(f"/notices/{crawled.hostile}").text
    assert 'href="http://127.0.0.2:' in with_attachment and "P0000.pdf" in with_attachment
    cached = client.get(
        f"/notices/{crawled.revised}", headers={"If-None-Match": response.headers["etag"]}
    )
    assert cached.status_code == 304
    assert client.get(f"/notices/{crawled.revised}", params={"version": 9}).status_code == 404
    for bad in ("x", "²", "9" * 5000):
        assert client.get(f"/notices/{crawled.revised}", params={"version": bad}).status_code == 400
    assert client.get(f"/notices/{crawled.revised}/diff?to=²").status_code == 400
    assert client.get("/notices/999999").status_code == 404
    assert client.get(f"/notices/{2**63}").status_code == 404


def test_diff_page(client: httpx.Client, crawled: Crawled) -> None:
    response = client.get(f"/notices/{crawled.revised}/diff", params={"from": 1, "to": 2})
    assert response.status_code == 200
    page = response.text
    assert f"<ins>{ADDED}</ins>" in page
    assert re.search(r"<del>[^<]+</del>", page), "the dropped paragraph is marked deleted"
    assert client.get(f"/notices/{crawled.revised}/diff").text == page  # the last two
    backwards = client.get(f"/notices/{crawled.revised}/diff", params={"from": 2, "to": 1}).text
    assert f"<del>{ADDED}</del>" in backwards
    same = client.get(f"/notices/{crawled.revised}/diff", params={"from": 2, "to": 2}).text
    assert "两个版本的正文相同" in same and "<ins>" not in same.split("<h2>正文</h2>")[1]
    cached = client.get(
        f"/notices/{crawled.revised}/diff?from=1&to=2",
        headers={"If-Modified-Since": response.headers["last-modified"]},
    )
    assert cached.status_code == 304
    assert client.get(f"/notices/{crawled.revised}/diff?from=1&to=7").status_code == 404
    assert client.get(f"/notices/{crawled.revised}/diff?from=-1").status_code == 400


def feed_markup(fmt: str, body: bytes) -> list[str]:
    """The fields of a feed that readers render as HTML, decoded from the XML or JSON."""
    if fmt == "json":
        return [item["content_html"] for item in json.loads(body)["items"]]
    root = ElementTree.fromstring(body)
    if fmt == "rss":
        tags = ("title", "description", "{http://purl.org/rss/1.0/modules/content/}encoded")
        return [
            el.text or "" for item in root.iter("item") for tag in tags for el in item.iter(tag)
        ]
    atom = "{http://www.w3.org/2005/Atom}"
    return [
        el.text or ""
        for entry in root.iter(f"{atom}entry")
        for el in (*entry.iter(f"{atom}title"), *entry.iter(f"{atom}content"))
    ]


def test_hostile_markup_stays_inert(client: httpx.Client, crawled: Crawled) -> None:
    """A title, body and attachment name full of markup reach feeds and pages only as text."""
    for fmt in FORMATS:
        body = client.get(f"/feeds/nishui.{fmt}").content
        assert b"<script" not in body.lower() and b"<img" not in body.lower(), fmt
        markup = feed_markup(fmt, body)
        assert any("&lt;script&gt;alert(" in html for html in markup), fmt
        for html in markup:
            assert not re.search(r"<(script|img|b )", html, re.IGNORECASE), (fmt, html[:200])
    pages = {
        "index": client.get("/"),
        "notice": client.get(f"/notices/{crawled.hostile}"),
        "diff": client.get(f"/notices/{crawled.hostile}/diff?from=1&to=1"),
    }
    for name, response in pages.items():
        assert response.status_code == 200, name
        page = response.text
        assert not re.search(r"<(script|img|b )", page, re.IGNORECASE), name
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page, name
    notice = pages["notice"].text
    assert "&lt;img src=x onerror=alert(2)&gt;" in notice
    assert "&lt;b onmouseover=alert(4)&gt;" in notice
    assert "default-src 'none'" in pages["notice"].headers["content-security-policy"]


def test_pages_strip_control_characters() -> None:
    """What the parsers let through (they already drop most) the templates drop too."""
    template = pages.environment().from_string("<h1>{{ title }}</h1>")
    title = "通知\x00\x07\x1b[31m\x85\u202e\u2066<b>\t"
    assert template.render(title=title) == "<h1>通知[31m&lt;b&gt;\t</h1>"
    assert pages.safe_href("javascript:alert(1)") is None
    assert pages.safe_href(" http://example.org/a.pdf") == "http://example.org/a.pdf"


def test_index_static_and_no_write_routes(client: httpx.Client, crawled: Crawled) -> None:
    index = client.get("/")
    assert index.status_code == 200
    assert 'href="/feeds/nishui.rss"' in index.text and 'href="/opml"' in index.text
    assert f'href="/notices/{crawled.revised}/diff?from=1&amp;to=2"' in index.text
    css = client.get("/static/style.css")
    assert css.status_code == 200 and "line-height: 1.8" in css.text
    for path in ("/feeds/all.rss", f"/notices/{crawled.revised}", "/opml", "/"):
        for method in ("POST", "PUT", "DELETE"):
            assert client.request(method, path).status_code == 405, (method, path)


def test_healthz_and_metrics(client: httpx.Client, crawled: Crawled) -> None:
    health = client.get("/healthz")
    assert health.status_code == 200 and health.headers["cache-control"] == "no-store"
    assert health.json()["db"] == {"ok": True}
    assert health.json()["scheduler"] == {
        "enabled": False,
        "running": False,
        "stopping": False,
        "fleet": False,
    }
    metrics = client.get("/metrics")
    assert metrics.headers["content-type"].startswith("text/plain; version=")
    names = {f.name for f in text_string_to_metric_families(metrics.text)}
    assert {"govwatch_crawls", "govwatch_events", "govwatch_crawl_errors"} <= names


def test_healthz_fails_without_database(
    client: httpx.Client, crawled: Crawled, monkeypatch: pytest.MonkeyPatch
) -> None:
    def down() -> int:
        raise StoreError("database is down")

    monkeypatch.setattr(crawled.store, "last_event_id", down)
    health = client.get("/healthz")
    assert health.status_code == 503
    assert health.json()["db"] == {"ok": False, "error": "database is down"}
    assert client.get("/feeds/all.rss").status_code == 503


# --- the process: SIGTERM -----------------------------------------------------


def test_sigterm_stops_cleanly(tmp_path: Path) -> None:
    """SIGTERM in the middle of a crawl: the crawl finishes, the process exits 0, and every
    crawl run in the store is finished, every version has its event."""
    db = f"sqlite:///{tmp_path / 'govwatch.db'}"
    port = free_port()
    with demo_mirror() as mirror:
        seeds = tmp_path / "seeds"
        write_seeds(mirror, seeds, "generic", "hanweb-jcms", rate=25.0)
        command = [sys.executable, "-m", "govwatch", "serve", "--seeds", str(seeds), "--db", db]
        command += ["--host", "127.0.0.1", "--port", str(port)]
        proc = subprocess.Popen(
            command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        try:

            def crawling() -> bool:
                try:
                    health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).json()
                except httpx.HTTPError:
                    return False
                return any(site["running"] for site in health["sites"].values())

            wait_for(crawling, 30, "a crawl to start")
            started = time.monotonic()
            proc.send_signal(signal.SIGTERM)
            _, stderr = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    assert proc.returncode == 0, stderr
    assert time.monotonic() - started < 10, stderr
    assert "waiting for" in stderr and "cancelling" not in stderr, stderr
    engine = sa.create_engine(db)
    try:
        with engine.connect() as conn:
            runs = conn.execute(sa.text("SELECT count(*), count(finished_at) FROM crawl_runs"))
            total, finished = runs.one()
            versions = conn.execute(sa.text("SELECT count(*) FROM versions")).scalar_one()
            written = conn.execute(
                sa.text("SELECT count(*) FROM events WHERE kind IN ('new', 'revised')")
            ).scalar_one()
    finally:
        engine.dispose()
    assert total >= 1 and finished == total, "a crawl run was left unfinished"
    assert versions > 0 and written == versions


def test_serve_on_a_busy_port_fails_before_crawling(tmp_path: Path) -> None:
    db = tmp_path / "govwatch.db"
    with demo_mirror() as mirror, socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        write_seeds(mirror, tmp_path / "seeds", "trs-wcm")
        command = [sys.executable, "-m", "govwatch", "serve", "--seeds", str(tmp_path / "seeds")]
        command += ["--db", f"sqlite:///{db}", "--port", str(busy.getsockname()[1])]
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=30)
        assert done.returncode == 3 and "address already in use" in done.stderr.lower()
        assert not mirror.stats().requests, "crawled although it could not serve"


def test_stop_cancels_a_crawl_that_outlasts_the_timeout(tmp_path: Path) -> None:
    """A crawl still running when the shutdown timeout ends is cancelled, not waited for:
    the stop returns promptly and the crawl counts as failed."""
    with demo_mirror() as mirror, Store.open(f"sqlite:///{tmp_path / 'gw.db'}") as store:
        seeds = write_seeds(mirror, tmp_path / "seeds", "hanweb-jcms", rate=5.0)
        metrics = Metrics(seed.id for seed in seeds)
        crawls = CrawlScheduler(store, seeds, FAST, metrics)

        async def scenario() -> float:
            crawls.start()
            while not crawls.sites["hanweb-jcms"].running:
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.3)
            started = time.monotonic()
            await crawls.stop(timeout=0.2)
            return time.monotonic() - started

        assert asyncio.run(scenario()) < 3
        status = crawls.sites["hanweb-jcms"]
        assert not status.running and status.last_success is None
        assert status.last_failure is not None and "cancelled" in status.last_failure
        assert b'govwatch_crawls_total{result="failed",site="hanweb-jcms"} 1.0' in metrics.render()


# --- a real feed reader -------------------------------------------------------


def test_newsboat_reads_a_feed_and_imports_the_opml(crawled: Crawled, tmp_path: Path) -> None:
    newsboat = require_tool("newsboat", "newsboat")
    env = {**os.environ, "HOME": str(tmp_path), "LANG": "C.UTF-8", "TERM": "dumb"}
    config = tmp_path / "config"
    config.write_text("", encoding="utf-8")

    def run(*args: str) -> str:
        done = subprocess.run(
            [newsboat, "-C", str(config), *args],
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        return done.stdout

    def cached_titles(cache: Path) -> list[str]:
        with sqlite3.connect(cache) as db:
            return [row[0] for row in db.execute("SELECT title FROM rss_item")]

    with live_server(crawled.store, crawled.seeds, crawled.topics, scheduler=False) as base:
        feed = entries(httpx.get(f"{base}/feeds/nishui.rss").content)
        urls = tmp_path / "urls"
        urls.write_text(f"{base}/feeds/nishui.rss\n", encoding="utf-8")
        cache = tmp_path / "cache.db"
        out = run("-u", str(urls), "-c", str(cache), "-x", "reload", "print-unread")
        assert out.strip() == f"{len(feed)} unread articles"
        assert sorted(cached_titles(cache)) == sorted(e.title for e in feed)
        assert any("alert(1)" in title for title in cached_titles(cache))

        opml = tmp_path / "govwatch.opml"
        opml.write_bytes(httpx.get(f"{base}/opml").content)
        imported = tmp_path / "imported"
        run("-u", str(imported), "-c", str(tmp_path / "cache2.db"), "-i", str(opml))
        lines = imported.read_text(encoding="utf-8").splitlines()
        for topic in crawled.topics:
            assert any(line.startswith(f"{base}/feeds/{topic.id}.rss") for line in lines)
            assert any(line.startswith(f"{base}/feeds/{topic.id}.atom") for line in lines)
        out = run(
            "-u", str(imported), "-c", str(tmp_path / "cache2.db"), "-x", "reload", "print-unread"
        )
        assert int(out.split()[0]) >= 50
