"""What the crawler writes about notices: listed, fetched (a version and its event),
answered 304, gone; and which of them are due a visit."""

from __future__ import annotations

import zlib
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Row

from govwatch.errors import StoreError
from govwatch.parsers.records import Page
from govwatch.store.core import StoreCore, record_of
from govwatch.store.hashing import (
    changed_fields,
    cleaned_record,
    content_hash,
    only_gained_files,
)
from govwatch.store.reextract import reclean_version, replace_record
from govwatch.store.rows import EventKind, Outcome, OutcomeKind, Reclean
from govwatch.store.schema import events, notices, versions
from govwatch.store.search import index_version, refresh_days

_GONE_STATUSES = (404, 410)


class NoticeWrites(StoreCore):
    """A notice's life as the crawler sees it: listed, fetched, unchanged, gone."""

    def mark_listed(
        self, site_id: str, url: str, title: str, listed_date: str | None, run_id: int | None
    ) -> bool:
        """Note that a listing shows `url`; True when the store did not know it yet.

        A new notice has no version until its page is recorded.
        """

        def work(conn: Connection) -> bool:
            now = self._clock()
            created = conn.execute(
                self._new_notice(site_id, url, title, now, run_id, listed_date).returning(
                    notices.c.id
                )
            ).first()
            if created is not None:
                return True
            conn.execute(sa.update(notices).where(notices.c.url == url).values(last_seen_at=now))
            if listed_date is not None:
                dated = conn.execute(
                    sa.update(notices)
                    .where(notices.c.url == url, notices.c.listed_date.is_(None))
                    .values(listed_date=listed_date)
                    .returning(notices.c.id)
                ).scalar_one_or_none()
                if dated is not None:  # the day of a version without a date of its own
                    refresh_days(conn, dated)
            return False

        return self._run(work)

    def record_page(
        self,
        site_id: str,
        url: str,
        page: Page,
        raw_html: bytes,
        run_id: int | None,
        *,
        parser_version: str | None = None,
        content_type: str | None = None,
        reclean: Reclean | None = None,
        baseline: bool = False,
    ) -> Outcome:
        """Store a fetched, cleaned detail page: a new version only when the record changed.

        Reverting to an earlier text is a change too (a new version), and a notice that was
        removed comes back as 'restored'. When the current version was made by another
        parser version, `reclean` (the current parser) reads its stored raw page again:
        if that gives this record, only our cleaning changed and the version is
        re-extracted in place ('reextracted', no event); else the revision's changed
        fields are those between the two pages cleaned alike. `baseline` marks a 'new'
        event as history, not news: no feed item (see Seed.baseline).
        """
        record = cleaned_record(page)
        digest = content_hash(record)
        raw = zlib.compress(raw_html)

        def work(conn: Connection) -> Outcome:
            now = self._clock()
            notice = self._lock_notice(conn, site_id, url, page.title, now, run_id)
            current = None
            if notice.current_version is not None:
                current = conn.execute(
                    sa.select(versions).where(
                        versions.c.notice_id == notice.id,
                        versions.c.number == notice.current_version,
                    )
                ).one()
            changes: dict[str, Any] = {"last_seen_at": now, "last_checked_at": now, "gone_count": 0}
            kind: OutcomeKind = "unchanged"
            if (
                current is not None
                and current.content_hash != digest
                and current.parser_version != parser_version
                and reclean is not None
            ):
                current = reclean_version(conn, current, reclean, parser_version, now)
                kind = "reextracted"
            if (
                current is not None
                and current.content_hash != digest
                and only_gained_files(record_of(current), record)
            ):
                # Files fetched the first time: the version is completed, not revised.
                current = replace_record(conn, current, record, digest, parser_version, now)
            if current is not None and current.content_hash == digest:
                if current.parser_version != parser_version:
                    replace_record(conn, current, record, digest, parser_version, now)
                outcome = Outcome(kind, current.number)
            else:
                outcome = self._add_version(
                    conn,
                    notice.id,
                    current,
                    record,
                    digest,
                    raw,
                    now,
                    run_id,
                    parser_version=parser_version,
                    content_type=content_type,
                    baseline=baseline,
                )
                changes.update(current_version=outcome.version, title=page.title or notice.title)
            if notice.status == "removed":
                changes["status"] = "active"
                self._add_event(conn, notice.id, "restored", outcome.version, (), now, run_id)
                outcome = replace(outcome, kind="restored")
            conn.execute(sa.update(notices).where(notices.c.id == notice.id).values(changes))
            return outcome

        return self._run(work)

    def mark_checked(self, site_id: str, url: str, run_id: int | None) -> Outcome:
        """A 304 for a notice: it is there and unchanged. Resets the gone count; a notice
        that was removed is 'restored' (its content is the current version's)."""

        def work(conn: Connection) -> Outcome:
            now = self._clock()
            notice = self._locked_known(conn, site_id, url)
            changes: dict[str, Any] = {"last_seen_at": now, "last_checked_at": now, "gone_count": 0}
            outcome = Outcome("unchanged", notice.current_version)
            if notice.status == "removed":
                changes["status"] = "active"
                self._add_event(
                    conn, notice.id, "restored", notice.current_version, (), now, run_id
                )
                outcome = Outcome("restored", notice.current_version)
            conn.execute(sa.update(notices).where(notices.c.id == notice.id).values(changes))
            return outcome

        return self._run(work)

    def record_gone(
        self, site_id: str, url: str, status: int, run_id: int | None, threshold: int = 2
    ) -> Outcome:
        """Count a confirmed 404/410; at `threshold` in a row an active notice is 'removed'.

        Every other call answers 'gone_pending', also for a notice already removed. Nothing is
        deleted: versions stay, and a later successful fetch restores the notice.
        """
        if status not in _GONE_STATUSES:
            raise ValueError(f"HTTP {status} does not say a page is gone (404 or 410 does)")

        def work(conn: Connection) -> Outcome:
            now = self._clock()
            notice = self._locked_known(conn, site_id, url)
            gone = notice.gone_count + 1
            changes: dict[str, Any] = {"gone_count": gone, "last_checked_at": now}
            outcome = Outcome("gone_pending", notice.current_version)
            if gone >= threshold and notice.status == "active":
                changes["status"] = "removed"
                self._add_event(conn, notice.id, "removed", notice.current_version, (), now, run_id)
                outcome = Outcome("removed", notice.current_version)
            conn.execute(sa.update(notices).where(notices.c.id == notice.id).values(changes))
            return outcome

        return self._run(work)

    def revisit_due(
        self,
        site_id: str,
        now: datetime,
        *,
        recent_days: int = 30,
        old_every: timedelta = timedelta(days=7),
    ) -> list[str]:
        """URLs to fetch again, least recently checked first.

        Young notices change most, so they are checked every time; older ones every
        `old_every`; a page that answered 404/410 until it is settled (and after, to notice a
        return); a notice never fetched successfully until it is.
        """
        active = notices.c.status == "active"
        stmt = (
            sa.select(notices.c.url)
            .where(
                notices.c.site_id == site_id,
                sa.or_(
                    sa.and_(active, notices.c.first_seen_at >= now - timedelta(days=recent_days)),
                    sa.and_(
                        active,
                        sa.or_(
                            notices.c.last_checked_at.is_(None),
                            notices.c.last_checked_at <= now - old_every,
                        ),
                    ),
                    notices.c.gone_count > 0,
                    notices.c.current_version.is_(None),
                ),
            )
            .order_by(sa.nulls_first(notices.c.last_checked_at.asc()), notices.c.id)
        )
        return self._read(lambda conn: list(conn.execute(stmt).scalars()))

    def _new_notice(
        self,
        site_id: str,
        url: str,
        title: str,
        now: datetime,
        run_id: int | None,
        listed_date: str | None = None,
    ) -> postgresql.Insert | sqlite.Insert:
        """INSERT of a notice without versions that does nothing when the URL is known."""
        return (
            self._insert(notices)
            .values(
                site_id=site_id,
                url=url,
                title=title,
                first_seen_at=now,
                last_seen_at=now,
                listed_date=listed_date,
                status="active",
                gone_count=0,
                first_run_id=run_id,
            )
            .on_conflict_do_nothing(index_elements=[notices.c.url])
        )

    @staticmethod
    def _locked_known(conn: Connection, site_id: str, url: str) -> Row[Any]:
        """The notice row, locked for this transaction; StoreError if unknown."""
        notice = conn.execute(
            sa.select(notices)
            .where(notices.c.url == url, notices.c.site_id == site_id)
            .with_for_update()
        ).first()
        if notice is None:
            raise StoreError(f"{url}: unknown notice of site {site_id}")
        return notice

    def _lock_notice(
        self,
        conn: Connection,
        site_id: str,
        url: str,
        title: str,
        now: datetime,
        run_id: int | None,
    ) -> sa.Row[Any]:
        """The notice row, created if missing, locked until commit (a no-op on SQLite)."""
        conn.execute(self._new_notice(site_id, url, title, now, run_id))
        return conn.execute(sa.select(notices).where(notices.c.url == url).with_for_update()).one()

    def _add_version(
        self,
        conn: Connection,
        notice_id: int,
        current: sa.Row[Any] | None,
        record: dict[str, Any],
        digest: str,
        raw: bytes,
        now: datetime,
        run_id: int | None,
        *,
        parser_version: str | None,
        content_type: str | None,
        baseline: bool,
    ) -> Outcome:
        """Write the version after `current` (None: the first) and its 'new'/'revised' event."""
        kind: EventKind = "new" if current is None else "revised"
        number = 1 if current is None else current.number + 1
        fields = () if current is None else changed_fields(record_of(current), record)
        conn.execute(
            sa.insert(versions).values(
                notice_id=notice_id,
                number=number,
                fetched_at=now,
                run_id=run_id,
                content_hash=digest,
                raw_html=raw,
                changed_fields=list(fields),
                parser_version=parser_version,
                content_type=content_type,
                **record,
            )
        )
        index_version(conn, notice_id, number)
        quiet = baseline and kind == "new"
        self._add_event(conn, notice_id, kind, number, fields, now, run_id, baseline=quiet)
        return Outcome(kind, number, fields)

    @staticmethod
    def _add_event(
        conn: Connection,
        notice_id: int,
        kind: EventKind,
        version: int | None,
        fields: tuple[str, ...],
        at: datetime,
        run_id: int | None,
        *,
        baseline: bool = False,
    ) -> None:
        # The caller holds the notice's lock, so max + 1 cannot be taken twice.
        seq = conn.execute(
            sa.select(sa.func.coalesce(sa.func.max(events.c.seq), 0) + 1).where(
                events.c.notice_id == notice_id
            )
        ).scalar_one()
        conn.execute(
            sa.insert(events).values(
                notice_id=notice_id,
                seq=seq,
                kind=kind,
                version=version,
                changed_fields=list(fields),
                at=at,
                run_id=run_id,
                baseline=baseline,
            )
        )
