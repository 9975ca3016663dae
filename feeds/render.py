"""Render a topic as RSS 2.0, Atom or JSON Feed 1.1, cached until the store changes.

A topic's items are its newest `max_items` matching events, newest first. They are read in
batches, newest first, with kinds, sites and keywords filtered in SQL and the rest by
`Topic.matches`, until there are enough or the events run out; then each format is written
from the same items. All of it is kept in memory per topic together with the store's newest
event id at the time, so while that id stays the same a render costs one cheap query.

When the id moves, only the events after the cached one are read and merged in, not the
whole history again: most topics match rarely, and without this every new event anywhere
would send each of them through every event in the store. The re-read starts
REFRESH_OVERLAP events early and is repeated after `max_age` seconds even if the id has not
moved, because on PostgreSQL two crawl transactions can commit their event ids out of order
and an event that commits after a newer one would otherwise be skipped. Rewriting unchanged
items gives the same bytes, hence the same ETag.

Item titles are carried as HTML in RSS (readers treat them so) and declared `type="html"` in
Atom, so a title from a site is escaped once more and `<script>` in it shows as text. The
feed's own title and description are plain text in both (RSS channel text is not read as
HTML), escaped once by the XML: a search for `<b>` is titled `搜索：<b>`, not `&lt;b&gt;`.
JSON Feed titles are plain text by its spec; the JSON is written with <, > and & as \\u
escapes, so the bytes carry no markup either.
"""

from __future__ import annotations

import hashlib
import html
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, cast
from urllib.parse import urlencode
from xml.etree import ElementTree

from feedgen.feed import FeedGenerator

from govwatch.feeds.files import item_files
from govwatch.feeds.items import Item, build_item
from govwatch.feeds.topics import SEARCH_ID, Topic
from govwatch.store import Store
from govwatch.store.feed_identity import FeedIdentity, read_identity
from govwatch.store.rows import EVENT_LABELS, FeedEventRow
from govwatch.store.search_text import Query, document_text, matches, parse_query

Format = Literal["rss", "atom", "json"]

MEDIA_TYPES: dict[str, str] = {
    "rss": "application/rss+xml; charset=utf-8",
    "atom": "application/atom+xml; charset=utf-8",
    "json": "application/feed+json; charset=utf-8",
}
JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
"""Last-Modified of a feed without items."""

FIRST_BATCH = 50
MAX_BATCH = 2000
"""Events read per query: a selective topic reads ever bigger batches, up to this many."""
REFRESH_OVERLAP = 100
"""Events before the cached newest one that a refresh reads again (see the module)."""

