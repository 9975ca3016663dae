"""Topic feeds: formats, items, filters, escaping, caching, topics.toml and golden files.

Stores are filled through Store.record_page / record_gone with a fixed clock, no network.
The golden feeds in tests/fixtures/feeds/ are rewritten by running this file with
GOVWATCH_UPDATE_GOLDEN=1; review the diff like any other change.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import feedparser
import pytest
import sqlalchemy as sa

from govwatch.errors import ConfigError
from govwatch.feeds.render import Feed, FeedBuilder, Format, feed_url, opml
from govwatch.feeds.topics import ALL, Topic, load_topics, search_topic
from govwatch.parsers.records import Attachment, Page
from govwatch.store import Store
from govwatch.store.feed_identity import FeedIdentity, read_identity
from tests.conftest import FIXTURES, ROOT

BASE = "https://govwatch.example"
ZD, JJ = "zhangdian-jyj-tzgg", "jingjiang-jyj-tzgg"
GOLDEN = FIXTURES / "feeds"
FORMATS: tuple[Format, ...] = ("rss", "atom", "json")
HOSTILE = "<script>alert(1)</script>]]>"
REVISED = {
    "body": "各中小学：\n现将有关事项通知如下。\n一、检查时间改为四月。",
    "doc_no": "张教体字〔2025〕2号",
}
DC = "{http://purl.org/dc/elements/1.1/}"


class Clock:
    """A clock that moves one minute per reading, so every event has its own time."""

    def __init__(self) -> None:
        self.now = datetime(2025, 3, 1, 0, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(minutes=1)
        return self.now


class Ticker:
    """A settable monotonic clock for the cache's max_age."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class CountingStore:
    """Passes calls through to a Store and counts them, to see what a render costs."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> Any:
        self.calls.append(name)
        return getattr(self.store, name)


def url(n: int, site: str = ZD) -> str:
    return f"http://www.{site.split('-')[0]}.gov.cn/art/2025/{n}.html"


def page(
    title: str = "关于开展春季校园安全检查的通知",
    body: str = "各中小学：\n现将有关事项通知如下。\n一、检查时间为三月。",
    attachments: tuple[Attachment, ...] = (),
    **meta: str,
) -> Page:
    defaults = {
        "index_no": "11370303004-2025-0001",
        "category": "教育",
        "publisher": "张店区教育和体育局",
        "issued_date": "2025-02-28",
        "doc_no": "张教体字〔2025〕1号",
    }
    return Page(
        kind="detail",
        parser="generic",
        title=title,
        body=body,
        meta={k: v for k, v in (defaults | meta).items() if v},
        attachments=attachments,
    )


def add(store: Store, n: int, site: str = ZD, **fields: Any) -> None:
    """Record notice `n` of `site` as fetched with `fields` (see `page`)."""
    store.record_page(site, url(n, site), page(**fields), b"", None)


def remove(store: Store, n: int, site: str = ZD) -> None:
    """Two 404s in a row: the notice is removed."""
    store.record_gone(site, url(n, site), 404, None)
    store.record_gone(site, url(n, site), 404, None)


def open_store(db_url: str) -> Store:
    store = Store.open(db_url, clock=Clock())
    store.upsert_site(ZD, "张店区教育和体育局 通知公告", "generic", [])
    store.upsert_site(JJ, "靖江市教育局 通知公告", "generic", [])
    return store


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with open_store(f"sqlite:///{tmp_path / 'feeds.db'}") as opened:
        yield opened


def new_revised_removed(store: Store) -> None:
    """Notice 1: new, revised (body and 文号), removed; notice 2 (another site): new."""
    add(store, 1)
    add(store, 2, JJ, title="靖江市教师招聘公告", publisher="靖江市教育局")
    add(store, 1, **REVISED)
    remove(store, 1)


def rss_items(feed: Feed) -> list[ElementTree.Element]:
    return ElementTree.fromstring(feed.body).findall("./channel/item")


def parsed(feed: Feed) -> Any:
    result = feedparser.parse(feed.body)
    assert not result.bozo, result.get("bozo_exception")
    return result


def check_json_feed(feed: Feed) -> dict[str, Any]:
    """JSON Feed 1.1's rules feedparser cannot check (it reads no JSON)."""
    data = json.loads(feed.body)
    assert data["version"] == "https://jsonfeed.org/version/1.1"
    assert isinstance(data["title"], str) and data["title"]
    assert isinstance(data["items"], list)
    ids = [item["id"] for item in data["items"]]
    assert len(ids) == len(set(ids))
    for item in data["items"]:
        assert isinstance(item["id"], str)
        assert isinstance(item["content_html"], str)
        assert datetime.fromisoformat(item["date_published"]).tzinfo is not None
    return data


