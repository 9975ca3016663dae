"""Site health: a site whose template changes is reported as a layout change, once, and
its notices are neither removed nor revised. Judging rules, then whole crawls of a local
site over real HTTP into a real store."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import feedparser
import httpx

from govwatch.cli.summary import crawl_table
from govwatch.crawler.engine import Crawler, RunSummary
from govwatch.crawler.health import assess
from govwatch.crawler.seeds import Seed, load_seeds
from govwatch.demo.mirror import Mirror
from govwatch.demo.mirror.build import populate
from govwatch.demo.mirror.site import MirrorSite
from govwatch.demo.mirror.texts import generated_texts
from govwatch.feeds.topics import ALL
from govwatch.settings import Settings
from govwatch.store import Store
from govwatch.store.rows import SiteYield
from tests.conftest import LocalServer
from tests.test_server import live_server

FAST = Settings(retry_base=0.05, retries=0)
HEALTHY = SiteYield(listing_read=1, listing_items=6, notices_read=6, with_body=6, with_meta=6)


def test_assess_judges_against_healthy_crawls() -> None:
    assert assess(HEALTHY, [HEALTHY]).status == "ok"
    assert assess(SiteYield(), [HEALTHY]).status == "ok", "every page 304: nothing to judge"
    gone = assess(SiteYield(listing_read=2), [HEALTHY])
    assert (gone.status, gone.message) == (
        "layout_change",
        "the listing pages list no notices any more (before: about 6 a page)",
    )
    assert assess(SiteYield(listing_read=1), []).status == "empty"
    assert assess(SiteYield(listing_failed=3), [HEALTHY]).status == "unreachable"
    # A page answered 304: the site answers, and what it lists was not read again.
    assert assess(SiteYield(listing_unchanged=1, listing_failed=1), [HEALTHY]).status == "ok"
    shell = SiteYield(listing_read=1, listing_unchanged=1)  # a jpaas column and its rows
    assert assess(shell, [HEALTHY]).status == "ok"
    bare = SiteYield(listing_read=1, listing_items=6, notices_read=4, with_body=4, with_meta=1)
    health = assess(bare, [HEALTHY])
    assert (health.status, health.message) == (
        "layout_change",
        "3 of 4 notices came back without 信息公开 metadata (before: 100% had it)",
    )
    # A site that never had metadata, or too few pages to judge, is no change.
    assert (
        assess(
            bare, [SiteYield(listing_read=1, listing_items=6, notices_read=6, with_body=6)]
        ).status
        == "ok"
    )
    few = SiteYield(listing_read=1, listing_items=6, notices_read=2, with_body=2)
    assert assess(few, [HEALTHY]).status == "ok"


TITLES = [f"关于做好2025年第{n}批中小学教师资格认定工作的通知" for n in range(1, 7)]


def listing_page(rows: bool) -> bytes:
    items = "".join(
        f'<li><a href="/tzgg/{n}.html">{title}</a><span>2025-03-{10 + n:02d}</span></li>'
        for n, title in enumerate(TITLES, 1)
    )
    # The redesign: rows come from a script the crawler does not run.
    listing = f'<ul class="list">{items}</ul>' if rows else '<ul id="list"></ul>'
    return (
        '<html><head><meta charset="utf-8"><title>通知公告</title></head><body>'
        '<div class="nav">首页 | 通知公告</div>'
        f'{listing}<script src="/js/list.js"></script>'
        '<div class="footer">版权所有：某某县教育局</div></body></html>'
    ).encode()


def notice_page(n: int, meta: bool) -> bytes:
    table = (
        f'<table class="xxgk"><tr><td>索引号：</td><td>11370300/2025-0000{n}</td>'
        "<td>发布机构：</td><td>某某县教育局</td></tr>"
        f"<tr><td>文号：</td><td>某教发〔2025〕{n}号</td><td>发文日期：</td><td>2025-03-1{n}</td></tr>"
        "</table>"
    )
    return (
        f'<html><head><meta charset="utf-8"><title>{TITLES[n - 1]}</title></head><body>'
        f'<div class="nav">首页 | 通知公告</div>{table if meta else ""}'
        f'<h1 class="title">{TITLES[n - 1]}</h1>'
        '<div class="TRS_Editor"><p>各学校：</p>'
        f"<p>现就做好2025年第{n}批中小学教师资格认定工作有关事项通知如下，请认真组织实施，"
        "确保各项工作按时完成。</p><p>特此通知。</p></div>"
        '<div class="footer">版权所有：某某县教育局</div></body></html>'
    ).encode()


def serve(http_server: LocalServer, *, rows: bool = True, meta: bool = True) -> str:
    for n in range(1, 7):
        http_server.page(f"/tzgg/{n}.html", notice_page(n, meta))
    return http_server.page("/tzgg/index.html", listing_page(rows))


def crawl(store: Store, url: str) -> RunSummary:
    seed = Seed(
        id="county-tzgg",
        name="某某县教育局 通知公告",
        parser="generic",
        listing_urls=(url,),
        max_pages=3,
        interval=timedelta(hours=1),
        topics=(),
        rate=100.0,
    )
    return asyncio.run(Crawler(store, FAST).run([seed]))


def test_listing_that_stops_yielding_is_a_layout_change_not_removals(
    store_url: str, http_server: LocalServer
) -> None:
    with Store.open(store_url) as store:
        url = serve(http_server)
        first = crawl(store, url)
        assert (first.sites["county-tzgg"].new, first.health["county-tzgg"].status) == (6, "ok")

        serve(http_server, rows=False)
        broken = crawl(store, url)
        stats, health = broken.sites["county-tzgg"], broken.health["county-tzgg"]
        assert health.status == "layout_change"
        assert (stats.new, stats.revised, stats.removed, stats.errors) == (0, 0, 0, 0)
        assert "(county-tzgg): LAYOUT CHANGE: the listing pages list no notices any more" in (
            crawl_table(broken)
        )
        assert crawl(store, url).health["county-tzgg"].status == "layout_change"

        serve(http_server)
        assert crawl(store, url).health["county-tzgg"].status == "ok"
        changes = store.health_changes()
        assert [(h.status, h.site_id) for h in changes] == [
            ("ok", "county-tzgg"),
            ("layout_change", "county-tzgg"),
        ], "one item when it broke, one when it came back: not one per crawl"
        assert store.latest_health()["county-tzgg"].status == "ok"
        assert {e.kind for e in store.events()} == {"new"}


def test_notices_without_metadata_are_a_layout_change_not_revisions(
    store_url: str, http_server: LocalServer
) -> None:
    with Store.open(store_url) as store:
        url = serve(http_server)
        assert crawl(store, url).sites["county-tzgg"].new == 6

        serve(http_server, meta=False)
        broken = crawl(store, url)
        stats, health = broken.sites["county-tzgg"], broken.health["county-tzgg"]
        assert (health.status, health.message) == (
            "layout_change",
            "6 of 6 notices came back without 信息公开 metadata (before: 100% had it)",
        )
        assert (stats.revised, stats.removed) == (0, 0)
        assert {f.kind for f in broken.failures} == {"layout"}
        assert {e.kind for e in store.events()} == {"new"}


def test_a_new_empty_column_is_recorded_not_an_error(
    store_url: str, http_server: LocalServer
) -> None:
    with Store.open(store_url) as store:
        url = serve(http_server, rows=False)
        summary = crawl(store, url)
        assert summary.sites["county-tzgg"].errors == 0
        assert summary.health["county-tzgg"].status == "empty"
        assert store.health_changes()[0].status == "empty"


def test_health_in_healthz_metrics_and_the_operator_feed(
    tmp_path: Path, http_server: LocalServer
) -> None:
    with Store.open(f"sqlite:///{tmp_path / 'gw.db'}") as store:
        url = serve(http_server)
        crawl(store, url)
        serve(http_server, rows=False)
        crawl(store, url)
        with (
            live_server(store, [], [ALL], scheduler=False) as base,
            httpx.Client(base_url=base) as c,
        ):
            health = c.get("/healthz").json()
            assert health["status"] == "ok" and health["unhealthy_sites"] == ["county-tzgg"]
            site = health["sites"]["county-tzgg"]["health"]
            assert site["status"] == "layout_change"
            assert site["message"].startswith("the listing pages list no notices")

            metrics = c.get("/metrics").text
            assert 'govwatch_site_health{site="county-tzgg",status="layout_change"} 1.0' in metrics
            assert 'govwatch_site_health{site="county-tzgg",status="ok"} 0.0' in metrics
            assert 'govwatch_site_listing_items{site="county-tzgg"} 0.0' in metrics

            rss = c.get("/feeds/_health.rss")
            assert rss.status_code == 200
            parsed = feedparser.parse(rss.content)
            assert [e.title for e in parsed.entries] == ["【版面变化】某某县教育局 通知公告"]
            assert "the listing pages list no notices" in parsed.entries[0].summary
            again = c.get("/feeds/_health.rss", headers={"If-None-Match": rss.headers["etag"]})
            assert again.status_code == 304
            for fmt in ("atom", "json"):
                assert c.get(f"/feeds/_health.{fmt}").status_code == 200


def test_a_script_built_column_recrawled_unchanged_is_healthy(tmp_path: Path) -> None:
    """A jpaas column page lists nothing itself and is always read in full; its rows page
    answers 304 on a re-crawl: no layout change."""
    site = populate(MirrorSite("jpaas", "hanweb_jpaas", page_size=15), 20, generated_texts())
    with Mirror([site]) as mirror, Store.open(f"sqlite:///{tmp_path / 'gw.db'}") as store:
        mirror.seed_files(tmp_path / "seeds", rate=500.0)
        seeds = load_seeds(tmp_path / "seeds")
        crawler = Crawler(store, FAST)
        for _ in range(3):
            summary = asyncio.run(crawler.run(seeds))
            assert summary.health["jpaas"].status == "ok", summary.health["jpaas"]
