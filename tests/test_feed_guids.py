"""Feeds that readers keep: item GUIDs that do not depend on the address serving them, the
GUIDs of items served before the upgrade kept, and feed titles escaped once."""

from __future__ import annotations

import asyncio
import gzip
import json
import logging
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import httpx
import pytest
from click.testing import CliRunner

from govwatch.cli import main
from govwatch.errors import ConfigError
from govwatch.feeds.render import FeedBuilder
from govwatch.feeds.topics import ALL, search_topic
from govwatch.parsers.records import Page
from govwatch.server.app import create_app
from govwatch.settings import Settings
from govwatch.store import Store
from govwatch.store.feed_identity import read_identity, settle_legacy_base
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


def release_store(tmp_path: Path) -> Store:
    """A store of the previous release, migrated: its events have address-based GUIDs."""
    db = tmp_path / "release.db"
    db.write_bytes(gzip.decompress(RELEASE_STORE.read_bytes()))
    return Store.open(f"sqlite:///{db}")


def test_items_served_before_the_upgrade_keep_their_guids(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Without legacy_guid_base, the fallback: its events keep `http://host:port/notices/…`
    GUIDs made of the address the first server after the upgrade serves (said once in the
    log), even once served elsewhere; a new event gets a tag: GUID, the same from every
    address."""
    with release_store(tmp_path) as store, caplog.at_level(logging.WARNING):
        identity = read_identity(store)
        assert identity.legacy_before == store.last_event_id() + 1 > 1
        assert identity.legacy_base_url is None

        served = [i["id"] for i in served_items(store, Settings(host="127.0.0.1", port=8080))]
        assert served and all(g.startswith(f"{OLD}/notices/") for g in served)
        assert read_identity(store).legacy_base_url == OLD
        (pinned,) = [r.getMessage() for r in caplog.records if "legacy_guid_base" in r.message]
        assert f"before #{identity.legacy_before} keep GUIDs made of {OLD} (this" in pinned
        # Pinned once: a server at another address, or behind a proxy, keeps them.
        caplog.clear()
        proxied = Settings(base_url="https://feeds.example.org/", port=9000)
        items = served_items(store, proxied)
        assert [i["id"] for i in items] == served
        assert items[0]["_govwatch"]["notice_url"].startswith("https://feeds.example.org/")
        assert caplog.records == []

        site, url = store.events(limit=1)[0].site, "http://rel.example/new-notice.html"
        page = Page(kind="detail", parser="generic", title="新的通知", body="正文。")
        store.record_page(site, url, page, b"", None)
        tag = f"tag:govwatch,2026:{identity.instance}/notices/"
        (fresh,) = [g for g in guids(store, OLD) if g.startswith(tag)]
        assert fresh == f"{tag}{store.notice(url).id}/v1#new"  # type: ignore[union-attr]
        assert guids(store, "https://feeds.example.org") == guids(store, OLD)


def test_legacy_guid_base_names_the_address_readers_had(tmp_path: Path) -> None:
    """The setting wins over the address of the first server (behind a proxy now, on
    another port then) and over what an earlier server recorded; new items keep tag:s."""
    had = "http://10.1.2.3:8080"
    with release_store(tmp_path) as store:
        proxied = Settings(base_url="https://feeds.example.org", legacy_guid_base=had + "/")
        first = served_items(store, proxied)
        assert first and all(i["id"].startswith(f"{had}/notices/") for i in first)
        assert read_identity(store).legacy_base_url == had
        # A server without the setting keeps the recorded address; a new setting wins.
        pinned = served_items(store, Settings(host="127.0.0.1", port=8080))
        assert [i["id"] for i in pinned] == [i["id"] for i in first]
        settle_legacy_base(store, "", "http://elsewhere:1")
        assert read_identity(store).legacy_base_url == had
        settle_legacy_base(store, OLD, "http://elsewhere:1")
        again = served_items(store, Settings(legacy_guid_base=OLD, port=9000))
        assert [i["id"] for i in again] == [i["id"].replace(had, OLD, 1) for i in first]
        site, url = store.events(limit=1)[0].site, "http://rel.example/new-notice.html"
        store.record_page(site, url, Page(kind="detail", parser="generic", title="新"), b"", None)
        every = guids(store, OLD)
        (fresh,) = [g for g in every if g.startswith("tag:govwatch,2026:")]
        assert all(g.startswith(f"{OLD}/notices/") for g in every if g != fresh)


def test_a_legacy_guid_base_that_is_no_address_stops_serve(tmp_path: Path) -> None:
    bad = pytest.raises(ConfigError, match=r"legacy_guid_base '127\.0\.0\.1:8080': give")
    with Store.open(f"sqlite:///{tmp_path / 'new.db'}") as store, bad:
        settle_legacy_base(store, "127.0.0.1:8080", OLD)
    db = tmp_path / "gw.db"
    for options, env in (
        (["--legacy-guid-base", "feeds.example.org"], {}),
        ([], {"GOVWATCH_LEGACY_GUID_BASE": "ftp://feeds.example.org"}),
    ):
        done = CliRunner().invoke(main, ["serve", "--db", f"sqlite:///{db}", *options], env=env)
        assert done.exit_code == 2, done.output
        assert "Error: legacy_guid_base '" in done.output
        assert "give the http:// or https:// address" in done.output
        assert not db.exists(), "opened the store for nothing"


def test_a_new_store_has_no_legacy_guids(store_url: str, tmp_path: Path) -> None:
    with Store.open(store_url) as store:
        assert read_identity(store).legacy_before == 1
        assert settle_legacy_base(store, "", OLD).legacy_base_url is None
        assert settle_legacy_base(store, OLD, OLD).legacy_base_url is None
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
