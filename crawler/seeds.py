"""Seeds: one TOML file per watched column of a site, validated with errors that name
the file and the key.

    id = "jingjiang-tzgg"                 # unique, [a-z0-9-]
    name = "靖江市教育局 通知公告"
    parser = "hanweb_jpaas"                # a registered parser; "generic" for any site
    listing_urls = ["https://…/col/col1234/index.html"]
    max_pages = 5                          # listing pages followed per crawl
    interval = "6h"                        # how often the scheduler crawls it
    topics = ["靖江", "教育"]
    encoding = "gb18030"                   # optional: overrides what the pages declare
    rate = 1.0                             # optional: requests per second per host
    allowed_hosts = ["www.jingjiang.gov.cn"]   # optional: defaults to the listing hosts
    enabled = true                         # optional: false keeps it out of a plain
                                           # `govwatch crawl` (name it to crawl it)
    baseline = true                        # optional: the first crawl is quiet (below)
    baseline_days = 3                      # optional: …except notices this recent

The first crawl of a seed stores everything but announces only notices published within
`baseline_days` (their own 发布日期/发文日期, else the listing's date): the column's history
is not news. `baseline = false` announces every notice of the first crawl.

    [revisit]                              # optional
    recent_days = 30                       # notices first seen this recently: every crawl
    old_every = "7d"                       # older ones: at most this often
"""

from __future__ import annotations

import codecs
import contextlib
import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from govwatch.config import read_toml
from govwatch.errors import ConfigError
from parsers import registry

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd])\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_ID = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


def parse_duration(text: str) -> timedelta:
    """ "30m", "6h", "10s", "7d" → timedelta."""
    m = _DURATION.match(text)
    if m is None:
        raise ValueError(f"not a duration like 30m, 6h, 10s or 7d: {text!r}")
    return timedelta(seconds=float(m.group(1)) * _UNITS[m.group(2)])


@dataclass(frozen=True)
class Revisit:
    recent_days: int = 30
    old_every: timedelta = timedelta(days=7)


@dataclass(frozen=True)
class Seed:
    id: str
    name: str
    parser: str
    listing_urls: tuple[str, ...]
    max_pages: int
    interval: timedelta
    topics: tuple[str, ...]
    encoding: str | None = None
    rate: float = 1.0
    allowed_hosts: tuple[str, ...] = ()
    revisit: Revisit = field(default_factory=Revisit)
    enabled: bool = True
    baseline: bool = True
    baseline_days: int = 3
    path: Path | None = None

    @property
    def hosts(self) -> tuple[str, ...]:
        if self.allowed_hosts:
            return self.allowed_hosts
        return tuple(dict.fromkeys(urlsplit(u).hostname or "" for u in self.listing_urls))


class _Reader:
    """Typed access to one seed file's table; every error names the file and key."""

    def __init__(self, path: Path, data: dict[str, Any], prefix: str = "") -> None:
        self.path = path
        self.data = data
        self.prefix = prefix

    def fail(self, key: str, problem: str) -> ConfigError:
        return ConfigError(f"{self.path}: {self.prefix}{key}: {problem}")

    def get(self, key: str, kind: type, default: Any = ...) -> Any:
        if key not in self.data:
            if default is ...:
                raise self.fail(key, "missing")
            return default
        value = self.data[key]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
            raise self.fail(key, f"must be a {kind.__name__}, not {type(value).__name__}")
        return value

    def strings(self, key: str, default: Any = ...) -> tuple[str, ...]:
        value = self.get(key, list, default)
        if not all(isinstance(v, str) and v for v in value):
            raise self.fail(key, "must be a list of non-empty strings")
        return tuple(value)

    def duration(self, key: str, default: Any = ...) -> timedelta:
        raw = self.get(key, str, default)
        if isinstance(raw, timedelta):
            return raw
        try:
            return parse_duration(raw)
        except ValueError as exc:
            raise self.fail(key, str(exc)) from None


