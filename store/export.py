"""Reads for `govwatch export`: every notice (its current version) or every stored version,
as flat rows of named columns, a batch at a time.

The columns, their order and their kinds are `COLUMNS`, the one list the export's formats
and its documentation follow. Their names are the JSON API's (the metadata under the keys
of `govwatch clean`, the notice's date as search and the API compute it, the search index's
`day`). Rows come in order of notice id, then version number, from one query in one read
transaction (one snapshot of the store on PostgreSQL), fetched a batch at a time (a
server-side cursor on PostgreSQL): memory holds a batch, not the store, and the database
reads each row once (a query per batch, each starting after the last key, made
PostgreSQL's planner read the rest of the table for every batch). A notice not yet
fetched has no version, hence nothing to export, and is left out, as the API leaves it out;
a removed notice is kept, with its status.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any, Literal

import sqlalchemy as sa

from govwatch.errors import StoreError
from govwatch.parsers.records import META_KEYS
from govwatch.store import database
from govwatch.store.core import StoreCore
from govwatch.store.filters import NoticeFilter
from govwatch.store.schema import (
    CURRENT_VERSION,
    attachment_texts,
    events,
    notices,
    search_docs,
    sites,
    versions,
)
from govwatch.store.search import attachment_texts_of

Kind = Literal["int", "text", "time", "texts", "files"]
"""int, text, an aware UTC time, a list of texts, a list of attachment files (FILE_FIELDS)."""

COLUMNS: tuple[tuple[str, Kind], ...] = (
    ("notice_id", "int"),
    ("url", "text"),
    ("site", "text"),
    ("site_name", "text"),
    ("title", "text"),
    ("date", "text"),
    ("status", "text"),
    ("removed_at", "time"),
    ("version", "int"),
    ("current_version", "int"),
    ("event", "text"),
    ("changed_fields", "texts"),
    *((key, "text") for key in META_KEYS),
    ("body", "text"),
    ("attachments", "files"),
    ("fetched_at", "time"),
    ("first_seen_at", "time"),
    ("last_checked_at", "time"),
    ("parser_version", "text"),
    ("content_hash", "text"),
)
"""Every row's columns, in order; `int` and `text` columns other than meta keys, `event`,
`removed_at`, `last_checked_at` and `parser_version` are never null."""

FILE_FIELDS = ("name", "url", "sha256", "text_status")
"""An attachment: its link text and URL, the sha256 of the file once fetched, and the
status of its newest text extraction (ok, needs_ocr, …; null until extracted)."""

BATCH = 500

_ANNOUNCED = ("new", "revised")

# The event that announced a version (a version is announced once: the store's unique
# index, so MIN picks the one there is); null for none.
_EVENT = (
    sa.select(sa.func.min(events.c.kind))
    .where(
        events.c.notice_id == versions.c.notice_id,
        events.c.version == versions.c.number,
        events.c.kind.in_(_ANNOUNCED),
    )
    .scalar_subquery()
)

# When a removed notice was last removed; null for an active one (restored included).
_REMOVED_AT = sa.case(
    (
        notices.c.status == "removed",
        sa.select(sa.func.max(events.c.at))
        .where(events.c.notice_id == notices.c.id, events.c.kind == "removed")
        .scalar_subquery(),
    ),
    else_=sa.null(),
)


def export_rows(
    store: StoreCore,
    *,
    site_ids: tuple[str, ...] = (),
    since: date | None = None,
    every_version: bool = False,
    batch: int = BATCH,
) -> Iterator[list[dict[str, Any]]]:
    """Batches of rows (dicts of COLUMNS) of `site_ids` (none: every site) dated on or after
    `since`: one row per notice, its current version, or with `every_version` one per
    stored version, each dated and filtered by its own date."""
    stmt = (
        _select(every_version)
        .where(
            *NoticeFilter(sites=site_ids, since=since).clauses(
                # `|| ''` keeps SQLite off ix_notices_site_id: through it, it would sort the
                # site's rows, bodies and all, where walking the versions in order needs none.
                site_id=notices.c.site_id + "",
                meta=versions.c.meta,
                day=search_docs.c.day,
                notice_id=notices.c.id,
                version=versions.c.number,
            )
        )
        .order_by(versions.c.notice_id, versions.c.number)
    )
    try:
        with store._reader.begin() as conn:
            for rows in conn.execution_options(yield_per=batch).execute(stmt).partitions():
                statuses = attachment_texts_of(conn, rows, attachment_texts.c.status)
                yield [_row(row, statuses) for row in rows]
    except sa.exc.DBAPIError as exc:
        raise StoreError(f"{store.name}: {database.reason(exc, store._url)}") from exc


def _select(every_version: bool) -> sa.Select[Any]:
    on_version = versions.c.notice_id == notices.c.id if every_version else CURRENT_VERSION
    return sa.select(
        notices.c.id.label("notice_id"),
        notices.c.url,
        notices.c.site_id,
        sites.c.name.label("site_name"),
        versions.c.title,
        search_docs.c.day,
        notices.c.status,
        _REMOVED_AT.label("removed_at"),
        versions.c.number,
        notices.c.current_version,
        _EVENT.label("event"),
        versions.c.changed_fields,
        versions.c.meta,
        versions.c.body,
        versions.c.attachments,
        versions.c.fetched_at,
        notices.c.first_seen_at,
        notices.c.last_checked_at,
        versions.c.parser_version,
        versions.c.content_hash,
    ).select_from(
        notices.join(versions, on_version)
        .join(
            search_docs,
            sa.and_(
                search_docs.c.notice_id == versions.c.notice_id,
                search_docs.c.number == versions.c.number,
            ),
        )
        .join(sites, sites.c.id == notices.c.site_id)
    )


def _row(row: Any, statuses: dict[str, str]) -> dict[str, Any]:
    meta = row.meta
    files = [
        {
            "name": a["name"],
            "url": a["url"],
            "sha256": a.get("sha256"),
            "text_status": statuses.get(a.get("sha256") or ""),
        }
        for a in row.attachments
    ]
    return {
        "notice_id": row.notice_id,
        "url": row.url,
        "site": row.site_id,
        "site_name": row.site_name,
        "title": row.title,
        "date": row.day,
        "status": row.status,
        "removed_at": row.removed_at,
        "version": row.number,
        "current_version": row.current_version,
        "event": row.event,
        "changed_fields": list(row.changed_fields),
        **{key: meta.get(key) or None for key in META_KEYS},
        "body": row.body,
        "attachments": files,
        "fetched_at": row.fetched_at,
        "first_seen_at": row.first_seen_at,
        "last_checked_at": row.last_checked_at,
        "parser_version": row.parser_version,
        "content_hash": row.content_hash,
    }