def guids(feed: Feed) -> list[str]:
    if feed.media_type.startswith("application/feed+json"):
        return [item["id"] for item in json.loads(feed.body)["items"]]
    return [entry.id for entry in parsed(feed).entries]


# Formats


def test_every_format_parses_cleanly(store_url: str) -> None:
    with open_store(store_url) as store:
        new_revised_removed(store)
        builder = FeedBuilder(store, BASE)
        for fmt in ("rss", "atom"):
            entries = parsed(builder.render(ALL, fmt)).entries
            assert [e.title.split(" ")[0] for e in entries] == ["[撤下]", "[修订]", "[新]", "[新]"]
        assert len(check_json_feed(builder.render(ALL, "json"))["items"]) == 4


def test_media_types_and_validators(store: Store) -> None:
    new_revised_removed(store)
    builder = FeedBuilder(store, BASE)
    types = {fmt: builder.render(ALL, fmt).media_type for fmt in FORMATS}
    assert types == {
        "rss": "application/rss+xml; charset=utf-8",
        "atom": "application/atom+xml; charset=utf-8",
        "json": "application/feed+json; charset=utf-8",
    }
    feed = builder.render(ALL, "rss")
    assert re.fullmatch(r'"[0-9a-f]{32}"', feed.etag)
    assert feed.last_modified == datetime(2025, 3, 1, 0, 5, tzinfo=UTC)  # the removal
    with pytest.raises(ValueError, match="format"):
        builder.render(ALL, "html")  # type: ignore[arg-type]


def test_empty_feed_is_still_valid(store: Store) -> None:
    builder = FeedBuilder(store, BASE)
    assert parsed(builder.render(ALL, "atom")).entries == []
    assert check_json_feed(builder.render(ALL, "json"))["items"] == []
    assert builder.render(ALL, "rss").last_modified == datetime(1970, 1, 1, tzinfo=UTC)


# Items


def test_items_newest_first_and_bounded(store: Store) -> None:
    for n in range(1, 8):
        add(store, n, title=f"第{n}号通知")
    builder = FeedBuilder(store, BASE, max_items=5)
    entries = parsed(builder.render(ALL, "atom")).entries
    assert [e.title for e in entries] == [f"[新] 第{n}号通知" for n in range(7, 2, -1)]
    times = [e.updated_parsed for e in entries]
    assert times == sorted(times, reverse=True)
    assert len(check_json_feed(builder.render(ALL, "json"))["items"]) == 5


def test_guids_are_stable_and_one_per_event(store: Store) -> None:
    new_revised_removed(store)
    first = {fmt: guids(FeedBuilder(store, BASE).render(ALL, fmt)) for fmt in FORMATS}
    assert first["rss"] == first["atom"] == first["json"]
    tag = f"tag:govwatch,2026:{read_identity(store).instance}"
    assert re.fullmatch(r"tag:govwatch,2026:[0-9a-f]{16}", tag)
    assert first["rss"] == [
        f"{tag}/notices/1/v2#removed-4",
        f"{tag}/notices/1/v2#revised",
        f"{tag}/notices/2/v1#new",
        f"{tag}/notices/1/v1#new",
    ]
    # Served from another address, the items keep their GUIDs.
    assert guids(FeedBuilder(store, "http://127.0.0.1:9000").render(ALL, "rss")) == first["rss"]
    # Back and removed again with the same version: a second removal item of its own.
    add(store, 1, **REVISED)
    remove(store, 1)
    again = guids(FeedBuilder(store, BASE).render(ALL, "rss"))
    assert again[0] == f"{tag}/notices/1/v2#removed-6"
    assert again[1:] == first["rss"]  # 'restored' is no item; the old ones keep their GUIDs


def test_item_links_and_body(store: Store) -> None:
    attachments = (Attachment("实施方案.docx", "http://www.zhangdian.gov.cn/f/1.docx"),)
    add(store, 1, attachments=attachments)
    entry = parsed(FeedBuilder(store, BASE).render(ALL, "atom")).entries[0]
    assert entry.link == url(1)
    related = {link.href for link in entry.links if link.rel == "related"}
    assert related == {f"{BASE}/notices/1"}
    content = entry.content[0].value
    for label, value in [
        ("索引号", "11370303004-2025-0001"),
        ("发文日期", "2025-02-28"),
        ("发布机构", "张店区教育和体育局"),
        ("文号", "张教体字〔2025〕1号"),
        ("主题分类", "教育"),
    ]:
        assert f"<th>{label}</th><td>{value}</td>" in content
    assert "<p>一、检查时间为三月。</p>" in content
    assert '<a href="http://www.zhangdian.gov.cn/f/1.docx">实施方案.docx</a>' in content