_KNOWN = set(
    "id name parser listing_urls max_pages interval topics encoding rate allowed_hosts "
    "revisit enabled baseline baseline_days".split()
)


def load_seed(path: Path) -> Seed:
    data = read_toml(path)
    r = _Reader(path, data)
    unknown = sorted(set(data) - _KNOWN)
    if unknown:
        raise r.fail(unknown[0], "unknown key")
    seed_id = r.get("id", str)
    if not _ID.match(seed_id):
        raise r.fail("id", "use lower-case letters, digits, - and _")
    parser = r.get("parser", str)
    try:
        registry.get(parser)
    except ConfigError as exc:
        raise r.fail("parser", str(exc)) from None
    urls = r.strings("listing_urls")
    if not urls:
        raise r.fail("listing_urls", "needs at least one URL")
    for url in urls:
        try:
            parts = urlsplit(url)
            parts.port  # noqa: B018  (raises for a port out of range)
        except ValueError as exc:
            raise r.fail("listing_urls", f"not a URL: {url!r} ({exc})") from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise r.fail("listing_urls", f"not an http(s) URL: {url!r}")
    max_pages = r.get("max_pages", int, 5)
    if max_pages < 1:
        raise r.fail("max_pages", "must be at least 1")
    rate = r.get("rate", float, 1.0)
    if not (rate > 0 and math.isfinite(rate)):
        raise r.fail("rate", "must be a positive number")
    revisit = Revisit()
    if "revisit" in data:
        table = r.get("revisit", dict)
        rr = _Reader(path, table, "revisit.")
        extra = sorted(set(table) - {"recent_days", "old_every"})
        if extra:
            raise rr.fail(extra[0], "unknown key")
        revisit = Revisit(
            recent_days=rr.get("recent_days", int, 30),
            old_every=rr.duration("old_every", timedelta(days=7)),
        )
    baseline_days = r.get("baseline_days", int, 3)
    if baseline_days < 0:
        raise r.fail("baseline_days", "must be 0 or more")
    encoding = r.get("encoding", str, None)
    if encoding is not None:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise r.fail("encoding", f"unknown encoding {encoding!r}") from None
    return Seed(
        id=seed_id,
        name=r.get("name", str),
        parser=parser,
        listing_urls=urls,
        max_pages=max_pages,
        interval=r.duration("interval"),
        topics=r.strings("topics", []),
        encoding=encoding,
        rate=rate,
        allowed_hosts=r.strings("allowed_hosts", []),
        revisit=revisit,
        enabled=r.get("enabled", bool, True),
        baseline=r.get("baseline", bool, True),
        baseline_days=baseline_days,
        path=path,
    )


def load_seeds(path: Path) -> list[Seed]:
    """All seeds in a directory (*.toml, sorted), or the one seed file given."""
    if not path.exists():
        raise ConfigError(f"{path}: no such seed file or directory")
    files = sorted(path.glob("*.toml")) if path.is_dir() else [path]
    seeds = [load_seed(f) for f in files]
    seen: dict[str, Path | None] = {}
    for seed in seeds:
        if seed.id in seen:
            raise ConfigError(f"{seed.path}: id: {seed.id!r} already used by {seen[seed.id]}")
        seen[seed.id] = seed.path
    return seeds


# --- writing a seed (govwatch add) ------------------------------------------------

_HOST_SUFFIX = re.compile(r"^www\.|\.(?:gov|com|org|net|edu)?\.?cn$|\.(?:com|org|net)$")
_NOT_ID = re.compile(r"[^a-z0-9]+")
_PAGE_FILE = re.compile(r"^(?:index|default|list|main)(?:_\d+)?\.[a-z]+$|^$", re.I)
_MAX_COLUMN = 24
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")  # a newline would end a comment; TOML bans the rest


