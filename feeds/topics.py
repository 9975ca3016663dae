"""Topics: what one feed carries, read from topics.toml; errors name the file and the key.

    [[topic]]
    id = "xiaoyuan-anquan"                 # unique, [a-z0-9_-]; the feed is /feeds/<id>.rss
    title = "校园安全"
    keywords = ["校园安全", "防溺水"]      # any of them in the title or body (none: every notice)
    exclude = ["招标"]                     # optional: none of them in the title or body
    sites = ["zhangdian-jyj-tzgg"]         # optional: seed ids
    publishers = ["教育和体育局"]           # optional: contained in 发布机构
    categories = ["教育"]                  # optional: contained in 主题分类
    kinds = ["new", "revised"]             # optional: of new, revised, removed (default all)

Keywords match ignoring the case of Latin letters A-Z (PM2.5, STEM), exactly otherwise:
that is what SQL's LIKE does on SQLite, so the store can prefilter by keyword and the check
here agrees with it. Publishers and categories match by containment because sites spell the
same bureau with and without its city's name. The built-in `all` topic carries everything
and comes first; `search` is the ad-hoc query feed. Both ids are taken.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from govwatch.config import read_toml
from govwatch.errors import ConfigError

FeedKind = Literal["new", "revised", "removed"]
"""The event kinds a feed carries; 'restored' is not one (readers already have the notice)."""

FEED_KINDS: tuple[FeedKind, ...] = ("new", "revised", "removed")
ALL_ID = "all"
SEARCH_ID = "search"
MAX_QUERY = 100
"""Longest ad-hoc query, in characters: the query comes from any URL."""

_ID = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_KNOWN = frozenset("id title keywords exclude sites publishers categories kinds".split())


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
    """The topic behind /feeds/search.<fmt>?q=…&site=…: `q` as one phrase, on one site or all.

    ValueError for an empty or overlong query (the server answers 400).
    """
    phrase = " ".join(q.split())
    if not phrase:
        raise ValueError("搜索需要关键词（q）")
    if len(phrase) > MAX_QUERY:
        raise ValueError(f"关键词不能超过 {MAX_QUERY} 个字")
    site = (site or "").strip() or None
    title = f"搜索：{phrase}" + (f"（{site}）" if site else "")
    return Topic(id=SEARCH_ID, title=title, keywords=(phrase,), sites=(site,) if site else ())


def load_topics(path: Path | None) -> list[Topic]:
    """`all` first, then the topics of `path` in file order (None: only `all`)."""
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
        topic = _topic(_Reader(path, table, f"topic #{number}: "))
        if topic.id in (ALL_ID, SEARCH_ID):
            raise ConfigError(f"{path}: topic #{number}: id: {topic.id!r} is built in")
        if topic.id in seen:
            raise ConfigError(
                f"{path}: topic #{number}: id: {topic.id!r} already used by topic #{seen[topic.id]}"
            )
        seen[topic.id] = number
        topics.append(topic)
    return topics


class _Reader:
    """Typed access to one [[topic]] table; every error names the file, the topic and the key."""

    def __init__(self, path: Path, data: dict[str, Any], prefix: str) -> None:
        self.path = path
        self.data = data
        self.prefix = prefix

    def fail(self, key: str, problem: str) -> ConfigError:
        return ConfigError(f"{self.path}: {self.prefix}{key}: {problem}")

    def text(self, key: str) -> str:
        value = self.data.get(key)
        if value is None:
            raise self.fail(key, "missing")
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, "must be a non-empty string")
        return value.strip()

    def strings(self, key: str) -> tuple[str, ...]:
        value = self.data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise self.fail(key, "must be a list of non-empty strings")
        return tuple(dict.fromkeys(v.strip() for v in value))


def _topic(r: _Reader) -> Topic:
    unknown = sorted(set(r.data) - _KNOWN)
    if unknown:
        raise r.fail(unknown[0], "unknown key")
    topic_id = r.text("id")
    if not _ID.match(topic_id):
        raise r.fail("id", "use lower-case letters, digits, - and _")
    r.prefix = f"topic {topic_id!r}: "
    kinds = r.strings("kinds") if "kinds" in r.data else FEED_KINDS
    if not kinds:
        raise r.fail("kinds", f"needs at least one of {', '.join(FEED_KINDS)}")
    for kind in kinds:
        if kind not in FEED_KINDS:
            raise r.fail("kinds", f"{kind!r} is not one of {', '.join(FEED_KINDS)}")
    return Topic(
        id=topic_id,
        title=r.text("title"),
        keywords=r.strings("keywords"),
        exclude=r.strings("exclude"),
        sites=r.strings("sites"),
        publishers=r.strings("publishers"),
        categories=r.strings("categories"),
        kinds=tuple(k for k in FEED_KINDS if k in kinds),
    )


@functools.lru_cache(maxsize=1024)
def _pattern(words: tuple[str, ...]) -> re.Pattern[str] | None:
    """One regex for any of `words`, ignoring the case of ASCII letters only (as LIKE does)."""
    if not words:
        return None
    return re.compile("|".join(map(re.escape, words)), re.IGNORECASE | re.ASCII)


def _contains_any(value: str, needles: tuple[str, ...]) -> bool:
    folded = value.casefold()
    return any(n.casefold() in folded for n in needles)
