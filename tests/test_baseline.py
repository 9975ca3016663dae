"""A quiet first crawl: a column's old notices are stored and listed as `new` events
marked baseline, but make no feed item; what the site publishes next does. Through the
mirror, real HTTP, a real store and the CLI."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import feedparser

from govwatch.crawler.engine import Crawler
from govwatch.crawler.seeds import load_seeds
from govwatch.demo.mirror import Mirror
from govwatch.demo.mirror.build import populate
from govwatch.demo.mirror.site import MirrorSite
from govwatch.demo.mirror.texts import generated_texts
from govwatch.feeds.render import FeedBuilder
from govwatch.feeds.topics import ALL
from govwatch.parsers.records import CHINA_TZ
from govwatch.settings import Settings
from govwatch.store import Store

FAST = Settings(retry_base=0.05, concurrency=16, host_concurrency=4)


def feed_titles(store: Store) -> list[str]:
    rss = FeedBuilder(store, "http://govwatch.test").render(ALL, "rss").body
    return [entry.title for entry in feedparser.parse(rss).entries]


def test_first_crawl_is_quiet_then_news_is_news(tmp_path: Path) -> None:
    site = populate(MirrorSite("county", "generic", page_size=10), 12, generated_texts())
    today = datetime.now(CHINA_TZ).date().isoformat()
    fresh = site.make_notice(
        "关于做好今冬明春校园安全工作的通知", ["各学校：", "请做好安全工作。"], today
    )
    site.add(fresh)
    db = tmp_path / "gw.db"
    with Mirror([site]) as mirror, Store.open(f"sqlite:///{db}") as store:
        mirror.seed_files(tmp_path / "seeds", rate=500.0)
        seeds = load_seeds(tmp_path / "seeds")
        crawler = Crawler(store, FAST)
        assert asyncio.run(crawler.run(seeds)).sites["county"].new == 13

        # Only the notice published today (within baseline_days) is news.
        assert feed_titles(store) == [f"[新] {fresh.title}"]
        out = subprocess.run(
            [
                sys.executable,
                "-m",
                "govwatch",
                "events",
                "--db",
                f"sqlite:///{db}",
                "--format",
                "json",
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert out.returncode == 0, out.stderr
        events = json.loads(out.stdout)
        assert len(events) == 13 and {e["kind"] for e in events} == {"new"}
        quiet = [e["title"] for e in events if e["baseline"]]
        assert len(quiet) == 12 and fresh.title not in quiet

        # The next notice is news, whatever date it carries.
        later = site.make_notice(
            "关于公布2024年度优秀教学成果的通知", ["各学校：", "现予公布。"], "2024-01-05"
        )
        site.add(later)
        assert asyncio.run(crawler.run(seeds)).sites["county"].new == 1
        assert feed_titles(store) == [f"[新] {later.title}", f"[新] {fresh.title}"]


def test_a_first_crawl_cut_short_stays_a_baseline(tmp_path: Path) -> None:
    """The baseline ends with the first crawl that walked the whole listing: notices found
    only by the next crawl, after a failed listing page, are still history."""
    site = populate(MirrorSite("county", "generic", page_size=5), 12, generated_texts())
    with Mirror([site]) as mirror, Store.open(f"sqlite:///{tmp_path / 'gw.db'}") as store:
        mirror.seed_files(tmp_path / "seeds", rate=500.0)
        seeds = load_seeds(tmp_path / "seeds")
        crawler = Crawler(store, FAST)
        site.listen_port = site.port  # back on the same address after the outage
        site.stop()  # the site is down for the first crawl
        assert asyncio.run(crawler.run(seeds)).sites["county"].new == 0
        site.start()
        assert asyncio.run(crawler.run(seeds)).sites["county"].new == 12
        assert feed_titles(store) == []
        assert all(e.baseline for e in store.events())


def test_baseline_false_announces_the_first_crawl(tmp_path: Path) -> None:
    site = populate(MirrorSite("county", "generic", page_size=10), 4, generated_texts())
    with Mirror([site]) as mirror, Store.open(f"sqlite:///{tmp_path / 'gw.db'}") as store:
        mirror.seed_files(tmp_path / "seeds", rate=500.0, baseline=False)
        asyncio.run(Crawler(store, FAST).run(load_seeds(tmp_path / "seeds")))
        assert len(feed_titles(store)) == 4
        assert not any(e.baseline for e in store.events())
