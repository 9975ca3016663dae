"""Topics: what one feed carries, read from topics.toml; errors name the file and the key.

A topics file is `[[topic]]` tables of the keys declared in TOPIC_KEYS below (the README's
table of them is generated from these declarations; `topics.toml` is an example). A notice
is in a topic's feed when it passes every key the topic gives: one of its `sites`, any of
its `keywords`, none of `exclude`, one of its `publishers` and `categories`, an event of
its `kinds`. A seed's own `topics` are labels and play no part.

Keywords match ignoring the case of Latin letters A-Z (PM2.5, STEM), exactly otherwise:
that is what SQL's LIKE does on SQLite, so the store can prefilter by keyword and the check
here agrees with it. Publishers and categories match by containment because sites spell the
same bureau with and without its city's name. The built-in `all` topic carries everything
and comes first; `search` is the ad-hoc query feed. Both ids are taken.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from govwatch.config import REQUIRED, Key, TableReader, read_toml
from govwatch.errors import ConfigError
from govwatch.store.search_text import parse_query

FeedKind = Literal["new", "revised", "removed"]
"""The event kinds a feed carries; 'restored' is not one (readers already have the notice)."""

FEED_KINDS: tuple[FeedKind, ...] = ("new", "revised", "removed")
ALL_ID = "all"
SEARCH_ID = "search"
MAX_QUERY = 100
"""Longest ad-hoc query, in characters: the query comes from any URL."""

_ID = re.compile(r"^[a-z0-9][a-z0-9_-]*$")

TOPIC_KEYS = (
    Key(
        "id",
        "string",
        REQUIRED,
        "Unique among the topics: lower-case letters, digits, `-` and `_`. The feed is "
        "`/feeds/<id>.rss` (`.atom`, `.json`); `all` and `search` are built in.",
        '"xiaoyuan-anquan"',
    ),
    Key("title", "string", REQUIRED, "The feed's title.", '"校园安全"'),
    Key(
        "keywords",
        "strings",
        (),
        "Notices whose title or body contains any of them (Latin letters in either case); "
        "none: every notice.",
        '["校园安全", "防溺水"]',
    ),
    Key(
        "exclude",
        "strings",
        (),
        "Leaves out notices whose title or body contains any of them.",
        '["招标"]',
    ),
    Key(
        "sites",
        "strings",
        (),
        "Seed ids (a seed file's `id`): only those seeds' notices; none: every seed's. "
        "`govwatch serve` refuses an id no seed has. A seed's `topics` play no part.",
        '["zhangdian-jyj-tzgg"]',
    ),
    Key(
        "publishers",
        "strings",
        (),
        "Notices whose 发布机构 contains one of them.",
        '["教育和体育局"]',
    ),
    Key(
        "categories",
        "strings",
        (),
        "Notices whose 主题分类 contains one of them.",
        '["教育"]',
    ),
    Key(
        "kinds",
        "strings",
        FEED_KINDS,
        "The events the feed carries, of `new`, `revised` and `removed`.",
        '["new", "revised"]',
    ),
    Key(
        "notify",
        "strings",
        (),
        "Where each of the topic's events is pushed as well, once per place: Apprise URLs "
        "(`wecombot://`, `dingtalk://`, `feishu://`, `mailto://`, `json://` …). `${NAME}` "
        "is replaced by the environment variable NAME, for keys and tokens (never logged). "
        "See [Push notifications](#push-notifications).",
        '["wecombot://${WECOM_KEY}", "json://hooks.example.org/govwatch"]',
    ),
)


@dataclass(frozen=True)
class Topic:
    """One feed's filter. Frozen and hashable, so a rendered feed can be cached under it."""

    id: str
    title: str
    keywords: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    sites: tuple[str, ...] = ()
    publishers: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    kinds: tuple[FeedKind, ...] = FEED_KINDS
    notify: tuple[str, ...] = ()
    """Apprise URLs as written, `${NAME}` unexpanded: secrets stay in the environment."""

    def matches(self, title: str, body: str, meta: Mapping[str, str]) -> bool:
        """Everything but kinds and sites, which the store's query applies."""
        if self.publishers and not _contains_any(meta.get("publisher", ""), self.publishers):
            return False
        if self.categories and not _contains_any(meta.get("category", ""), self.categories):
            return False
        wanted, unwanted = _pattern(self.keywords), _pattern(self.exclude)
        if wanted is not None and not (wanted.search(title) or wanted.search(body)):
            return False
        return unwanted is None or not (unwanted.search(title) or unwanted.search(body))


ALL = Topic(id=ALL_ID, title="全部公告")


