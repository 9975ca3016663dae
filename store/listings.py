"""Reads for programs (the JSON API): notices a page at a time, events in order, sites.

Notices are filtered by store/filters.NoticeFilter, the one filter search uses too, on
their current version, and ordered newest first by the notice's date (the search index's
`day`, see store/search.py), then id: a page ends at a (day, id) key the next page starts
after, so pages neither repeat nor skip a notice while the crawler adds others. The index
of the search documents by date (migration 0010p) lets a page cost about the rows it
shows. A notice not yet fetched has no version, hence nothing to show, and is left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from govwatch.store.core import StoreCore, from_row
from govwatch.store.filters import NoticeFilter
from govwatch.store.reads import EVENTS
from govwatch.store.rows import EventKind
from govwatch.store.schema import CURRENT_VERSION, events, notices, search_docs, sites, versions


@dataclass(frozen=True)
class NoticeListing:
    id: int
    url: str
    site_id: str
    site_name: str
    title: str
    day: str
    """The notice's date, YYYY-MM-DD (store/filters.notice_day)."""
    status: str
    current_version: int
    first_seen_at: datetime
    last_checked_at: datetime | None
    meta: dict[str, str]


@dataclass(frozen=True)
class ListedEvent:
    id: int
    notice_id: int
    kind: EventKind
    at: datetime
    version: int | None
    changed_fields: tuple[str, ...]
    baseline: bool
    url: str
    site_id: str
    site_name: str
    title: str


@dataclass(frozen=True)
class SiteOverview:
    id: str
    name: str
    parser: str
    topics: tuple[str, ...]
    notices: int
    removed: int
    last_event_at: datetime | None


_CURRENT = sa.and_(
    search_docs.c.notice_id == notices.c.id, search_docs.c.number == notices.c.current_version
)


def list_notices(
    store: StoreCore,
    filters: NoticeFilter,
    *,
    limit: int,
    after: tuple[str, int] | None = None,
) -> list[NoticeListing]:
    """Up to `limit` notices passing `filters`, newest first, after the (day, id) key."""
    stmt = (
        sa.select(
            notices.c.id,
            notices.c.url,
            notices.c.site_id,
            sites.c.name.label("site_name"),
            versions.c.title,
            search_docs.c.day,
            notices.c.status,
            notices.c.current_version,
            notices.c.first_seen_at,
            notices.c.last_checked_at,
            versions.c.meta,
        )
        .select_from(
            notices.join(search_docs, _CURRENT)
            .join(versions, CURRENT_VERSION)
            .join(sites, sites.c.id == notices.c.site_id)
        )
        .where(
            *filters.clauses(
                # `|| ''` keeps SQLite off ix_notices_site_id: through it, it would collect and
                # sort all of a site's notices, where walking the dates stops at `limit`.
                site_id=notices.c.site_id + "",
                meta=versions.c.meta,
                day=search_docs.c.day,
                notice_id=notices.c.id,
                version=notices.c.current_version,
            )
        )
        .order_by(search_docs.c.day.desc(), search_docs.c.notice_id.desc())
        .limit(limit)
    )
    if after is not None:
        # A row value, which the index can seek to (an OR of the two cases it cannot).
        key = sa.tuple_(search_docs.c.day, search_docs.c.notice_id)
        stmt = stmt.where(key < sa.tuple_(*after))
    return store._read(lambda conn: [_listing(row) for row in conn.execute(stmt)])


def _listing(row: Any) -> NoticeListing:
    return from_row(NoticeListing, row, meta=dict(row.meta))


def list_events(
    store: StoreCore,
    *,
    since: datetime | None = None,
    after_id: int = 0,
    sites_wanted: tuple[str, ...] = (),
    kinds: tuple[EventKind, ...] = (),
    limit: int,
) -> list[ListedEvent]:
    """Events at or after `since` with ids above `after_id`, oldest first (a program reads
    on from where it stopped); the title is the one of the event's version."""
    stmt = EVENTS.where(events.c.id > after_id).order_by(events.c.id).limit(limit)
    if since is not None:
        stmt = stmt.where(events.c.at >= since)
    if sites_wanted:
        stmt = stmt.where(notices.c.site_id.in_(sites_wanted))
    if kinds:
        stmt = stmt.where(events.c.kind.in_(kinds))
    return store._read(
        lambda conn: [
            from_row(ListedEvent, row, changed_fields=tuple(row.changed_fields))
            for row in conn.execute(stmt)
        ]
    )


def site_overviews(store: StoreCore) -> list[SiteOverview]:
    """Every site with its notices (all, and removed ones) and its latest event's time."""
    counts = (
        sa.select(
            notices.c.site_id,
            sa.func.count().label("notices"),
            sa.func.count().filter(notices.c.status == "removed").label("removed"),
        )
        .group_by(notices.c.site_id)
        .subquery()
    )
    latest = (
        sa.select(notices.c.site_id, sa.func.max(events.c.at).label("last_event_at"))
        .select_from(events.join(notices, notices.c.id == events.c.notice_id))
        .group_by(notices.c.site_id)
        .subquery()
    )
    stmt = (
        sa.select(
            sites.c.id,
            sites.c.name,
            sites.c.parser,
            sites.c.topics,
            sa.func.coalesce(counts.c.notices, 0).label("notices"),
            sa.func.coalesce(counts.c.removed, 0).label("removed"),
            latest.c.last_event_at,
        )
        .select_from(
            sites.outerjoin(counts, counts.c.site_id == sites.c.id).outerjoin(
                latest, latest.c.site_id == sites.c.id
            )
        )
        .order_by(sites.c.id)
    )

    def work(conn: Connection) -> list[SiteOverview]:
        return [from_row(SiteOverview, row, topics=tuple(row.topics)) for row in conn.execute(stmt)]

    return store._read(work)
