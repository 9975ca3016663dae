"""The mirror's records: notices as a site holds them, requests and replies as the
HTTP layer sees them, and the request log the benchmark reads.

Notices are plain mutable dataclasses on purpose: a test changes a paragraph, a title
or an attachment in place and the next request shows it, just as an editor's change
on a real CMS shows on the next page view.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from govwatch.parsers.records import META_KEYS

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass
class MirrorNotice:
    """One notice as the site's CMS stores it; pages are rendered from it on every request.

    `id` is the CMS's own article id and shapes the URL (digits for TRS and jcms, 32 hex
    for jpaas, 24 hex for the gongkai platform); `meta` uses the canonical keys above;
    `attachments` are (link text, file name) pairs served next to the notice.
    """

    id: str
    title: str
    date: str
    paragraphs: list[str]
    meta: dict[str, str] = field(default_factory=dict)
    attachments: list[tuple[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not _DATE.match(self.date):
            raise ValueError(f"notice {self.id!r}: date must be YYYY-MM-DD, not {self.date!r}")
        unknown = set(self.meta) - set(META_KEYS)
        if unknown:
            raise ValueError(f"notice {self.id!r}: unknown meta keys {sorted(unknown)}")

    @property
    def body(self) -> str:
        """The paragraphs as a cleaner should give them back: one per line."""
        return "\n".join(self.paragraphs)

    @property
    def year(self) -> int:
        return int(self.date[:4])

    @property
    def month(self) -> int:
        return int(self.date[5:7])

    @property
    def day(self) -> int:
        return int(self.date[8:10])


@dataclass(frozen=True)
class Request:
    """An HTTP request as a flow sees it: the raw query is kept because one API (jpaas)
    must tell a UTF-8 from a GBK percent-encoding."""

    method: str
    path: str
    query: str = ""
    form: tuple[tuple[str, str], ...] = ()
    headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def target(self) -> str:
        return f"{self.path}?{self.query}" if self.query else self.path

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@dataclass(frozen=True)
class Reply:
    """What a flow answers. `dynamic` pages (a live view counter) skip conditional
    requests: their bytes differ on every view, so no validator can ever match."""

    status: int
    content_type: str
    body: bytes
    dynamic: bool = False
    headers: tuple[tuple[str, str], ...] = ()
    # When the page was first published (epoch seconds): its Last-Modified until it changes.
    published: int | None = None


@dataclass(frozen=True)
class LogEntry:
    """One line of a site's request log: the body bytes actually sent (0 for 304/HEAD)."""

    method: str
    path: str
    status: int
    bytes: int


@dataclass(frozen=True)
class SiteStats:
    """Counters over a request log, as the benchmark reads them."""

    requests: int
    bytes_sent: int
    by_status: dict[int, int]
    by_method: dict[str, int]

    @property
    def ok(self) -> int:
        return self.by_status.get(200, 0)

    @property
    def not_modified(self) -> int:
        return self.by_status.get(304, 0)

    @property
    def not_found(self) -> int:
        return self.by_status.get(404, 0)

    @classmethod
    def of(cls, log: list[LogEntry]) -> SiteStats:
        by_status: dict[int, int] = {}
        by_method: dict[str, int] = {}
        for entry in log:
            by_status[entry.status] = by_status.get(entry.status, 0) + 1
            by_method[entry.method] = by_method.get(entry.method, 0) + 1
        return cls(len(log), sum(e.bytes for e in log), by_status, by_method)

    def __add__(self, other: SiteStats) -> SiteStats:
        by_status = dict(self.by_status)
        for k, v in other.by_status.items():
            by_status[k] = by_status.get(k, 0) + v
        by_method = dict(self.by_method)
        for verb, n in other.by_method.items():
            by_method[verb] = by_method.get(verb, 0) + n
        return SiteStats(
            self.requests + other.requests, self.bytes_sent + other.bytes_sent, by_status, by_method
        )

    def as_dict(self) -> dict[str, int]:
        out = {"requests": self.requests, "bytes_sent": self.bytes_sent}
        out.update({f"status_{code}": n for code, n in sorted(self.by_status.items())})
        out.update({f"method_{verb}": n for verb, n in sorted(self.by_method.items())})
        return out