def test_revision_item_holds_the_diff_above_the_new_text(store: Store) -> None:
    new_revised_removed(store)
    entries = parsed(FeedBuilder(store, BASE).render(ALL, "atom")).entries
    revision = entries[1]
    related = {link.href for link in revision.links if link.rel == "related"}
    assert f"{BASE}/notices/1/diff?from=1&to=2" in related
    content = revision.content[0].value
    assert "一、检查时间<del>为三</del><ins>改为四</ins>月。" in content
    assert "<del>张教体字〔2025〕1号</del> → <ins>张教体字〔2025〕2号</ins>" in content
    assert content.index("<ins>") < content.index("<h3>正文</h3>")
    removal = entries[0].content[0].value
    assert "已从原网站撤下" in removal
    assert "<p>一、检查时间改为四月。</p>" in removal  # the last known text


def test_dates_are_timezone_aware(store: Store) -> None:
    add(store, 1)
    builder = FeedBuilder(store, BASE)
    [item] = rss_items(builder.render(ALL, "rss"))
    assert item.findtext("pubDate") == "Sat, 01 Mar 2025 00:01:00 +0000"
    assert item.findtext(f"{DC}date") == "2025-02-28T00:00:00+08:00"  # 发文日期, China midnight
    [entry] = ElementTree.fromstring(builder.render(ALL, "atom").body).findall(
        "{http://www.w3.org/2005/Atom}entry"
    )
    assert entry.findtext("{http://www.w3.org/2005/Atom}updated") == "2025-03-01T00:01:00+00:00"
    [item_json] = check_json_feed(builder.render(ALL, "json"))["items"]
    assert item_json["date_published"] == "2025-03-01T00:01:00+00:00"


def test_rss_carries_dublin_core_and_categories(store: Store) -> None:
    add(store, 1)
    add(store, 2, title="无日期", issued_date="", index_no="")
    feed = FeedBuilder(store, BASE).render(ALL, "rss")
    undated, dated = rss_items(feed)
    assert dated.findtext(f"{DC}identifier") == "11370303004-2025-0001"
    assert dated.findtext(f"{DC}date") == "2025-02-28T00:00:00+08:00"
    assert [(c.get("domain"), c.text) for c in dated.findall("category")] == [
        ("urn:govwatch:site", "张店区教育和体育局 通知公告"),
        ("urn:govwatch:category", "教育"),
        ("urn:govwatch:publisher", "张店区教育和体育局"),
    ]
    assert undated.find(f"{DC}identifier") is None and undated.find(f"{DC}date") is None
    entry = parsed(feed).entries[1]
    assert [t.term for t in entry.tags] == [
        "张店区教育和体育局 通知公告",
        "教育",
        "张店区教育和体育局",
    ]


def test_json_feed_govwatch_extension(store: Store) -> None:
    new_revised_removed(store)
    items = check_json_feed(FeedBuilder(store, BASE).render(ALL, "json"))["items"]
    revision = items[1]["_govwatch"]
    assert revision == {
        "notice_id": 1,
        "event_id": 3,
        "version": 2,
        "kind": "revised",
        "changed_fields": ["body", "meta.doc_no"],
        "site": ZD,
        "site_name": "张店区教育和体育局 通知公告",
        "source_url": url(1),
        "notice_url": f"{BASE}/notices/1",
        "diff_url": f"{BASE}/notices/1/diff?from=1&to=2",
        "meta": {
            "index_no": "11370303004-2025-0001",
            "category": "教育",
            "publisher": "张店区教育和体育局",
            "issued_date": "2025-02-28",
            "doc_no": "张教体字〔2025〕2号",
        },
    }
    assert [i["_govwatch"]["kind"] for i in items] == ["removed", "revised", "new", "new"]
    assert items[1]["url"] == url(1)
    assert items[1]["tags"] == ["张店区教育和体育局 通知公告", "教育", "张店区教育和体育局"]


# Hostile markup


