"""Seeds: one TOML file per watched column of a site, validated with errors that name
the file and the key.

The keys are declared once, in SEED_KEYS below; the README's table of them (type, unit,
default, meaning, example) is generated from these declarations, and `seeds/*.toml` are
examples.
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
from urllib.parse import urlsplit

from govwatch.config import REQUIRED, Key, TableReader, defaults, format_duration, read_toml
from govwatch.crawler.proxy import check_proxy
from govwatch.errors import ConfigError
from govwatch.parsers import registry
from govwatch.text import printable

_ID = re.compile(r"^[a-z0-9][a-z0-9_-]*$")

REVISIT_KEYS = (
    Key(
        "recent_days",
        "integer",
        30,
        "Notices first seen within this many days are fetched again on every crawl.",
        "14",
        unit="days",
    ),
    Key(
        "old_every",
        "duration",
        timedelta(days=7),
        "Older notices are fetched again at most this often.",
        '"3d"',
        unit="s, m, h or d",
    ),
)

SEED_KEYS = (
    Key(
        "id",
        "string",
        REQUIRED,
        "Unique among the seeds: lower-case letters, digits, `-` and `_`. Commands "
        "(`govwatch crawl ID`, `check`, `events --site`) and a `[[topic]]`'s `sites` name "
        "the seed by it.",
        '"jingjiang-jyj-tzgg"',
    ),
    Key(
        "name",
        "string",
        REQUIRED,
        "The column as people know it: agency and column.",
        '"靖江市教育局 通知公告"',
    ),
    Key(
        "parser",
        "string",
        REQUIRED,
        "A registered parser (`govwatch parsers`); `generic` reads any site.",
        '"hanweb_jpaas"',
    ),
    Key(
        "listing_urls",
        "strings",
        REQUIRED,
        "The column's first listing page, http or https (several: one after the other); "
        "these pages and their next pages are always read as listings.",
        '["http://www.jingjiang.gov.cn/col/col6121/index.html"]',
    ),
    Key(
        "max_pages",
        "integer",
        5,
        "Listing pages read per crawl, next pages included; a crawl stops sooner at a page "
        "that lists only notices already stored. At least 1.",
        "10",
        unit="pages",
    ),
    Key(
        "interval",
        "duration",
        REQUIRED,
        "How often `govwatch serve` crawls the seed: a number and a unit, `s`, `m`, `h` or "
        "`d` (`10s`, `30m`, `6h`, `7d`). `govwatch crawl` crawls once, when it is run.",
        '"6h"',
        unit="s, m, h or d",
    ),
    Key(
        "topics",
        "strings",
        (),
        "Labels, stored with the site. Feeds do not select by them: a `[[topic]]` takes a "
        "seed's notices when its `sites` names the seed's `id` (or by keywords, publishers, "
        "categories).",
        '["靖江", "教育"]',
    ),
    Key(
        "encoding",
        "string",
        None,
        "The pages' character encoding, for a site whose pages declare it wrongly (any name "
        "Python knows: `gb18030`, `utf-8` …).",
        '"gb18030"',
        default_text="what each page declares",
    ),
    Key(
        "rate",
        "number",
        1.0,
        "Requests per second to each of the seed's hosts: on a host, a request (a retry "
        "too) starts at most every 1/rate seconds, so `0.5` is one every 2 s. Above 0.",
        "0.5",
        unit="requests/s per host",
    ),
    Key(
        "allowed_hosts",
        "strings",
        (),
        "The hosts the crawl fetches from: listed notices and next pages on other hosts are "
        "skipped, redirects to them not followed.",
        '["www.jingjiang.gov.cn", "jyj.jingjiang.gov.cn"]',
        default_text="the hosts of `listing_urls`",
    ),
    Key(
        "revisit",
        "table",
        None,
        "How often stored notices are fetched again, to see revisions and removals: a "
        "`[revisit]` table of the two keys below.",
        "",
        default_text="the defaults below",
        keys=REVISIT_KEYS,
    ),
    Key(
        "enabled",
        "boolean",
        True,
        "`false` keeps the seed out of `govwatch serve`'s schedule and out of a `govwatch "
        "crawl` without ids; `govwatch crawl ID` still crawls it.",
        "false",
    ),
    Key(
        "baseline",
        "boolean",
        True,
        "The first crawl is quiet: it stores every notice and its `new` event, but only "
        "those published within `baseline_days` make feed items. `false` announces every "
        "notice of the first crawl.",
        "false",
    ),
    Key(
        "baseline_days",
        "integer",
        3,
        "On a quiet first crawl, notices published within this many days (by their own "
        "发布日期 or 发文日期, else the listing's date) still make feed items. 0 or more.",
        "7",
        unit="days",
    ),
    Key(
        "render",
        "boolean",
        False,
        "Listing pages are loaded in headless Chromium (the `chromium` setting) and read once "
        "their scripts have built the list: for a column whose page holds no notices until "
        "scripts run. Notices are still fetched plainly (see `render_notices`).",
        "true",
    ),
    Key(
        "attachments",
        "boolean",
        False,
        "Fetch the files notices link (附件: PDF, DOC/DOCX, WPS, XLS/XLSX/ET, OFD), keep each "
        "once and extract its text: a changed file is a revision of its notice. See "
        "[Attachments](#attachments-govwatch-extract).",
        "true",
    ),
    Key(
        "render_notices",
        "boolean",
        False,
        "Notice pages are loaded in headless Chromium too: for a site whose notices are "
        "written into the page by scripts. Each is then read in full on every visit (a "
        "browser asks no conditional requests).",
        "true",
    ),
    Key(
        "proxy",
        "string",
        None,
        "The proxy the seed's listing pages, listing APIs and notices go through, for a "
        "site that answers only from some networks: `http://`, `https://` or `socks5://` "
        "host and port, with `user:password@` if it needs them (never shown: `govwatch` "
        "prints it as `***@`). Hosts in NO_PROXY are still reached directly.",
        '"socks5://127.0.0.1:1080"',
        default_text="the `proxy` setting (`GOVWATCH_PROXY`); none: direct",
    ),
)

_DEFAULT = defaults(SEED_KEYS)
_REVISIT_DEFAULT = defaults(REVISIT_KEYS)


@dataclass(frozen=True)
class Revisit:
    recent_days: int = _REVISIT_DEFAULT["recent_days"]
    old_every: timedelta = _REVISIT_DEFAULT["old_every"]


@dataclass(frozen=True)
class Seed:
    id: str
    name: str
    parser: str
    listing_urls: tuple[str, ...]
    max_pages: int
    interval: timedelta
    topics: tuple[str, ...]
    encoding: str | None = _DEFAULT["encoding"]
    rate: float = _DEFAULT["rate"]
    allowed_hosts: tuple[str, ...] = _DEFAULT["allowed_hosts"]
    revisit: Revisit = field(default_factory=Revisit)
    enabled: bool = _DEFAULT["enabled"]
    baseline: bool = _DEFAULT["baseline"]
    baseline_days: int = _DEFAULT["baseline_days"]
    render: bool = _DEFAULT["render"]
    render_notices: bool = _DEFAULT["render_notices"]
    attachments: bool = _DEFAULT["attachments"]
    proxy: str | None = _DEFAULT["proxy"]
    path: Path | None = None

    @property
    def hosts(self) -> tuple[str, ...]:
        if self.allowed_hosts:
            return self.allowed_hosts
        return tuple(dict.fromkeys(urlsplit(u).hostname or "" for u in self.listing_urls))


def load_seed(path: Path) -> Seed:
    r = TableReader(path, read_toml(path), SEED_KEYS)
    seed_id = r["id"]
    if not _ID.match(seed_id):
        raise r.fail("id", "use lower-case letters, digits, - and _")
    parser = r["parser"]
    try:
        registry.get(parser)
    except ConfigError as exc:
        raise r.fail("parser", str(exc)) from None
    urls = r["listing_urls"]
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
    if r["max_pages"] < 1:
        raise r.fail("max_pages", "must be at least 1")
    if not (r["rate"] > 0 and math.isfinite(r["rate"])):
        raise r.fail("rate", "must be a positive number")
    if r["baseline_days"] < 0:
        raise r.fail("baseline_days", "must be 0 or more")
    if r["encoding"] is not None:
        try:
            codecs.lookup(r["encoding"])
        except LookupError:
            raise r.fail("encoding", f"unknown encoding {r['encoding']!r}") from None
    if r["proxy"] is not None and (reason := check_proxy(r["proxy"])):
        raise r.fail("proxy", reason)
    revisit = r.table("revisit")
    return Seed(
        id=seed_id,
        name=r["name"],
        parser=parser,
        listing_urls=urls,
        max_pages=r["max_pages"],
        interval=r["interval"],
        topics=r["topics"],
        encoding=r["encoding"],
        rate=r["rate"],
        allowed_hosts=r["allowed_hosts"],
        revisit=Revisit(recent_days=revisit["recent_days"], old_every=revisit["old_every"]),
        enabled=r["enabled"],
        baseline=r["baseline"],
        baseline_days=r["baseline_days"],
        render=r["render"],
        render_notices=r["render_notices"],
        attachments=r["attachments"],
        proxy=r["proxy"],
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


def _string(value: str) -> str:
    """A TOML basic string: JSON's escapes are TOML's, but TOML wants DEL escaped too."""
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")


def _strings(values: Iterable[str]) -> str:
    return "[" + ", ".join(_string(v) for v in values) + "]"


def seed_toml(seed: Seed, comment: Iterable[str] = ()) -> str:
    """The seed file `load_seed` reads back as `seed`, after `comment` lines (# added)."""
    # A newline would end a comment; TOML bans the other controls.
    lines = [f"# {printable(line, replace=' ')}".rstrip() for line in comment]
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
    if seed.render:
        lines.append("render = true")
    if seed.render_notices:
        lines.append("render_notices = true")
    if seed.proxy:
        lines.append(f"proxy = {_string(seed.proxy)}")
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
