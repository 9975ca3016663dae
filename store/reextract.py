"""Re-extraction by newer parsers: a stored raw page cleaned again replaces its
version's record in place (the replaced record is kept, no event is written)."""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from datetime import datetime
from functools import partial
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from govwatch.errors import GovwatchError
from govwatch.parsers.records import Page
from govwatch.store.core import StoreCore, from_row, record_of
from govwatch.store.hashing import cleaned_record, content_hash
from govwatch.store.rows import Reclean, StoredPage
from govwatch.store.schema import extractions, notices, sites, versions
from govwatch.store.search import index_version


class Reextraction(StoreCore):
    """Versions made by older parser versions, and their re-extraction."""

    def count_stale(self, current: dict[str, str], site: str | None = None) -> int:
        """How many versions `pages_to_reparse` will hand out."""
        stmt = (
            sa.select(sa.func.count())
            .select_from(versions.join(notices).join(sites))
            .where(_stale(current, site))
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
                    _stale(current, site),
                    sa.tuple_(versions.c.notice_id, versions.c.number) > sa.tuple_(*after),
                )
                .order_by(versions.c.notice_id, versions.c.number)
                .limit(batch)
            )
            rows = self._read(partial(_all_rows, stmt))
            if not rows:
                return
            yield [from_row(StoredPage, row, raw_compressed=row.raw_html) for row in rows]
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
                record = with_stored_files(cleaned_record(page), current)
                digest = content_hash(record)
                changed += digest != current.content_hash
                replace_record(conn, current, record, digest, parser_version, now)
            return changed

        return self._run(work)


def _stale(current: dict[str, str], site: str | None) -> sa.ColumnElement[bool]:
    """Versions not made by the current version of their site's parser."""
    made_by = [
        sa.and_(sites.c.parser == name, versions.c.parser_version.is_distinct_from(v))
        for name, v in current.items()
    ]
    where = sa.or_(*made_by) if made_by else sa.false()
    return sa.and_(where, notices.c.site_id == site) if site is not None else where


def reclean_version(
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
        record = with_stored_files(cleaned_record(page), current)
    except (GovwatchError, ValueError, zlib.error):
        return current
    return replace_record(conn, current, record, content_hash(record), parser_version, now)


def with_stored_files(record: dict[str, Any], current: sa.Row[Any]) -> dict[str, Any]:
    """A record cleaned again from a version's raw page, its attachments given the sha256s
    that version has for their URLs (and no other): the raw page cannot say which file was
    fetched, and a file fetched since is a change of the site, not of our cleaning."""
    fetched = {a["url"]: a["sha256"] for a in current.attachments or [] if a.get("sha256")}
    attachments = []
    for entry in record["attachments"]:
        named = {k: v for k, v in entry.items() if k != "sha256"}
        sha = fetched.get(entry["url"])
        attachments.append({**named, "sha256": sha} if sha else named)
    return {**record, "attachments": attachments}


def replace_record(
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
                **record_of(current),
            )
        )
    key = sa.and_(versions.c.notice_id == current.notice_id, versions.c.number == current.number)
    conn.execute(
        sa.update(versions)
        .where(key)
        .values(content_hash=digest, parser_version=parser_version, **record)
    )
    index_version(conn, current.notice_id, current.number)
    return conn.execute(sa.select(versions).where(key)).one()


def _all_rows(stmt: sa.Select[Any], conn: Connection) -> list[sa.Row[Any]]:
    return list(conn.execute(stmt))
