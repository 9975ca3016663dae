"""The versioned store of notices: what was listed, every version of every page, and events.

Every public method is one transaction. Writes can be repeated without harm (the same page
twice is one version, one event), except where counting is the point: start_run opens a new
run and record_gone counts each 404. Several processes may share one database. On
PostgreSQL, writes that concern one notice lock its row first (SELECT ... FOR UPDATE), so two
crawlers serialise on it; the unique constraints catch anything that slips past, and such a
collision (or a serialisation failure or deadlock) is retried from the start. On SQLite every
write transaction is BEGIN IMMEDIATE, which serialises writers outright.
"""

from __future__ import annotations

import random
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import asdict, fields, replace
from datetime import UTC, datetime, timedelta
from functools import partial
from types import TracebackType
from typing import Any, TypeVar, cast

import sqlalchemy as sa
from alembic.util import CommandError
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, Connection, Engine, Row

from govwatch.errors import GovwatchError, StoreError
from govwatch.parsers.records import Attachment, Page
from govwatch.store import database
from govwatch.store.hashing import changed_fields, cleaned_record, content_hash
from govwatch.store.rows import (
    ErrorRow,
    EventKind,
    EventRow,
    FeedEventRow,
    HealthRow,
    HealthStatus,
    NoticeRow,
    NoticeStatus,
    Outcome,
    OutcomeKind,
    Reclean,
    SiteYield,
    StoredPage,
    VersionRow,
)
from govwatch.store.schema import (
    crawl_runs,
    events,
    extractions,
    fetch_errors,
    notices,
    site_health,
    sites,
    validators,
    versions,
)

T = TypeVar("T")

ATTEMPTS = 8
"""Tries of one transaction that lost a race before the error reaches the caller."""

