"""What the store hands back: small frozen records, never database rows or ORM objects."""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from govwatch.parsers.records import Attachment, Page

OutcomeKind = Literal[
    "new", "revised", "unchanged", "reextracted", "restored", "removed", "gone_pending"
]
# The current parser applied to a stored raw page and its Content-Type: how the store tells
# a change of our cleaning from a change of the page.
Reclean = Callable[[bytes, str | None], Page]
EventKind = Literal["new", "revised", "removed", "restored"]
# How an event kind is named wherever people read it: feed titles ([新] …), pages, tables.
EVENT_LABELS: dict[EventKind, str] = {
    "new": "新",
    "revised": "修订",
    "removed": "撤下",
    "restored": "恢复",
}
NoticeStatus = Literal["active", "removed"]


@dataclass(frozen=True)
class Outcome:
    """What one fetch did to a notice (urlwatch's new/changed/unchanged, plus removals)."""

    kind: OutcomeKind
    version: int | None = None
    changed_fields: tuple[str, ...] = ()


@dataclass(frozen=True)
class NoticeRow:
    id: int
    site_id: str
    url: str
    title: str
    first_seen_at: datetime
    last_seen_at: datetime
    last_checked_at: datetime | None
    listed_date: str | None
    status: NoticeStatus
    gone_count: int
    current_version: int | None
    first_run_id: int | None


@dataclass(frozen=True)
class VersionRow:
    """One stored version; the raw page stays compressed until asked for."""

    number: int
    fetched_at: datetime
    title: str
    content_hash: str
    changed_fields: tuple[str, ...]
    body: str
    meta: dict[str, str]
    attachments: tuple[Attachment, ...]
    raw_compressed: bytes = field(repr=False)
    parser_version: str | None = None
    content_type: str | None = None

    def raw_html(self) -> bytes:
        """The page as fetched, so it can be parsed again with a better parser."""
        return zlib.decompress(self.raw_compressed)


@dataclass(frozen=True)
class EventRow:
    notice_id: int
    kind: EventKind
    url: str
    title: str
    site: str
    site_name: str
    at: datetime
    version: int | None
    changed_fields: tuple[str, ...]
    baseline: bool = False
    """A `new` event of the site's first crawl: history, not news."""


@dataclass(frozen=True)
class ErrorRow:
    run_id: int
    site_id: str
    url: str
    kind: str
    status: int | None
    message: str
    at: datetime


@dataclass(frozen=True)
class FeedEventRow:
    """An event with everything a feed item shows, read in one query.

    `previous_*` is the version before `version`, filled for revisions only, so the item can
    show the diff and what the metadata was.
    """

    event_id: int
    kind: EventKind
    at: datetime
    version: int
    changed_fields: tuple[str, ...]
    notice_id: int
    url: str
    site: str
    site_name: str
    title: str
    body: str
    meta: dict[str, str]
    attachments: tuple[Attachment, ...]
    previous_title: str | None = None
    previous_body: str | None = None
    previous_meta: dict[str, str] | None = None


@dataclass(frozen=True)
class StoredPage:
    """A version's raw page with what re-cleaning it needs."""

    notice_id: int
    number: int
    url: str
    site_id: str
    parser: str
    content_type: str | None
    raw_compressed: bytes = field(repr=False)

    def raw_html(self) -> bytes:
        return zlib.decompress(self.raw_compressed)


HealthStatus = Literal["ok", "empty", "layout_change", "unreachable"]


@dataclass
class SiteYield:
    """What one crawl of a site got out of it: listing pages read in full, answered 304
    (unchanged) and failed, the items the read ones listed, notice pages read in full and
    how many had a body and 信息公开 metadata. Not frozen: a crawl's SiteStats counts
    them as it goes."""

    listing_read: int = 0
    listing_unchanged: int = 0
    listing_items: int = 0
    listing_failed: int = 0
    notices_read: int = 0
    with_body: int = 0
    with_meta: int = 0


@dataclass(frozen=True)
class HealthRow:
    site_id: str
    run_id: int
    at: datetime
    status: HealthStatus
    message: str
    changed: bool
    """The status differs from the site's previous crawl."""
    yielded: SiteYield
