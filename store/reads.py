"""Read queries: notices, their history and events, and the event batches of feeds."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from govwatch.errors import StoreError
from govwatch.parsers.records import Attachment
from govwatch.store.core import StoreCore, from_row
from govwatch.store.rows import (
    ErrorRow,
    EventKind,
    EventRow,
    FeedEventRow,
    NoticeRow,
    VersionRow,
)
from govwatch.store.schema import CURRENT_VERSION, events, fetch_errors, notices, sites, versions
from govwatch.store.search import matching_versions
from govwatch.store.search_text import Query

EVENTS = sa.select(
    events.c.id,
    events.c.notice_id,
    events.c.kind,
    events.c.at,
    events.c.version,
    events.c.changed_fields,
    events.c.baseline,
    notices.c.url,
    notices.c.site_id,
    sa.func.coalesce(versions.c.title, notices.c.title).label("title"),
    sites.c.name.label("site_name"),
).select_from(
    events.join(notices, events.c.notice_id == notices.c.id)
    .join(sites, sites.c.id == notices.c.site_id)
    .outerjoin(
        versions,
        sa.and_(versions.c.notice_id == events.c.notice_id, versions.c.number == events.c.version),
    )
)
"""Events with their notice, site and the title of their version (an event without one,
a removal before the first fetch, has the notice's)."""


class Reads(StoreCore):
    """What people and feeds read: sites, failed fetches, notices, versions, events."""

    def site_names(self) -> dict[str, str]:
        """Every site the store knows: id → the name its seed gives it."""
        stmt = sa.select(sites.c.id, sites.c.name).order_by(sites.c.id)
        return self._read(lambda conn: {row.id: row.name for row in conn.execute(stmt)})

    def errors(self, run_id: int) -> list[ErrorRow]:
        stmt = (
            sa.select(fetch_errors)
            .where(fetch_errors.c.run_id == run_id)
            .order_by(fetch_errors.c.at, fetch_errors.c.id)
        )
        return self._read(lambda conn: [from_row(ErrorRow, row) for row in conn.execute(stmt)])

    def notice(self, url: str) -> NoticeRow | None:
        return self._notice_where(notices.c.url == url)

    def notice_by_id(self, notice_id: int) -> NoticeRow | None:
        return self._notice_where(notices.c.id == notice_id)

    def _notice_where(self, where: sa.ColumnElement[bool]) -> NoticeRow | None:
        stmt = sa.select(notices).where(where)
        row = self._read(lambda conn: conn.execute(stmt).first())
        return None if row is None else _notice_row(row)

    # History

    def events(
        self,
        site: str | None = None,
        kind: EventKind | None = None,
        since: datetime | None = None,
        limit: int = 1000,
    ) -> list[EventRow]:
        """Events newest first; `since` is inclusive. The title is the one of that version."""
        stmt = EVENTS.order_by(events.c.at.desc(), events.c.id.desc()).limit(limit)
        if site is not None:
            stmt = stmt.where(notices.c.site_id == site)
        if kind is not None:
            stmt = stmt.where(events.c.kind == kind)
        if since is not None:
            stmt = stmt.where(events.c.at >= since)
        return self._read(
            lambda conn: [
                from_row(EventRow, row, site=row.site_id, changed_fields=tuple(row.changed_fields))
                for row in conn.execute(stmt)
            ]
        )

    def history(self, url: str) -> list[VersionRow]:
        """Every version of a notice, oldest first; StoreError for a URL the store never saw."""

        def work(conn: Connection) -> list[VersionRow]:
            notice_id = self._notice_id(conn, url)
            rows = conn.execute(
                sa.select(versions)
                .where(versions.c.notice_id == notice_id)
                .order_by(versions.c.number)
            )
            return [_version_row(row) for row in rows]

        return self._read(work)

    def current_meta(self, url: str) -> dict[str, str] | None:
        """The 信息公开 metadata of a notice's current version; None before its first."""
        stmt = (
            sa.select(versions.c.meta)
            .select_from(notices.join(versions, CURRENT_VERSION))
            .where(notices.c.url == url)
        )
        meta = self._read(lambda conn: conn.execute(stmt).scalar())
        return None if meta is None else dict(meta)

    def version(self, url: str, number: int) -> VersionRow:
        def work(conn: Connection) -> VersionRow:
            row = conn.execute(
                sa.select(versions).where(
                    versions.c.notice_id == self._notice_id(conn, url),
                    versions.c.number == number,
                )
            ).first()
            if row is None:
                raise StoreError(f"{url}: no version {number}")
            return _version_row(row)

        return self._read(work)

    @staticmethod
    def _notice_id(conn: Connection, url: str) -> int:
        notice_id = conn.execute(sa.select(notices.c.id).where(notices.c.url == url)).scalar()
        if notice_id is None:
            raise StoreError(f"{url}: unknown notice")
        return int(notice_id)

    # Feeds

    def last_event_id(self) -> int:
        """The newest event's id (0 for none): a cheap check of whether anything happened."""
        stmt = sa.select(sa.func.coalesce(sa.func.max(events.c.id), 0))
        return self._read(lambda conn: int(conn.execute(stmt).scalar_one()))

    def feed_events(
        self,
        *,
        kinds: tuple[EventKind, ...],
        site_ids: tuple[str, ...] = (),
        before_id: int | None = None,
        after_id: int | None = None,
        text_any: tuple[str, ...] = (),
        matching: Query | None = None,
        limit: int,
    ) -> list[FeedEventRow]:
        """Events of `kinds` (of `site_ids`; none: every site) with ids between `after_id`
        and `before_id` (both exclusive), newest first, each with its version and, for a
        revision, the version before.

        Keyset paging on the event id, so a reader can walk back batch by batch while the
        crawler adds events. An event without a stored version (a notice removed before it
        was ever fetched) has nothing to show and is left out. `text_any` keeps the events
        whose version's title or body contains one of its strings, ignoring the case of ASCII
        letters (on PostgreSQL of all letters: a caller wanting exactly ASCII must check again).
        `matching` keeps the events whose version the search index has as a candidate for
        the query (the caller checks the words exactly: search_text.matches).
        """
        if not kinds or limit <= 0:
            return []
        current = versions.alias("current")
        previous = versions.alias("previous")
        stmt = (
            sa.select(
                events.c.id,
                events.c.kind,
                events.c.at,
                events.c.version,
                events.c.changed_fields,
                events.c.notice_id,
                notices.c.url,
                notices.c.site_id,
                current.c.title,
                current.c.body,
                current.c.meta,
                current.c.attachments,
                previous.c.title.label("previous_title"),
                previous.c.body.label("previous_body"),
                previous.c.meta.label("previous_meta"),
                sites.c.name.label("site_name"),
            )
            .select_from(
                events.join(notices, notices.c.id == events.c.notice_id)
                .join(sites, sites.c.id == notices.c.site_id)
                .join(
                    current,
                    sa.and_(
                        current.c.notice_id == events.c.notice_id,
                        current.c.number == events.c.version,
                    ),
                )
                .outerjoin(
                    previous,
                    sa.and_(
                        events.c.kind == "revised",
                        previous.c.notice_id == events.c.notice_id,
                        previous.c.number == events.c.version - 1,
                    ),
                )
            )
            .where(events.c.kind.in_(kinds), sa.not_(events.c.baseline))
            .order_by(events.c.id.desc())
            .limit(limit)
        )
        if site_ids:
            # `|| ''` keeps SQLite off ix_notices_site_id: through it, it would collect and sort
            # every event of the site, where walking the events newest first stops at `limit`.
            stmt = stmt.where((notices.c.site_id + "").in_(site_ids))
        if before_id is not None:
            stmt = stmt.where(events.c.id < before_id)
        if after_id is not None:
            stmt = stmt.where(events.c.id > after_id)
        if text_any:
            # SQLite's LIKE already ignores the case of ASCII letters (only of those).
            sqlite = self._engine.dialect.name == "sqlite"
            stmt = stmt.where(
                sa.or_(
                    *(
                        column.contains(text, autoescape=True)
                        if sqlite
                        else column.icontains(text, autoescape=True)
                        for text in text_any
                        for column in (current.c.title, current.c.body)
                    )
                )
            )
        if matching is not None:
            dialect = self._engine.dialect.name
            stmt = stmt.where(
                matching_versions(dialect, matching, current.c.notice_id, current.c.number)
            )
        return self._read(lambda conn: [self._feed_event_row(row) for row in conn.execute(stmt)])

    @staticmethod
    def _feed_event_row(row: Any) -> FeedEventRow:
        # Any: SQLAlchemy types a row of this many columns as a variadic Row.
        return from_row(
            FeedEventRow,
            row,
            event_id=row.id,
            site=row.site_id,
            changed_fields=tuple(row.changed_fields),
            meta=dict(row.meta),
            attachments=_attachments(row.attachments),
            previous_meta=None if row.previous_meta is None else dict(row.previous_meta),
        )


def _version_row(row: sa.Row[Any]) -> VersionRow:
    return from_row(
        VersionRow,
        row,
        changed_fields=tuple(row.changed_fields),
        meta=dict(row.meta),
        attachments=_attachments(row.attachments),
        raw_compressed=row.raw_html,
    )


def _attachments(stored: list[dict[str, str]]) -> tuple[Attachment, ...]:
    return tuple(Attachment(a["name"], a["url"], a.get("sha256")) for a in stored)


def _notice_row(row: sa.Row[Any]) -> NoticeRow:
    return from_row(NoticeRow, row)