def test_markup_from_sites_never_reaches_a_feed_unescaped(store: Store) -> None:
    bad = (Attachment(HOSTILE, "javascript:alert(1)"), Attachment("ok", "http://x.gov.cn/<b>.pdf"))
    body = f"第一段{HOSTILE}\n\x00第二段\x0b\ufffe"  # and characters XML cannot carry
    add(store, 1, title=f"通知{HOSTILE}", body=body, attachments=bad, doc_no=HOSTILE)
    add(store, 1, title=f"通知{HOSTILE}", body=f"第一段{HOSTILE}改", doc_no=HOSTILE)
    builder = FeedBuilder(store, BASE)
    for fmt in FORMATS:
        raw = builder.render(ALL, fmt).body
        assert b"<script" not in raw.lower(), fmt
        assert b"javascript:" not in raw, fmt
    for fmt in ("rss", "atom"):
        for entry in parsed(builder.render(ALL, fmt)).entries:
            texts = [entry.title, entry.get("summary", "")]
            for text in texts + [c.value for c in entry.get("content", [])]:
                assert "<script" not in text.lower(), (fmt, text)
            assert "&lt;script&gt;" in entry.title
    for item in check_json_feed(builder.render(ALL, "json"))["items"]:
        assert "<script" not in item["content_html"].lower()
        assert 'href="javascript' not in item["content_html"]
        assert "&lt;script&gt;alert(1)&lt;/script&gt;]]&gt;" in item["content_html"]
        # JSON Feed titles are plain text by the spec; the bytes carried \u003c (above).
        assert item["title"].endswith(f"通知{HOSTILE}")


# Topic filters


@pytest.fixture
def varied(store: Store) -> Store:
    """Five notices on two sites; the last one revised and one removed."""
    add(store, 1, title="校园安全检查通知")
    add(store, 2, title="双减工作推进会", body="课后服务。", category="规划")
    add(store, 3, JJ, title="教师招聘公告", body="公开招聘教师。", publisher="靖江市教育局")
    add(store, 4, JJ, title="教师招聘拟聘用人员公示", body="STEM 教师。", publisher="靖江市教育局")
    add(store, 5, title="PM2.5 防护提示", body="校园安全。")
    add(store, 5, title="PM2.5 防护提示", body="校园安全。改。")
    remove(store, 2)
    return store


@pytest.mark.parametrize(
    ("topic", "expected"),
    [
        (Topic("t", "t", keywords=("校园安全",)), ["[修订] PM2.5", "[新] PM2.5", "[新] 校园安全"]),
        (Topic("t", "t", keywords=("招聘",), exclude=("拟聘用",)), ["[新] 教师招聘公告"]),
        (
            Topic("t", "t", keywords=("pm2.5", "stem")),
            ["[修订] PM2.5", "[新] PM2.5", "[新] 教师招聘拟"],
        ),
        (Topic("t", "t", kinds=("removed",)), ["[撤下] 双减"]),
        (Topic("t", "t", kinds=("revised", "removed")), ["[撤下] 双减", "[修订] PM2.5"]),
        (Topic("t", "t", sites=(JJ,)), ["[新] 教师招聘拟", "[新] 教师招聘公告"]),
        (Topic("t", "t", publishers=("靖江",), keywords=("公开",)), ["[新] 教师招聘公告"]),
        (Topic("t", "t", categories=("规划",)), ["[撤下] 双减", "[新] 双减"]),
        (Topic("t", "t", sites=(ZD,), keywords=("招聘",)), []),
        (search_topic("  双减  "), ["[撤下] 双减", "[新] 双减"]),
        (search_topic("招聘", site=JJ), ["[新] 教师招聘拟", "[新] 教师招聘公告"]),
    ],
    ids=[
        "keyword",
        "exclude",
        "ascii-case",
        "removed",
        "revised-removed",
        "site",
        "publisher",
        "category",
        "site-and-keyword",
        "search",
        "search-site",
    ],
)
def test_topic_filters(varied: Store, topic: Topic, expected: list[str]) -> None:
    titles = [e.title for e in parsed(FeedBuilder(varied, BASE).render(topic, "rss")).entries]
    assert len(titles) == len(expected)
    assert all(t.startswith(e) for t, e in zip(titles, expected, strict=True)), titles


