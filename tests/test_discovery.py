"""Discovery on columns as real sites page them: a short last page, a column of one
notice, an unchanged re-crawl that costs little. Through the mirror's CMS flows, real
HTTP and a real store."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from govwatch.crawler.engine import Crawler, SiteStats
from govwatch.crawler.seeds import load_seeds
from govwatch.demo.mirror import Mirror
from govwatch.demo.mirror.build import populate
from govwatch.demo.mirror.site import MirrorSite
from govwatch.demo.mirror.texts import generated_texts
from govwatch.settings import Settings
from govwatch.store import Store

FAST = Settings(retry_base=0.05, concurrency=16, host_concurrency=4)
FLOWS = ("generic", "trs_wcm", "hanweb_jcms", "sd_gongkai")


def _crawl_twice(flow: str, count: int, page_size: int, tmp_path: Path) -> list[SiteStats]:
    site = populate(MirrorSite(f"{flow}-col", flow, page_size=page_size), count, generated_texts())
    with Mirror([site]) as mirror, Store.open(f"sqlite:///{tmp_path / 'gw.db'}") as store:
        mirror.seed_files(tmp_path / "seeds", rate=500.0)
        seeds = load_seeds(tmp_path / "seeds")
        crawler = Crawler(store, FAST)
        return [asyncio.run(crawler.run(seeds)).sites[site.name] for _ in range(2)]


@pytest.mark.parametrize("flow", FLOWS)
@pytest.mark.parametrize(("count", "page_size"), [(15, 6), (7, 6), (1, 6)])
def test_short_last_page_is_crawled_whole(
    flow: str, count: int, page_size: int, tmp_path: Path
) -> None:
    """Pages of 6 / 6 / 3, 6 / 1, or a column of one notice: every notice on the first pass;
    the unchanged re-crawl asks for listing pages conditionally and moves ≤ 5% of the
    bytes."""
    first, again = _crawl_twice(flow, count, page_size, tmp_path)
    assert (first.new, first.errors) == (count, 0)
    assert (again.new, again.revised, again.removed, again.errors) == (0, 0, 0, 0)
    assert again.not_modified >= 1
    assert again.bytes <= 0.05 * first.bytes, (again.bytes, first.bytes)