# serialization_failure, deadlock_detected, unique_violation
_RETRY_SQLSTATES = frozenset({"40001", "40P01", "23505"})
_GONE_STATUSES = (404, 410)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Store:
    """A database of sites, notices, their versions and events; open with `Store.open`."""

    def __init__(self, engine: Engine, url: URL, clock: Callable[[], datetime]) -> None:
        self._engine = engine
        self._reader = engine.execution_options(**{database.READ_OPTION: True})
        self._url = url
        self._clock = clock
        self.name = url.render_as_string(hide_password=True)

    @classmethod
    def open(
        cls, url: str, *, clock: Callable[[], datetime] = utcnow, create: bool = True
    ) -> Store:
        """Connect and migrate to the newest schema; StoreError (password masked) if we can't.

        `clock` gives the times written to the store; tests pass a fake one. Without
        `create`, a SQLite file that does not exist is a ConfigError, not a new store.
        """
        try:
            parsed = database.parse_url(url)
        except sa.exc.ArgumentError as exc:
            raise StoreError(
                "not a usable database URL (sqlite:///PATH or postgresql+psycopg://...): "
                + str(exc).splitlines()[0].replace(url, "<url>")
            ) from exc
        if not create:
            database.require_file(parsed)
        engine = database.create_engine(parsed)
        try:
            database.migrate(engine)
        except (sa.exc.SQLAlchemyError, CommandError) as exc:
            engine.dispose()
            masked = parsed.render_as_string(hide_password=True)
            raise StoreError(
                f"cannot open database {masked}: {database.reason(exc, parsed)}"
            ) from exc
        return cls(engine, parsed, clock)

    def close(self) -> None:
        self._engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({self.name!r})"

    # Sites, runs, errors, validators

    def upsert_site(self, site_id: str, name: str, parser: str, topics: list[str]) -> None:
        """Add or update a site; a new one awaits its first (baseline) crawl."""
        stmt = self._insert(sites).values(
            id=site_id, name=name, parser=parser, topics=topics, baselined=False
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=[sites.c.id],
            set_={key: stmt.excluded[key] for key in ("name", "parser", "topics")},
        )
        self._execute(stmt)

    def site_names(self) -> dict[str, str]:
        """Every site the store knows: id → the name its seed gives it."""
        stmt = sa.select(sites.c.id, sites.c.name).order_by(sites.c.id)
        return self._read(lambda conn: {row.id: row.name for row in conn.execute(stmt)})

    def _site_flag(self, site_id: str, column: sa.Column[bool]) -> bool:
        """A site's flag; True for a site not in the store."""
        stmt = sa.select(column).where(sites.c.id == site_id)
        value = self._read(lambda conn: conn.execute(stmt).scalar())
        return value is None or bool(value)

    def _set_site_flag(self, site_id: str, **flag: bool) -> None:
        self._execute(sa.update(sites).where(sites.c.id == site_id).values(**flag))

    def baselined(self, site_id: str) -> bool:
        """Whether the site has had its first whole crawl."""
        return self._site_flag(site_id, sites.c.baselined)

    def finish_baseline(self, site_id: str) -> None:
        self._set_site_flag(site_id, baselined=True)

    def listing_complete(self, site_id: str) -> bool:
        """Whether the site's last listing walk reached its end."""
        return self._site_flag(site_id, sites.c.listing_complete)

    def set_listing_complete(self, site_id: str, complete: bool) -> None:
        self._set_site_flag(site_id, listing_complete=complete)

    def start_run(self, site_ids: list[str]) -> int:
        stmt = (
            sa.insert(crawl_runs)
            .values(started_at=self._clock(), site_ids=site_ids)
            .returning(crawl_runs.c.id)
        )
        return self._run(lambda conn: int(conn.execute(stmt).scalar_one()))

    def finish_run(self, run_id: int, stats: dict[str, Any]) -> None:
        stmt = (
            sa.update(crawl_runs)
            .where(crawl_runs.c.id == run_id)
            .values(finished_at=self._clock(), stats=stats)
        )

        def work(conn: Connection) -> None:
            if conn.execute(stmt).rowcount == 0:
                raise StoreError(f"unknown crawl run {run_id}")

        self._run(work)

    def record_error(
        self,
        run_id: int,
        site_id: str,
        url: str,
        kind: str,
        message: str,
        status: int | None = None,
    ) -> None:
        """Log a failed fetch or parse; the same failure again in one run updates its row."""
        values = {"site_id": site_id, "status": status, "message": message, "at": self._clock()}
        stmt = self._insert(fetch_errors).values(run_id=run_id, url=url, kind=kind, **values)
        stmt = stmt.on_conflict_do_update(
            index_elements=[fetch_errors.c.run_id, fetch_errors.c.url, fetch_errors.c.kind],
            set_={key: stmt.excluded[key] for key in values},
        )
        self._execute(stmt)

    def errors(self, run_id: int) -> list[ErrorRow]:
        stmt = (
            sa.select(fetch_errors)
            .where(fetch_errors.c.run_id == run_id)
            .order_by(fetch_errors.c.at, fetch_errors.c.id)
        )
        return self._read(
            lambda conn: [
                ErrorRow(
                    run_id=row.run_id,
                    site_id=row.site_id,
                    url=row.url,
                    kind=row.kind,
                    status=row.status,
                    message=row.message,
                    at=row.at,
                )
                for row in conn.execute(stmt)
            ]
        )

    def get_validators(self, url: str) -> tuple[str | None, str | None]:
        """(ETag, Last-Modified) from the last fetch of `url`, for a conditional request."""
        stmt = sa.select(validators.c.etag, validators.c.last_modified).where(
            validators.c.url == url
        )
        row = self._read(lambda conn: conn.execute(stmt).first())
        return (row.etag, row.last_modified) if row else (None, None)

    def save_validators(self, url: str, etag: str | None, last_modified: str | None) -> None:
        values = {"etag": etag, "last_modified": last_modified, "updated_at": self._clock()}
        stmt = self._insert(validators).values(url=url, **values)
        stmt = stmt.on_conflict_do_update(
            index_elements=[validators.c.url],
            set_={key: stmt.excluded[key] for key in values},
        )
        self._execute(stmt)

    # Notices

    def known_urls(self, site_id: str) -> set[str]:
        stmt = sa.select(notices.c.url).where(notices.c.site_id == site_id)
        return self._read(lambda conn: set(conn.execute(stmt).scalars()))

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
            conn.execute(
                sa.update(notices)
                .where(notices.c.url == url)
                .values(
                    last_seen_at=now,
                    listed_date=sa.func.coalesce(notices.c.listed_date, listed_date),
                )
            )
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
                current = self._reextract(conn, current, reclean, parser_version, now)
                kind = "reextracted"
            if current is not None and current.content_hash == digest:
                if current.parser_version != parser_version:
                    self._reextract_as(conn, current, record, digest, parser_version, now)
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

    def notice(self, url: str) -> NoticeRow | None:
        stmt = sa.select(notices).where(notices.c.url == url)
        row = self._read(lambda conn: conn.execute(stmt).first())
        return None if row is None else _notice_row(row)

    # Site health

    def record_health(
        self, run_id: int, site_id: str, status: HealthStatus, message: str, yielded: SiteYield
    ) -> bool:
        """Keep one crawl's health of a site; True when its status differs from the site's
        previous crawl (no previous crawl counts as healthy)."""

        def work(conn: Connection) -> bool:
            previous = conn.execute(
                sa.select(site_health.c.status)
                .where(site_health.c.site_id == site_id, site_health.c.run_id != run_id)
                .order_by(site_health.c.id.desc())
                .limit(1)
            ).scalar()
            changed = (previous or "ok") != status
            values = {
                "at": self._clock(),
                "status": status,
                "message": message,
                "changed": changed,
                **asdict(yielded),
            }
            stmt = self._insert(site_health).values(run_id=run_id, site_id=site_id, **values)
            conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=[site_health.c.run_id, site_health.c.site_id],
                    set_={key: stmt.excluded[key] for key in values},
                )
            )
            return changed

        return self._run(work)

    def healthy_yields(self, site_id: str, limit: int = 10) -> list[SiteYield]:
        """What the site's last `limit` healthy crawls yielded, newest first."""
        stmt = (
            sa.select(site_health)
            .where(site_health.c.site_id == site_id, site_health.c.status == "ok")
            .order_by(site_health.c.id.desc())
            .limit(limit)
        )
        return self._read(lambda conn: [_health_row(r).yielded for r in conn.execute(stmt)])

    def latest_health(self) -> dict[str, HealthRow]:
        """Each site's health at its last crawl."""
        last = (
            sa.select(sa.func.max(site_health.c.id))
            .group_by(site_health.c.site_id)
            .scalar_subquery()
        )
        stmt = sa.select(site_health).where(site_health.c.id.in_(last))
        return self._read(
            lambda conn: {row.site_id: _health_row(row) for row in conn.execute(stmt)}
        )

    def health_changes(self, limit: int = 50) -> list[HealthRow]:
        """Crawls whose health differed from the crawl before, newest first: when a site
        broke and when it came back, once each, however many crawls it stayed that way."""
        stmt = (
            sa.select(site_health)
            .where(site_health.c.changed)
            .order_by(site_health.c.id.desc())
            .limit(limit)
        )
        return self._read(lambda conn: [_health_row(row) for row in conn.execute(stmt)])

    # Re-extraction by newer parsers

    def _stale(self, current: dict[str, str], site: str | None) -> sa.ColumnElement[bool]:
        """Versions not made by the current version of their site's parser."""
        made_by = [
            sa.and_(sites.c.parser == name, versions.c.parser_version.is_distinct_from(v))
            for name, v in current.items()
        ]
        where = sa.or_(*made_by) if made_by else sa.false()
        return sa.and_(where, notices.c.site_id == site) if site is not None else where

    def count_stale(self, current: dict[str, str], site: str | None = None) -> int:
        """How many versions `pages_to_reparse` will hand out."""
        stmt = (
            sa.select(sa.func.count())
            .select_from(versions.join(notices).join(sites))
            .where(self._stale(current, site))
        )
        return self._read(lambda conn: int(conn.execute(stmt).scalar_one()))

    def pages_to_reparse(
        self, current: dict[str, str], site: str | None = None, batch: int = 200
    ) -> Iterator[list[StoredPage]]:
        """The raw pages of versions made by another parser version than `current` says
        (parser name → version) for their site, in batches, oldest notice first. Batches
        are read by key, so re-extracting a batch before reading the next is safe."""
        after = (0, 0)
        while True:
            stmt = (
                sa.select(
                    versions.c.notice_id,
                    versions.c.number,
                    versions.c.content_type,
                    versions.c.raw_html,
                    notices.c.url,
                    notices.c.site_id,
                    sites.c.parser,
                )
                .select_from(versions.join(notices).join(sites))
                .where(
                    self._stale(current, site),
                    sa.tuple_(versions.c.notice_id, versions.c.number) > sa.tuple_(*after),
                )
                .order_by(versions.c.notice_id, versions.c.number)
                .limit(batch)
            )
            rows = self._read(partial(_all_rows, stmt))
            if not rows:
                return
            yield [
                StoredPage(
                    notice_id=row.notice_id,
                    number=row.number,
                    url=row.url,
                    site_id=row.site_id,
                    parser=row.parser,
                    content_type=row.content_type,
                    raw_compressed=row.raw_html,
                )
                for row in rows
            ]
            after = (rows[-1].notice_id, rows[-1].number)

    def reextract(self, pages: list[tuple[StoredPage, Page, str]]) -> int:
        """Store what a newer parser (the version string given) made of stored pages, in
        one transaction: the records replaced are kept, no event is written. Returns how
        many records changed."""

        def work(conn: Connection) -> int:
            now = self._clock()
            changed = 0
            for stored, page, parser_version in pages:
                current = conn.execute(
                    sa.select(versions).where(
                        versions.c.notice_id == stored.notice_id,
                        versions.c.number == stored.number,
                    )
                ).one()
                record = cleaned_record(page)
                digest = content_hash(record)
                changed += digest != current.content_hash
                self._reextract_as(conn, current, record, digest, parser_version, now)
            return changed

        return self._run(work)

    # Reading history

    def events(
        self,
        site: str | None = None,
        kind: EventKind | None = None,
        since: datetime | None = None,
        limit: int = 1000,
    ) -> list[EventRow]:
        """Events newest first; `since` is inclusive. The title is the one of that version."""
        stmt = (
            sa.select(
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
            )
            .select_from(
                events.join(notices, events.c.notice_id == notices.c.id)
                .join(sites, sites.c.id == notices.c.site_id)
                .outerjoin(
                    versions,
                    sa.and_(
                        versions.c.notice_id == events.c.notice_id,
                        versions.c.number == events.c.version,
                    ),
                )
            )
            .order_by(events.c.at.desc(), events.c.id.desc())
            .limit(limit)
        )
        if site is not None:
            stmt = stmt.where(notices.c.site_id == site)
        if kind is not None:
            stmt = stmt.where(events.c.kind == kind)
        if since is not None:
            stmt = stmt.where(events.c.at >= since)
        return self._read(
            lambda conn: [
                EventRow(
                    notice_id=row.notice_id,
                    kind=cast(EventKind, row.kind),
                    url=row.url,
                    title=row.title,
                    site=row.site_id,
                    site_name=row.site_name,
                    at=row.at,
                    version=row.version,
                    changed_fields=tuple(row.changed_fields),
                    baseline=row.baseline,
                )
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
            .select_from(
                notices.join(
                    versions,
                    sa.and_(
                        versions.c.notice_id == notices.c.id,
                        versions.c.number == notices.c.current_version,
                    ),
                )
            )
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

    # Plumbing

    def _run(self, work: Callable[[Connection], T]) -> T:
        """Run `work` in a write transaction, again from the start when it lost a race."""
        return self._transaction(self._engine, work)

    def _read(self, work: Callable[[Connection], T]) -> T:
        return self._transaction(self._reader, work)

    def _execute(self, stmt: sa.Executable) -> None:
        self._run(lambda conn: conn.execute(stmt))

    def _transaction(self, engine: Engine, work: Callable[[Connection], T]) -> T:
        attempt = 1
        while True:
            try:
                with engine.begin() as conn:
                    return work(conn)
            except sa.exc.DBAPIError as exc:
                sqlstate = getattr(exc.orig, "sqlstate", None)
                if attempt < ATTEMPTS and sqlstate in _RETRY_SQLSTATES:
                    time.sleep(random.uniform(0.005, 0.02) * attempt)
                    attempt += 1
                    continue
                raise StoreError(f"{self.name}: {database.reason(exc, self._url)}") from exc

    def _insert(self, table: sa.Table) -> postgresql.Insert | sqlite.Insert:
        """INSERT with ON CONFLICT, which both backends spell the same way."""
        if self._engine.dialect.name == "postgresql":
            return postgresql.insert(table)
        return sqlite.insert(table)

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
        fields = () if current is None else changed_fields(_record_of(current), record)
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
        quiet = baseline and kind == "new"
        self._add_event(conn, notice_id, kind, number, fields, now, run_id, baseline=quiet)
        return Outcome(kind, number, fields)

    def _reextract(
        self,
        conn: Connection,
        current: sa.Row[Any],
        reclean: Reclean,
        parser_version: str | None,
        now: datetime,
    ) -> sa.Row[Any]:
        """The stored version as the current parser reads its raw page; the row as it was
        when the page can no longer be cleaned (it then compares as before)."""
        try:
            page = reclean(zlib.decompress(current.raw_html), current.content_type)
            record = cleaned_record(page)
        except (GovwatchError, ValueError, zlib.error):
            return current
        return self._reextract_as(conn, current, record, content_hash(record), parser_version, now)

    @staticmethod
    def _reextract_as(
        conn: Connection,
        current: sa.Row[Any],
        record: dict[str, Any],
        digest: str,
        parser_version: str | None,
        now: datetime,
    ) -> sa.Row[Any]:
        """Replace a version's record by what `parser_version` makes of the same raw page,
        keeping the replaced record; no event: the notice did not change."""
        if digest != current.content_hash:
            conn.execute(
                sa.insert(extractions).values(
                    notice_id=current.notice_id,
                    number=current.number,
                    parser_version=current.parser_version,
                    content_hash=current.content_hash,
                    replaced_at=now,
                    **_record_of(current),
                )
            )
        key = sa.and_(
            versions.c.notice_id == current.notice_id, versions.c.number == current.number
        )
        conn.execute(
            sa.update(versions)
            .where(key)
            .values(content_hash=digest, parser_version=parser_version, **record)
        )
        return conn.execute(sa.select(versions).where(key)).one()

    @staticmethod
    def _notice_id(conn: Connection, url: str) -> int:
        notice_id = conn.execute(sa.select(notices.c.id).where(notices.c.url == url)).scalar()
        if notice_id is None:
            raise StoreError(f"{url}: unknown notice")
        return int(notice_id)

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

    # --- queries for feeds ---
    # Read-only queries the feeds and the server use; nothing above depends on them.

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
        return self._read(lambda conn: [self._feed_event_row(row) for row in conn.execute(stmt)])

    def notice_by_id(self, notice_id: int) -> NoticeRow | None:
        stmt = sa.select(notices).where(notices.c.id == notice_id)
        row = self._read(lambda conn: conn.execute(stmt).first())
        return None if row is None else _notice_row(row)

    @staticmethod
    def _feed_event_row(row: Any) -> FeedEventRow:
        # Any: SQLAlchemy types a row of this many columns as a variadic Row.
        return FeedEventRow(
            event_id=row.id,
            kind=cast(EventKind, row.kind),
            at=row.at,
            version=row.version,
            changed_fields=tuple(row.changed_fields),
            notice_id=row.notice_id,
            url=row.url,
            site=row.site_id,
            site_name=row.site_name,
            title=row.title,
            body=row.body,
            meta=dict(row.meta),
            attachments=tuple(Attachment(name=a["name"], url=a["url"]) for a in row.attachments),
            previous_title=row.previous_title,
            previous_body=row.previous_body,
            previous_meta=None if row.previous_meta is None else dict(row.previous_meta),
        )

    # --- end of queries for feeds ---


def _all_rows(stmt: sa.Select[Any], conn: Connection) -> list[sa.Row[Any]]:
    return list(conn.execute(stmt))


def _health_row(row: sa.Row[Any]) -> HealthRow:
    return HealthRow(
        site_id=row.site_id,
        run_id=row.run_id,
        at=row.at,
        status=cast(HealthStatus, row.status),
        message=row.message,
        changed=row.changed,
        yielded=SiteYield(**{f.name: getattr(row, f.name) for f in fields(SiteYield)}),
    )


def _record_of(version: sa.Row[Any]) -> dict[str, Any]:
    """A stored version as the cleaned record it was hashed from."""
    return {
        "title": version.title,
        "body": version.body,
        "meta": version.meta,
        "attachments": version.attachments,
    }


def _version_row(row: sa.Row[Any]) -> VersionRow:
    return VersionRow(
        number=row.number,
        fetched_at=row.fetched_at,
        title=row.title,
        content_hash=row.content_hash,
        changed_fields=tuple(row.changed_fields),
        body=row.body,
        meta=dict(row.meta),
        attachments=tuple(Attachment(name=a["name"], url=a["url"]) for a in row.attachments),
        raw_compressed=row.raw_html,
        parser_version=row.parser_version,
        content_type=row.content_type,
    )


def _notice_row(row: sa.Row[Any]) -> NoticeRow:
    return NoticeRow(
        id=row.id,
        site_id=row.site_id,
        url=row.url,
        title=row.title,
        first_seen_at=row.first_seen_at,
        last_seen_at=row.last_seen_at,
        last_checked_at=row.last_checked_at,
        listed_date=row.listed_date,
        status=cast(NoticeStatus, row.status),
        gone_count=row.gone_count,
        current_version=row.current_version,
        first_run_id=row.first_run_id,
    )
