"""The search page, /search, served by the app in process: hits, highlighted snippets,
filters from the form, paging, bad input, hostile site text."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from govwatch.feeds.topics import load_topics
from govwatch.server.app import create_app
from govwatch.server.search import PAGE_SIZE
from govwatch.settings import Settings
from govwatch.store import Store
from tests.test_search import JJ, NOTICES, ZD, Clock, page, url

HOSTILE = "<script>alert(1)</script>双减问答"


class Client:
    """The app in process, without a server (no lifespan: no scheduler to start)."""

    def __init__(self, app: Starlette) -> None:
        self.app = app

    def get(self, path: str, params: dict[str, str] | None = None) -> httpx.Response:
        async def fetch() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
                return await c.get(path, params=params)

        return asyncio.run(fetch())


@pytest.fixture
def client(tmp_path: Path) -> Iterator[Client]:
    with Store.open(f"sqlite:///{tmp_path / 'govwatch.db'}", clock=Clock()) as store:
        store.upsert_site(JJ, "靖江市教育局 通知公告", "generic", [])
        store.upsert_site(ZD, "张店区 通知公告", "generic", [])
        run = store.start_run([JJ, ZD])
        for _, site, notice in NOTICES:
            store.record_page(site, notice.url, notice, b"", run)
        hostile = page(9, HOSTILE, "关于双减的<b>问答</b>。", published_date="2020-01-01")
        store.record_page(ZD, hostile.url, hostile, b"", run)
        for n in range(10, 10 + PAGE_SIZE + 1):
            many = page(n, f"植树通知{n}", "植树。", published_date=f"2022-01-{n - 9:02d}")
            store.record_page(ZD, many.url, many, b"", run)
        app = create_app(store, load_topics(None), [], Settings(), scheduler=False)
        yield Client(app)


def hit_titles(html: str) -> list[str]:
    return re.findall(r'<li><a href="/notices/\d+(?:\?version=\d+)?">([^<]+)</a>', html)


def test_search_page_highlights_matches(client: Client) -> None:
    response = client.get("/search", params={"q": "双减 课后"})
    assert response.status_code == 200 and response.headers["etag"]
    html = response.text
    assert hit_titles(html) == ["关于落实双减工作的通知"]
    assert (
        '<p class="snippet">全面落实<mark>双减</mark>政策。 做好<mark>课后</mark>服务。</p>' in html
    )
    assert 'href="/feeds/search.rss?q=%E5%8F%8C%E5%87%8F+%E8%AF%BE%E5%90%8E"' in html
    assert 'value="双减 课后"' in html
    empty = client.get("/search").text
    assert '<ol class="hits">' not in empty and 'name="q"' in empty
    assert "没有找到含有「作业」的公告" in client.get("/search", params={"q": "作业"}).text


def test_search_page_filters(client: Client) -> None:
    def titles(**params: str) -> list[str]:
        return hit_titles(client.get("/search", params={"q": "通知", **params}).text)

    assert titles()[:2] == ["学位证书发放通知", "关于落实双减工作的通知"]
    assert titles(site=JJ) == ["关于落实双减工作的通知"]
    assert titles(publisher="教育和体育局") == ["学位证书发放通知"]
    assert titles(category="教育") == ["关于落实双减工作的通知"]
    assert titles(since="2024-06-01") == ["学位证书发放通知"]
    assert titles(until="2024-06-30", site=JJ) == ["关于落实双减工作的通知"]
    assert titles(kind="revised") == []
    page_one = client.get("/search", params={"q": "植树通知"}).text
    assert len(hit_titles(page_one)) == PAGE_SIZE and "下一页" in page_one
    next_link = re.search(r'<a href="([^"]+)">下一页</a>', page_one)
    assert next_link is not None
    page_two = client.get(next_link.group(1).replace("&amp;", "&")).text
    assert hit_titles(page_two) == ["植树通知10"] and "上一页" in page_two


def test_search_page_escapes_site_text_and_rejects_bad_input(client: Client) -> None:
    html = client.get("/search", params={"q": "问答"}).text
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<mark>问答</mark>" in html and "&lt;b&gt;<mark>问答</mark>&lt;/b&gt;" in html
    for params, message in (
        ({"q": "，"}, "没有可搜索的字词"),
        ({"q": "双减", "since": "昨天"}, "起始日期应是 YYYY-MM-DD"),
        ({"q": "双减", "kind": "deleted"}, "没有 deleted 这种事件"),
        ({"q": "双减", "page": "0"}, "page 应是"),
        ({"q": "双减", "page": "²"}, "page 应是"),
        ({"q": "双减", "page": "9" * 5000}, "page 应是"),
    ):
        response = client.get("/search", params=params)
        assert response.status_code == 400 and message in response.text, params
    assert url(1) not in html