def test_filters_on_postgresql_too(store_url: str) -> None:
    with open_store(store_url) as store:
        add(store, 1, title="100% 完成 a_b", body="PM2.5")
        add(store, 2, title="100 完成 axb", body="pm2.5")
        add(store, 3, JJ, title="Pm2.5 Über", body="")
        builder = FeedBuilder(store, BASE)

        def titles(topic: Topic) -> list[str]:
            return [e.title for e in parsed(builder.render(topic, "rss")).entries]

        # LIKE wildcards in a keyword are plain characters; ASCII case is ignored, the rest not.
        assert titles(Topic("t", "t", keywords=("100%",))) == ["[新] 100% 完成 a_b"]
        assert titles(Topic("t", "t", keywords=("a_b",))) == ["[新] 100% 完成 a_b"]
        assert len(titles(Topic("t", "t", keywords=("PM2.5",)))) == 3
        assert titles(Topic("t", "t", keywords=("über",))) == []
        assert titles(Topic("t", "t", keywords=("PM2.5",), sites=(JJ,))) == ["[新] Pm2.5 Über"]


def test_deep_history_is_read_in_batches(store: Store) -> None:
    add(store, 0, title="很早的双减通知", body="双减")
    for n in range(1, 300):
        add(store, n, title=f"第{n}号", body="无关。")
    counting = CountingStore(store)
    builder = FeedBuilder(counting, BASE, max_items=3)  # type: ignore[arg-type]
    feed = builder.render(Topic("t", "t", publishers=("张店",), exclude=("无关",)), "rss")
    assert [e.title for e in parsed(feed).entries] == ["[新] 很早的双减通知"]
    assert counting.calls.count("feed_events") == 3  # 50, 200, then the last 50 of 300


# Caching and validators


def test_etag_follows_the_content(store: Store) -> None:
    topic = Topic("anquan", "校园安全", keywords=("校园安全",))
    add(store, 1)
    counting = CountingStore(store)
    builder = FeedBuilder(counting, BASE)  # type: ignore[arg-type]
    first = builder.render(topic, "rss")
    counting.calls.clear()
    assert builder.render(topic, "rss") is first
    assert counting.calls == ["last_event_id"]  # a warm render is one query
    # An event the topic does not match: new events were read, the feed is the same.
    add(store, 2, title="双减", body="无关。")
    second = builder.render(topic, "rss")
    assert (second.etag, second.last_modified) == (first.etag, first.last_modified)
    assert FeedBuilder(store, BASE).render(topic, "rss").etag == first.etag
    # A matching event: new bytes, new ETag, later Last-Modified.
    add(store, 3, title="校园安全再通知")
    third = builder.render(topic, "rss")
    assert third.etag != first.etag and third.last_modified > first.last_modified
    assert third.body == FeedBuilder(store, BASE).render(topic, "rss").body


def test_refreshed_cache_equals_a_fresh_render(store: Store) -> None:
    builder = FeedBuilder(store, BASE, max_items=4)
    topics = [ALL, Topic("t", "t", keywords=("安全",)), Topic("r", "r", kinds=("removed",))]
    for step in range(6):
        add(store, step, title=f"安全{step}" if step % 2 else f"其他{step}")
        if step == 3:
            remove(store, 1)
        for topic in topics:
            for fmt in FORMATS:
                assert (
                    builder.render(topic, fmt).body
                    == FeedBuilder(store, BASE, max_items=4).render(topic, fmt).body
                )


def test_an_event_committed_late_appears_after_max_age(tmp_path: Path) -> None:
    """On PostgreSQL a transaction can commit a lower event id after a higher one is visible."""
    db = f"sqlite:///{tmp_path / 'late.db'}"
    with open_store(db) as store:
        add(store, 1, title="一")
        add(store, 2, title="二")
        engine = sa.create_engine(db)
        with engine.begin() as conn:
            conn.execute(sa.text("UPDATE events SET id = 10 WHERE id = 2"))
        ticker = Ticker()
        builder = FeedBuilder(store, BASE, max_age=60, monotonic=ticker)
        assert len(parsed(builder.render(ALL, "rss")).entries) == 2
        add(store, 3, title="三")  # id 11 ...
        with engine.begin() as conn:  # ... committed "late", as 5, below the newest (10)
            conn.execute(sa.text("UPDATE events SET id = 5 WHERE id = 11"))
        engine.dispose()
        ticker.now = 30
        assert len(parsed(builder.render(ALL, "rss")).entries) == 2  # cached: id 10 still newest
        ticker.now = 61
        titles = [e.title for e in parsed(builder.render(ALL, "rss")).entries]
        assert titles == ["[新] 二", "[新] 三", "[新] 一"]


# Topics, search, OPML