def format_duration(delta: timedelta) -> str:
    """timedelta → the largest whole unit parse_duration reads ("6h", "90m", "45s")."""
    seconds = int(delta.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _string(value: str) -> str:
    """A TOML basic string: JSON's escapes are TOML's, but TOML wants DEL escaped too."""
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")


def _strings(values: Iterable[str]) -> str:
    return "[" + ", ".join(_string(v) for v in values) + "]"


def seed_toml(seed: Seed, comment: Iterable[str] = ()) -> str:
    """The seed file `load_seed` reads back as `seed`, after `comment` lines (# added)."""
    lines = [f"# {_CONTROL.sub(' ', line)}".rstrip() for line in comment]
    lines += [
        f"id = {_string(seed.id)}",
        f"name = {_string(seed.name)}",
        f"parser = {_string(seed.parser)}",
        f"listing_urls = {_strings(seed.listing_urls)}",
        f"max_pages = {seed.max_pages}",
        f"interval = {_string(format_duration(seed.interval))}",
        f"topics = {_strings(seed.topics)}",
        f"rate = {seed.rate!r}",
    ]
    if seed.encoding:
        lines.append(f"encoding = {_string(seed.encoding)}")
    if seed.allowed_hosts:
        lines.append(f"allowed_hosts = {_strings(seed.allowed_hosts)}")
    lines.append(f"enabled = {'true' if seed.enabled else 'false'}")
    if not seed.baseline:
        lines.append("baseline = false")
    if seed.baseline_days != Seed.baseline_days:
        lines.append(f"baseline_days = {seed.baseline_days}")
    if seed.revisit != Revisit():
        lines += [
            "",
            "[revisit]",
            f"recent_days = {seed.revisit.recent_days}",
            f"old_every = {_string(format_duration(seed.revisit.old_every))}",
        ]
    return "\n".join(lines) + "\n"


def used_ids(directory: Path) -> set[str]:
    """Ids a new seed in `directory` must not take: every seed's id and every file name
    (a broken seed file still holds its name)."""
    if not directory.is_dir():
        return set()
    used = set()
    for path in directory.glob("*.toml"):
        used.add(path.stem)
        with contextlib.suppress(ConfigError):
            used.add(load_seed(path).id)
    return used


def derive_id(url: str, used: set[str]) -> str:
    """An id from the column URL's host and its last named path segment, made unique
    against `used`: http://www.jingjiang.gov.cn/col/col6121/index.html → jingjiang-col6121."""
    parts = urlsplit(url)
    host = _HOST_SUFFIX.sub("", (parts.hostname or "site").lower())
    segments = [s for s in parts.path.split("/") if not _PAGE_FILE.match(s)]
    column = segments[-1].rsplit(".", 1)[0] if segments else ""
    column = _NOT_ID.sub("-", column.lower()).strip("-")[:_MAX_COLUMN].strip("-")
    base = "-".join(p for p in (_NOT_ID.sub("-", host).strip("-"), column) if p) or "site"
    candidate, n = base, 1
    while candidate in used:
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def ensure_new_id(directory: Path, seed_id: str) -> None:
    """Raise ConfigError unless a seed `seed_id` can be added to `directory`."""
    if directory.exists() and not directory.is_dir():
        raise ConfigError(f"{directory}: not a directory (seeds are added to a directory)")
    if not _ID.match(seed_id):
        raise ConfigError(f"id {seed_id!r}: use lower-case letters, digits, - and _")
    if seed_id in used_ids(directory):
        raise ConfigError(f"{directory}: a seed with id {seed_id!r} already exists")


def write_seed(directory: Path, seed: Seed, comment: Iterable[str] = ()) -> Path:
    """Write `seed` as `<directory>/<id>.toml`; never over an existing file or id."""
    ensure_new_id(directory, seed.id)
    path = directory / f"{seed.id}.toml"
    directory.mkdir(parents=True, exist_ok=True)
    try:
        with path.open("x", encoding="utf-8") as out:
            out.write(seed_toml(seed, comment))
    except FileExistsError:
        raise ConfigError(f"{path}: already exists") from None
    except OSError as exc:
        raise ConfigError(f"{path}: {exc.strerror}") from None
    return path