def search_topic(q: str, site: str | None = None) -> Topic:
    """The topic behind /feeds/search.<fmt>?q=…&site=…: the search `q` (its words, each
    anywhere in the notice: store/search_text.py), on one site or all; the feed asks the
    full-text index for it.

    ValueError for an empty or overlong query (the server answers 400).
    """
    phrase = " ".join(q.split())
    if not phrase:
        raise ValueError("搜索需要关键词（q）")
    if len(phrase) > MAX_QUERY:
        raise ValueError(f"关键词不能超过 {MAX_QUERY} 个字")
    parse_query(phrase)  # the index must have something to look for
    site = (site or "").strip() or None
    title = f"搜索：{phrase}" + (f"（{site}）" if site else "")
    return Topic(id=SEARCH_ID, title=title, keywords=(phrase,), sites=(site,) if site else ())


def load_topics(path: Path | None, site_ids: Collection[str] | None = None) -> list[Topic]:
    """`all` first, then the topics of `path` in file order (None: only `all`).

    With `site_ids` (every seed's id), a topic whose `sites` names another id is an error:
    its feed would stay empty for ever.
    """
    if path is None:
        return [ALL]
    data = read_toml(path)
    unknown = sorted(set(data) - {"topic"})
    if unknown:
        raise ConfigError(f"{path}: {unknown[0]}: unknown key (topics are [[topic]] tables)")
    tables = data.get("topic", [])
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        raise ConfigError(f"{path}: topic: must be [[topic]] tables")
    topics = [ALL]
    seen: dict[str, int] = {}
    for number, table in enumerate(tables, start=1):
        r = TableReader(path, table, TOPIC_KEYS, f"topic #{number}: ")
        topic = _topic(r)
        if topic.id in (ALL_ID, SEARCH_ID):
            raise ConfigError(f"{path}: topic #{number}: id: {topic.id!r} is built in")
        if topic.id in seen:
            raise ConfigError(
                f"{path}: topic #{number}: id: {topic.id!r} already used by topic #{seen[topic.id]}"
            )
        seen[topic.id] = number
        if site_ids is not None and not set(topic.sites) <= set(site_ids):
            strangers = ", ".join(s for s in topic.sites if s not in site_ids)
            known = ", ".join(sorted(site_ids)) or "none"
            raise r.fail("sites", f"no seed has the id {strangers} (seed ids: {known})")
        topics.append(topic)
    return topics


def _strings(r: TableReader, key: str) -> tuple[str, ...]:
    """Stripped, each once: a topic is a filter, and its feed is cached under it."""
    return tuple(dict.fromkeys(v.strip() for v in r[key]))


def _topic(r: TableReader) -> Topic:
    topic_id = r["id"].strip()
    if not _ID.match(topic_id):
        raise r.fail("id", "use lower-case letters, digits, - and _")
    r.prefix = f"topic {topic_id!r}: "
    kinds = _strings(r, "kinds")
    if not kinds:
        raise r.fail("kinds", f"needs at least one of {', '.join(FEED_KINDS)}")
    for kind in kinds:
        if kind not in FEED_KINDS:
            raise r.fail("kinds", f"{kind!r} is not one of {', '.join(FEED_KINDS)}")
    return Topic(
        id=topic_id,
        title=r["title"].strip(),
        keywords=_strings(r, "keywords"),
        exclude=_strings(r, "exclude"),
        sites=_strings(r, "sites"),
        publishers=_strings(r, "publishers"),
        categories=_strings(r, "categories"),
        kinds=tuple(k for k in FEED_KINDS if k in kinds),
        notify=_notify(r),
    )


_SECRET = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def expand_secrets(template: str, environ: Mapping[str, str]) -> tuple[str, tuple[str, ...]]:
    """`template` with each `${NAME}` replaced by the environment's NAME, and the values put
    in (to be masked wherever the URL could be shown); KeyError naming an unset NAME."""
    names = _SECRET.findall(template)
    values = tuple(environ[name] for name in names)
    return _SECRET.sub(lambda m: environ[m.group(1)], template), tuple(v for v in values if v)


def _notify(r: TableReader) -> tuple[str, ...]:
    """The notify URLs, each once; every `${NAME}` in them must be set now, not at the
    first event."""
    urls = _strings(r, "notify")
    for number, url in enumerate(urls, start=1):
        if "://" not in url:
            raise r.fail(
                "notify", f"entry {number} is no URL (an Apprise URL like json://host/path)"
            )
        try:
            expand_secrets(url, os.environ)
        except KeyError as exc:
            raise r.fail(
                "notify", f"entry {number} names ${{{exc.args[0]}}}: no such environment variable"
            ) from None
    return urls


@functools.lru_cache(maxsize=1024)
def _pattern(words: tuple[str, ...]) -> re.Pattern[str] | None:
    """One regex for any of `words`, ignoring the case of ASCII letters only (as LIKE does)."""
    if not words:
        return None
    return re.compile("|".join(map(re.escape, words)), re.IGNORECASE | re.ASCII)


def _contains_any(value: str, needles: tuple[str, ...]) -> bool:
    folded = value.casefold()
    return any(n.casefold() in folded for n in needles)