def test_load_topics(tmp_path: Path) -> None:
    assert load_topics(None) == [ALL]
    path = tmp_path / "topics.toml"
    path.write_text(
        '[[topic]]\nid = "anquan"\ntitle = " 校园安全 "\nkeywords = ["校园安全", "校园安全"]\n'
        'kinds = ["revised", "new"]\n',
        encoding="utf-8",
    )
    assert load_topics(path) == [
        ALL,
        Topic("anquan", "校园安全", keywords=("校园安全",), kinds=("new", "revised")),
    ]
    example = load_topics(ROOT / "topics.toml")
    assert example[0] == ALL and len({t.id for t in example}) == len(example) > 3


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('[[topic]]\nid = "a"\ntitle = "t"\nkeyword = ["x"]\n', "keyword"),
        ('[[topic]]\ntitle = "t"\n', "id"),
        ('[[topic]]\nid = "A b"\ntitle = "t"\n', "id"),
        ('[[topic]]\nid = "a"\n', "title"),
        ('[[topic]]\nid = "a"\ntitle = "t"\nkeywords = "x"\n', "keywords"),
        ('[[topic]]\nid = "a"\ntitle = "t"\nsites = [""]\n', "sites"),
        ('[[topic]]\nid = "a"\ntitle = "t"\nkinds = ["restored"]\n', "kinds"),
        ('[[topic]]\nid = "a"\ntitle = "t"\nkinds = []\n', "kinds"),
        ('[[topic]]\nid = "all"\ntitle = "t"\n', "id"),
        ('[[topic]]\nid = "a"\ntitle = "t"\n[[topic]]\nid = "a"\ntitle = "u"\n', "id"),
        ('[[topics]]\nid = "a"\n', "topics"),
        ("topic = 1\n", "topic"),
        ("[[topic]\n", "not valid TOML"),
    ],
)
def test_topics_errors_name_file_and_key(tmp_path: Path, text: str, key: str) -> None:
    path = tmp_path / "topics.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_topics(path)
    assert str(info.value).startswith(f"{path}: ")
    assert re.search(rf"\b{re.escape(key)}\b", str(info.value))


def test_missing_topics_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"topics\.toml"):
        load_topics(tmp_path / "topics.toml")


def test_search_topic() -> None:
    topic = search_topic(" 校园 安全 ", site=JJ)
    assert (topic.id, topic.keywords, topic.sites) == ("search", ("校园 安全",), (JJ,))
    assert feed_url(BASE, topic, "atom") == (
        f"{BASE}/feeds/search.atom?q=%E6%A0%A1%E5%9B%AD+%E5%AE%89%E5%85%A8&site={JJ}"
    )
    assert search_topic("x", site="").sites == ()
    for bad in ("", "   ", "长" * 101):
        with pytest.raises(ValueError):
            search_topic(bad)


def test_opml_lists_every_topic_in_rss_and_atom() -> None:
    topics = [ALL, Topic("anquan", "校园<安全>", keywords=("校园安全",))]
    root = ElementTree.fromstring(opml(topics, BASE + "/"))
    assert root.get("version") == "2.0"
    assert root.findtext("head/title")
    urls = [(o.get("text"), o.get("xmlUrl")) for o in root.iter("outline") if o.get("xmlUrl")]
    assert urls == [
        ("全部公告", f"{BASE}/feeds/all.rss"),
        ("校园<安全>", f"{BASE}/feeds/anquan.rss"),
        ("全部公告", f"{BASE}/feeds/all.atom"),
        ("校园<安全>", f"{BASE}/feeds/anquan.atom"),
    ]
    assert all(o.get("type") == "rss" for o in root.iter("outline") if o.get("xmlUrl"))


# Golden files


@pytest.mark.parametrize("fmt", FORMATS)
def test_golden_feed(store: Store, fmt: Format) -> None:
    new_revised_removed(store)
    topic = Topic("anquan", "校园安全", keywords=("校园安全",))
    identity = FeedIdentity(instance="0123456789abcdef", legacy_before=1, legacy_base_url=None)
    body = FeedBuilder(store, BASE, identity=identity).render(topic, fmt).body
    # Not *.json: the parser golden walkers take tests/fixtures/*/*.json for their own.
    golden = GOLDEN / ("anquan.jsonfeed" if fmt == "json" else f"anquan.{fmt}.xml")
    if os.environ.get("GOVWATCH_UPDATE_GOLDEN"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_bytes(body)
    assert body.decode("utf-8") == golden.read_text(encoding="utf-8")
