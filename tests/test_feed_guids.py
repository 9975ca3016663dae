"""Feeds that readers keep: item GUIDs that do not depend on the address serving them, the
GUIDs of items served before the upgrade kept, and feed titles escaped once."""

from __future__ import annotations

import asyncio
import gzip
import json
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import httpx

from govwatch.feeds.render import FeedBuilder
from govwatch.feeds.topics import ALL, search_topic
from govwatch.parsers.records import Page
from govwatch.server.app import create_app
from govwatch.settings import Settings
from govwatch.store import Store
from govwatch.store.feed_identity import pin_legacy_base, read_identity
from tests.test_upgrade import RELEASE_STORE

OLD = "http://127.0.0.1:8080"
ATOM = "{http://www.w3.org/2005/Atom}"


def served_items(store: Store, settings: Settings) -> list[dict[str, Any]]:
    """/feeds/all.json's items from the app made with `settings`."""

    async def get() -> httpx.Response:
        app = create_app(store, [ALL], [], settings, scheduler=False)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            return await client.get("/feeds/all.json")

    items: list[dict[str, Any]] = asyncio.run(get()).json()["items"]
    return items


def guids(store: Store, base_url: str) -> list[str]:
    body = FeedBuilder(store, base_url, max_items=500).render(ALL, "json").body
    return [item["id"] for item in json.loads(body)["items"]]


def test_items_served_before_the_upgrade_keep_their_guids(tmp_path: Path) -> None:
    """A store of the previous release: its events keep `http://host:port/notices/…` GUIDs
    made of the address the first server after the upgrade serves (what readers have), even
    once served elsewhere; a new event gets a tag: GUID, the same from every address."""
    db = tmp_path / "release.db"
    db.write_bytes(gzip.decompress(RELEASE_STORE.read_bytes()))
    with Store.open(f"sqlite:///{db}") as store:
        identity = read_identity(store)
        assert identity.legacy_before == store.last_event_id() + 1 > 1
        assert identity.legacy_base_url is None

        served = [i["id"] for i in served_items(store, Settings(host="127.0.0.1", port=8080))]
        assert served and all(g.startswith(f"{OLD}/notices/") for g in served)
        assert read_identity(store).legacy_base_url == OLD
        # Pinned once: a server at another address, or behind a proxy, keeps them.
        assert pin_legacy_base(store, "https://feeds.example.org").legacy_base_url == OLD
        proxied = Settings(base_url="https://feeds.example.org/", port=9000)
        items = served_items(store, proxied)
        assert [i["id"] for i in items] == served
        assert items[0]["_govwatch"]["notice_url"].startswith("https://feeds.example.org/")

        site, url = store.events(limit=1)[0].site, "http://rel.example/new-notice.html"
        page = Page(kind="detail", parser="generic", title="新的通知", body="正文。")
        store.record_page(site, url, page, b"", None)
        tag = f"tag:govwatch,2026:{identity.instance}/notices/"
        (fresh,) = [g for g in guids(store, OLD) if g.startswith(tag)]
        assert fresh == f"{tag}{store.notice(url).id}/v1#new"  # type: ignore[union-attr]
        assert guids(store, "https://feeds.example.org") == guids(store, OLD)


def test_a_new_store_has_no_legacy_guids(store_url: str, tmp_path: Path) -> None:
    with Store.open(store_url) as store:
        assert read_identity(store).legacy_before == 1
        assert pin_legacy_base(store, OLD).legacy_base_url is None
        other = Store.open(f"sqlite:///{tmp_path / 'other.db'}")
        with other:
            assert read_identity(other).instance != read_identity(store).instance


def test_search_feed_title_is_escaped_once(tmp_path: Path) -> None:
    """`q=<b>&` is titled 搜索：<b>& in every format: one XML escape, read back as the query."""
    with Store.open(f"sqlite:///{tmp_path / 's.db'}") as store:
        builder = FeedBuilder(store, OLD)
        topic = search_topic("<b>&")
        rss = builder.render(topic, "rss").body
        atom = builder.render(topic, "atom").body
        jsonfeed = builder.render(topic, "json").body
    for body in (rss, atom):
        assert b"&amp;lt;" not in body and b"&amp;amp;" not in body
    channel = ElementTree.fromstring(rss).find("channel")
    assert channel is not None
    assert channel.findtext("title") == "govwatch · 搜索：<b>&"
    assert "关键词：<b>&" in (channel.findtext("description") or "")
    feed = ElementTree.fromstring(atom)
    title = feed.find(f"{ATOM}title")
    assert title is not None and title.text == "govwatch · 搜索：<b>&"
    assert title.get("type", "text") == "text"
    assert json.loads(jsonfeed)["title"] == "govwatch · 搜索：<b>&"