# < > & would let the JSON be read as markup if it were ever sniffed or inlined; U+2028 and
# U+2029 end a line in JavaScript. Escaped, the JSON means the same.
_JSON_ESCAPES = str.maketrans(
    {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
)


@dataclass(frozen=True)
class Feed:
    """A rendered feed and its HTTP validators (a strong ETag of the bytes, whole seconds)."""

    body: bytes
    media_type: str
    etag: str
    last_modified: datetime


@dataclass
class _Topical:
    """A topic's cached items as of event `scanned_to`, and the formats written from them."""

    scanned_to: int
    checked_at: float
    items: list[Item]
    feeds: dict[str, Feed] = field(default_factory=dict)


class FeedBuilder:
    """Renders topics from one store; safe to share between threads."""

    def __init__(
        self,
        store: Store,
        base_url: str,
        *,
        max_items: int = 50,
        cache_size: int = 64,
        max_age: float = 60.0,
        monotonic: Callable[[], float] = time.monotonic,
        identity: FeedIdentity | None = None,
    ) -> None:
        """`identity` names the items (store/feed_identity.py); None: read from the store."""
        if max_items < 1:
            raise ValueError("max_items must be at least 1")
        self.store = store
        self.base_url = base_url.rstrip("/")
        self.max_items = max_items
        self._cache_size = cache_size  # ad-hoc searches make new topics from any URL
        self._max_age = max_age
        self._monotonic = monotonic
        self._cache: OrderedDict[Topic, _Topical] = OrderedDict()
        self._lock = threading.Lock()
        self._identity = identity

    def render(self, topic: Topic, fmt: Format) -> Feed:
        """`topic` as `fmt`: from the cache while no event happened, else brought up to date."""
        if fmt not in MEDIA_TYPES:
            raise ValueError(f"unknown feed format {fmt!r} (rss, atom or json)")
        state = self._current(topic, self.store.last_event_id())
        with self._lock:
            feed = state.feeds.get(fmt)
        if feed is None:
            feed = self._write(topic, fmt, state.items)
            with self._lock:
                state.feeds[fmt] = feed
        return feed

    def _current(self, topic: Topic, last_id: int) -> _Topical:
        """The topic's items as of `last_id`: cached, refreshed with newer events, or read."""
        now = self._monotonic()
        with self._lock:
            state = self._cache.get(topic)
            if state is not None:
                self._cache.move_to_end(topic)
        fresh_enough = state is not None and now - state.checked_at <= self._max_age
        if state is not None and fresh_enough and state.scanned_to == last_id:
            return state
        if state is None or last_id < state.scanned_to:  # new, or another database
            items = self._scan(topic, after_id=None)
        else:
            newer = self._scan(topic, after_id=max(0, state.scanned_to - REFRESH_OVERLAP))
            merged = {item.event_id: item for item in [*state.items, *newer]}
            items = [merged[i] for i in sorted(merged, reverse=True)[: self.max_items]]
        feeds: dict[str, Feed] = {}
        if state is not None and [i.event_id for i in items] == [i.event_id for i in state.items]:
            feeds = state.feeds  # the same items: what was written from them still holds
        fresh = _Topical(last_id, now, items, feeds)
        with self._lock:
            self._cache[topic] = fresh
            self._cache.move_to_end(topic)
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return fresh

    def _scan(self, topic: Topic, after_id: int | None) -> list[Item]:
        """The topic's newest `max_items` events after `after_id`, newest first, as items."""
        if self._identity is None:
            self._identity = read_identity(self.store)
        found: list[Item] = []
        before: int | None = None
        batch = max(FIRST_BATCH, self.max_items)
        # The search feed asks the full-text index; its words are checked as search checks them.
        query = parse_query(topic.keywords[0]) if topic.id == SEARCH_ID else None
        while len(found) < self.max_items:
            events = self.store.feed_events(
                kinds=topic.kinds,
                site_ids=topic.sites,
                before_id=before,
                after_id=after_id,
                text_any=() if query else topic.keywords,
                matching=query,
                limit=batch,
            )
            for event in events:
                if _wanted(self.store, topic, query, event):
                    files = item_files(self.store, event)
                    found.append(build_item(event, self.base_url, self._identity, files))
                    if len(found) == self.max_items:
                        break
            if len(events) < batch:
                break
            before = events[-1].event_id
            batch = min(batch * 4, MAX_BATCH)
        return found

    def _write(self, topic: Topic, fmt: Format, items: list[Item]) -> Feed:
        updated = items[0].at.replace(microsecond=0) if items else EPOCH
        about = describe(topic, self.store.site_names() if topic.sites else {})
        if fmt == "json":
            body = _json_feed(topic, items, self.base_url, about)
        else:
            fg = _feedgen(topic, items, self.base_url, updated, fmt, about)
            body = cast(
                bytes, fg.rss_str(pretty=True) if fmt == "rss" else fg.atom_str(pretty=True)
            )
        etag = f'"{hashlib.sha256(body).hexdigest()[:32]}"'
        return Feed(body=body, media_type=MEDIA_TYPES[fmt], etag=etag, last_modified=updated)


def feed_url(base_url: str, topic: Topic, fmt: Format) -> str:
    """Where the server serves `topic` as `fmt`; a search keeps its query."""
    url = f"{base_url.rstrip('/')}/feeds/{topic.id}.{fmt}"
    if topic.id == SEARCH_ID:
        query = {"q": topic.keywords[0]} | ({"site": topic.sites[0]} if topic.sites else {})
        url += "?" + urlencode(query)
    return url


def opml(topics: list[Topic], base_url: str) -> bytes:
    """OPML 2.0 for one-click import: an RSS folder and an Atom folder of every topic.

    Two folders rather than two entries per topic side by side, so whoever imports both
    sees at once that they hold the same feeds and can keep one.
    """
    root = ElementTree.Element("opml", version="2.0")
    head = ElementTree.SubElement(root, "head")
    ElementTree.SubElement(head, "title").text = "govwatch 订阅"
    body = ElementTree.SubElement(root, "body")
    for fmt, label in (("rss", "RSS"), ("atom", "Atom")):
        folder = ElementTree.SubElement(body, "outline", text=f"govwatch ({label})")
        for topic in topics:
            ElementTree.SubElement(
                folder,
                "outline",
                type="rss",
                version="RSS2" if fmt == "rss" else "ATOM",
                text=topic.title,
                title=topic.title,
                xmlUrl=feed_url(base_url, topic, cast(Format, fmt)),
            )
    ElementTree.indent(root)
    return cast(bytes, ElementTree.tostring(root, encoding="utf-8", xml_declaration=True)) + b"\n"


def describe(topic: Topic, names: dict[str, str]) -> str:
    """The topic's filters in a line, as the feed's description; sites by the names their
    seeds give them (`names`), else by id."""
    parts = [
        f"{label}：{'、'.join(values)}"
        for label, values in (
            ("关键词", topic.keywords),
            ("排除", topic.exclude),
            ("站点", tuple(names.get(site, site) for site in topic.sites)),
            ("发布机构", topic.publishers),
            ("主题分类", topic.categories),
        )
        if values
    ]
    parts.append(f"事件：{'、'.join(EVENT_LABELS[k] for k in topic.kinds)}")
    return f"govwatch 专题「{topic.title}」。" + "；".join(parts)


class _AtomFixes:
    """feedgen extension (feed and entry) for what feedgen 1.0 cannot say in Atom.

    It gives titles no type, so an entry's is marked type="html" here (see the module;
    the feed's own title and subtitle stay text), and it
    writes an entry's links without their rel, so the related links (the govwatch notice and
    diff pages) are added here with theirs; feedgen then only writes the alternate link.
    """

    def __init__(self) -> None:
        self.related: list[tuple[str, str]] = []

    def extend_ns(self) -> dict[str, str]:
        return {}

    def extend_atom(self, element: Any) -> Any:
        if element.tag.rpartition("}")[2] == "entry":
            for child in element:
                if child.tag.rpartition("}")[2] == "title":
                    child.set("type", "html")
        for href, title in self.related:
            element.append(
                element.makeelement("link", {"href": href, "rel": "related", "title": title})
            )
        return element

    def extend_rss(self, element: Any) -> Any:
        return element


def _feedgen(
    topic: Topic, items: list[Item], base_url: str, updated: datetime, fmt: Format, about: str
) -> Any:
    """A feedgen generator of the topic; item titles HTML-escaped (see the module)."""
    fg = FeedGenerator()
    fg.load_extension("dc")
    fg.register_extension("govwatch_atom", _AtomFixes, _AtomFixes, atom=True, rss=False)
    self_url = feed_url(base_url, topic, fmt)
    fg.id(feed_url(base_url, topic, "atom"))
    fg.title(f"govwatch · {topic.title}")
    fg.description(about)
    fg.link(href=self_url, rel="self")
    fg.link(href=f"{base_url}/", rel="alternate")  # the last link is RSS's <link>
    fg.language("zh-CN")
    fg.author(name="govwatch")
    fg.generator("govwatch")
    fg.updated(updated)
    for item in items:
        fe = fg.add_entry(order="append")
        fe.guid(item.guid, permalink=False)
        fe.title(_esc(item.title))
        if item.link is not None:
            fe.link(href=item.link, rel="alternate")
        fe.govwatch_atom.related.append((item.notice_page, "govwatch"))
        if item.diff_page is not None:
            fe.govwatch_atom.related.append((item.diff_page, "diff"))
        fe.content(item.html, type="html")
        fe.published(item.at)
        fe.updated(item.at)
        if item.categories:
            fe.category([{"term": term, "scheme": scheme} for scheme, term in item.categories])
        if item.index_no is not None:
            fe.dc.dc_identifier(item.index_no)
        if item.issued is not None:
            fe.dc.dc_date(item.issued.isoformat())
    return fg


def _json_feed(topic: Topic, items: list[Item], base_url: str, about: str) -> bytes:
    feed = {
        "version": JSON_FEED_VERSION,
        "title": f"govwatch · {topic.title}",
        "home_page_url": f"{base_url}/",
        "feed_url": feed_url(base_url, topic, "json"),
        "description": about,
        "language": "zh-CN",
        "authors": [{"name": "govwatch"}],
        "items": [_json_item(item) for item in items],
    }
    text = json.dumps(feed, ensure_ascii=False, indent=1)
    return (text.translate(_JSON_ESCAPES) + "\n").encode("utf-8")


def _json_item(item: Item) -> dict[str, Any]:
    out: dict[str, Any] = {"id": item.guid, "title": item.title}
    if item.link is not None:
        out["url"] = item.link
    out["content_html"] = item.html
    out["date_published"] = item.at.isoformat()
    tags = [term for _, term in item.categories]
    if tags:
        out["tags"] = tags
    out["_govwatch"] = item.extension
    return out


def _wanted(store: Store, topic: Topic, query: Query | None, event: FeedEventRow) -> bool:
    if query is None:
        return topic.matches(event.title, event.body, event.meta)
    if query.exact:
        return True
    names = [a.name for a in event.attachments]
    if matches(query, document_text(event.title, event.body, event.meta, names)):
        return True
    # Rarely needed, so read only now: the index found it, perhaps in an attachment's text.
    texts = store.file_texts(event.notice_id, event.version)
    return bool(texts) and matches(
        query, document_text(event.title, event.body, event.meta, names, texts)
    )


def _esc(text: str) -> str:
    return html.escape(text, quote=True)
