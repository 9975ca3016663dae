"""Full-text search over every version: the index, kept in the transaction that writes a
version, searched with filters, rebuilt on demand.

What is found is said in search_text: the index holds bigrams; a query asks it for the
versions holding every term of its words, and `matches` then checks the words exactly.
Each version is a row of `search_docs` (its notice, number and date) and a row of the
backend's own index `search_fts`:
- SQLite: a contentless FTS5 table (`detail=none`: no positions, a third of the size)
  whose rowid is the document id. Rows of a contentless table cannot be deleted without
  their tokens, so a replaced version (a re-extraction) gets a new document and its old
  tokens stay behind under an id no document has any more, harmless, until a rebuild.
- PostgreSQL: `search_fts(doc_id, tokens tsvector)` with a GIN index, the tokens taken as
  lexemes as they are (array_to_tsvector), queried with a tsquery of the same terms.

A version's text includes its attachments' text: the record names each file's sha256,
and the crawl stores a file's text before it writes the version that names it, so the
index reads it then (`attachment_texts`, the newest extraction of each file). A text a
newer extractor reads later from a stored file is indexed with it (index_file_versions).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection

from govwatch.store.core import StoreCore
from govwatch.store.filters import NoticeFilter, notice_day
from govwatch.store.schema import attachment_texts, notices, search_docs, sites, versions
from govwatch.store.search_text import (
    Query,
    Segment,
    document_text,
    matches,
    parse_query,
    snippet,
    tokens,
)

REBUILD_BATCH = 500
"""Versions read per query while the index is rebuilt."""
SEARCH_BATCH = 200
"""Index candidates read per query while hits are collected."""
TEXT_BATCH = 10
"""Fewest candidates whose text is read at once (most candidates are hits)."""

EVERYTHING = NoticeFilter()

_fts = sa.table("search_fts", sa.column("doc_id", sa.Integer), sa.column("tokens"))

_SOURCE = sa.select(
    versions.c.notice_id,
    versions.c.number,
    versions.c.title,
    versions.c.body,
    versions.c.meta,
    versions.c.attachments,
    versions.c.fetched_at,
    notices.c.listed_date,
).select_from(versions.join(notices, notices.c.id == versions.c.notice_id))


def index_version(conn: Connection, notice_id: int, number: int) -> None:
    """(Re)index one version, in the caller's transaction: the store calls it where it
    writes or re-extracts a version, so index and versions commit together."""
    where = sa.and_(versions.c.notice_id == notice_id, versions.c.number == number)
    row = conn.execute(_SOURCE.where(where)).one()
    conn.execute(
        sa.delete(search_docs).where(
            search_docs.c.notice_id == notice_id, search_docs.c.number == number
        )
    )
    _insert(conn, [row])


def file_text(conn: Connection, sha256: str) -> str | None:
    """The text of a file the index reads: its newest extraction's."""
    stmt = (
        sa.select(attachment_texts.c.text)
        .where(attachment_texts.c.sha256 == sha256)
        .order_by(attachment_texts.c.id.desc())
        .limit(1)
    )
    return conn.execute(stmt).scalar_one_or_none()


def index_file_versions(conn: Connection, sha256: str) -> None:
    """(Re)index every version that names a file, in the caller's transaction: a newer
    extractor read another text from it. The versions are found by a scan of their
    attachments, a cost paid only when an upgrade changes what a file says."""
    named = sa.select(versions.c.notice_id, versions.c.number).where(
        sa.cast(versions.c.attachments, sa.Text).contains(sha256)
    )
    for notice_id, number in list(conn.execute(named)):
        index_version(conn, notice_id, number)


def refresh_days(conn: Connection, notice_id: int) -> None:
    """Date a notice's documents again, in the caller's transaction: its listing's date,
    noted after they were indexed, may be the day its versions lacked (notice_day)."""
    dates = sa.select(
        versions.c.number, versions.c.meta, versions.c.fetched_at, notices.c.listed_date
    ).select_from(versions.join(notices, notices.c.id == versions.c.notice_id))
    for row in list(conn.execute(dates.where(versions.c.notice_id == notice_id))):
        conn.execute(
            sa.update(search_docs)
            .where(search_docs.c.notice_id == notice_id, search_docs.c.number == row.number)
            .values(day=notice_day(row.meta, row.listed_date, row.fetched_at))
        )


def rebuild(conn: Connection, progress: Callable[[int, int], None] | None = None) -> int:
    """Index every version afresh, in the caller's transaction; the number indexed."""
    if conn.dialect.name == "sqlite":
        # Every old token goes too, so ids may start again from 1 (see the module).
        conn.exec_driver_sql("INSERT INTO search_fts (search_fts) VALUES ('delete-all')")
        conn.exec_driver_sql("DELETE FROM sqlite_sequence WHERE name = 'search_docs'")
    conn.execute(sa.delete(search_docs))  # PostgreSQL's index rows go with them (CASCADE)
    total = conn.execute(sa.select(sa.func.count()).select_from(versions)).scalar_one()
    done, after = 0, (-1, -1)
    key = sa.tuple_(versions.c.notice_id, versions.c.number)
    while True:
        stmt = _SOURCE.where(key > sa.tuple_(*after)).order_by(*key.clauses)
        rows = list(conn.execute(stmt.limit(REBUILD_BATCH)))
        if not rows:
            break
        _insert(conn, rows)
        done += len(rows)
        after = (rows[-1].notice_id, rows[-1].number)
        if progress is not None:
            progress(done, total)
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("INSERT INTO search_fts (search_fts) VALUES ('optimize')")
    return done


def _insert(conn: Connection, rows: Sequence[Any]) -> None:
    """Documents for `rows` (of _SOURCE), in two statements per table, not two per row."""
    if not rows:
        return
    docs = [
        {
            "notice_id": row.notice_id,
            "number": row.number,
            "day": notice_day(row.meta, row.listed_date, row.fetched_at),
        }
        for row in rows
    ]
    ids = (
        conn.execute(
            sa.insert(search_docs).returning(search_docs.c.id, sort_by_parameter_order=True), docs
        )
        .scalars()
        .all()
    )
    files = attachment_texts_of(conn, rows)
    found = [list(dict.fromkeys(tokens(_text(row, files)))) for row in rows]
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql(
            "INSERT INTO search_fts (rowid, tokens) VALUES (?, ?)",
            [(doc_id, " ".join(words)) for doc_id, words in zip(ids, found, strict=True)],
        )
    else:
        conn.execute(
            sa.text(
                "INSERT INTO search_fts (doc_id, tokens)"
                " VALUES (:doc_id, array_to_tsvector(CAST(:tokens AS text[])))"
            ),
            [
                {"doc_id": doc_id, "tokens": _within_tsvector(row, words)}
                for doc_id, row, words in zip(ids, rows, found, strict=True)
            ],
        )


# A tsvector holds under 1 MB of lexemes. array_to_tsvector does not refuse more: it stores
# a vector in which no query finds anything, so a huge notice could not be found even by
# its title. Keep what fits, the title's and the metadata's tokens first.
_TSVECTOR_BUDGET = 900_000
_LEXEME_OVERHEAD = 8  # the entry header and alignment PostgreSQL adds per lexeme


def _within_tsvector(row: Any, words: list[str]) -> list[str]:
    head = tokens(document_text(row.title, "", row.meta, []))
    kept: list[str] = []
    size = 0
    for word in dict.fromkeys([*head, *words]):
        size += len(word.encode()) + _LEXEME_OVERHEAD
        if size > _TSVECTOR_BUDGET:
            break
        kept.append(word)
    return kept


def attachment_texts_of(
    conn: Connection, rows: Sequence[Any], column: sa.Column[str] = attachment_texts.c.text
) -> dict[str, str]:
    """The newest text (or its other `column`, such as its status) of each file the versions
    `rows` name, by sha256."""
    wanted = {a["sha256"] for row in rows for a in row.attachments if a.get("sha256")}
    if not wanted:
        return {}
    stmt = (
        sa.select(attachment_texts.c.sha256, column)
        .where(attachment_texts.c.sha256.in_(wanted))
        .order_by(attachment_texts.c.id)
    )
    return {sha: value for sha, value in conn.execute(stmt)}  # a later row: a newer extractor


def _file_texts(row: Any, files: dict[str, str]) -> list[str]:
    return [files[a["sha256"]] for a in row.attachments if a.get("sha256") in files]


def _text(row: Any, files: dict[str, str]) -> str:
    """All a version's searchable text: its record and its attachments' text."""
    names = _names(row.attachments)
    return document_text(row.title, row.body, row.meta, names, _file_texts(row, files))


def matching_docs(dialect: str, query: Query) -> sa.Select[Any] | sa.TextualSelect:
    """The ids of the documents holding every term of `query` (candidates: see `matches`)."""
    if dialect == "sqlite":
        terms = " AND ".join(f'"{t.text}"' + ("*" if t.prefix else "") for t in query.terms)
        return (
            sa.text("SELECT rowid FROM search_fts WHERE search_fts MATCH :fts_query")
            .bindparams(fts_query=terms)
            .columns(sa.column("rowid", sa.Integer))
        )
    quoted = (
        "'" + t.text.replace("\\", "\\\\").replace("'", "''") + "'" + (":*" if t.prefix else "")
        for t in query.terms
    )
    tsquery = sa.cast(sa.literal(" & ".join(quoted)), postgresql.TSQUERY)
    return sa.select(_fts.c.doc_id).where(_fts.c.tokens.bool_op("@@")(tsquery))


def matching_versions(
    dialect: str, query: Query, notice_id: sa.ColumnElement[int], number: sa.ColumnElement[int]
) -> sa.ColumnElement[bool]:
    """A condition on a query's version columns: the index has that version as a candidate."""
    docs = sa.select(search_docs.c.notice_id, search_docs.c.number).where(
        search_docs.c.id.in_(matching_docs(dialect, query))
    )
    return sa.tuple_(notice_id, number).in_(docs)


@dataclass(frozen=True)
class SearchHit:
    """A notice found: the newest of its versions that matches, and where it matches."""

    notice_id: int
    url: str
    site_id: str
    site_name: str
    title: str
    day: str
    version: int
    current_version: int | None
    status: str
    snippet: tuple[Segment, ...]


class Search(StoreCore):
    """The store's searches and index rebuild."""

    def search(
        self,
        query: Query | str,
        filters: NoticeFilter = EVERYTHING,
        *,
        limit: int = 20,
        offset: int = 0,
    ) -> list[SearchHit]:
        """Notices whose text (of any version) holds every word of `query`, newest first
        by the notice's date; one hit per notice. ValueError for a query with nothing to
        search (the message is for the user)."""
        if isinstance(query, str):
            query = parse_query(query)
        parsed = query
        wanted = offset + limit

        def work(conn: Connection) -> list[SearchHit]:
            order = _candidates(conn, parsed, filters)
            hits: dict[int, SearchHit] = {}
            start = 0
            while len(hits) < wanted:
                batch = list(conn.execute(order.limit(SEARCH_BATCH).offset(start)))
                unseen = [row.id for row in batch if row.notice_id not in hits]
                # Texts are big: read only about as many as the hits still wanted.
                while unseen and len(hits) < wanted:
                    size = max(wanted - len(hits), TEXT_BATCH)
                    some, unseen = unseen[:size], unseen[size:]
                    texts = conn.execute(_TEXTS.where(search_docs.c.id.in_(some)))
                    rows = {row.id: row for row in texts}
                    files = attachment_texts_of(conn, list(rows.values()))
                    for doc_id in some:
                        row = rows[doc_id]
                        if row.notice_id not in hits and _row_matches(parsed, row, files):
                            hits[row.notice_id] = _hit(parsed, row, files)
                            if len(hits) == wanted:
                                break
                if len(batch) < SEARCH_BATCH:
                    break
                start += SEARCH_BATCH
            return list(hits.values())[offset:]

        return self._read(work)

    def file_texts(self, notice_id: int, number: int) -> list[str]:
        """The text of the files a version names: what search reads besides its record."""

        def work(conn: Connection) -> list[str]:
            key = sa.and_(versions.c.notice_id == notice_id, versions.c.number == number)
            row = conn.execute(sa.select(versions.c.attachments).where(key)).one_or_none()
            return [] if row is None else _file_texts(row, attachment_texts_of(conn, [row]))

        return self._read(work)

    def rebuild_search_index(self, progress: Callable[[int, int], None] | None = None) -> int:
        """Index every version again, in one transaction; the number of versions."""
        return self._run(lambda conn: rebuild(conn, progress))


_same_version = sa.and_(
    versions.c.notice_id == search_docs.c.notice_id, versions.c.number == search_docs.c.number
)

# PostgreSQL: at most this share of the documents matching, the match is read from the
# GIN index first and sorted; above it, the documents are walked newest first and each
# one's tokens tested, until a batch is found.
FEW_MATCH = 0.1


def _candidates(conn: Connection, query: Query, filters: NoticeFilter) -> sa.Select[Any]:
    """The candidates' document ids in hit order: narrow rows, so that sorting many
    candidates (a common word) stays cheap; their text is read for a batch at a time."""
    where = filters.clauses(
        site_id=notices.c.site_id,
        meta=versions.c.meta,
        day=search_docs.c.day,
        notice_id=search_docs.c.notice_id,
        version=search_docs.c.number,
    )
    # Each join costs a lookup per candidate, thousands for a common word: only those
    # the filters need.
    joined: sa.FromClause = search_docs
    if filters.sites:
        joined = joined.join(notices, notices.c.id == search_docs.c.notice_id)
    if filters.publishers or filters.categories:
        joined = joined.join(versions, _same_version)
    docs = matching_docs(conn.dialect.name, query)
    if isinstance(docs, sa.Select) and _few_match(conn, docs):
        # Left to itself the planner walks the documents by date for a word in one in
        # twenty, reading each one's vector from TOAST: ten times the time of the match.
        matched = docs.cte("matched").prefix_with("MATERIALIZED")
        joined = joined.join(matched, matched.c.doc_id == search_docs.c.id)
    else:
        where.append(search_docs.c.id.in_(docs))
    return (
        sa.select(search_docs.c.id, search_docs.c.notice_id)
        .select_from(joined)
        .where(*where)
        # Not by id: a rebuilt index orders exactly as the one kept up to date.
        .order_by(
            search_docs.c.day.desc(),
            search_docs.c.notice_id.desc(),
            search_docs.c.number.desc(),
        )
    )


def _few_match(conn: Connection, docs: sa.Select[Any]) -> bool:
    """Whether PostgreSQL's planner expects at most FEW_MATCH of the documents to match
    (its statistics of the vectors' lexemes; an estimate, not a count)."""
    compiled = docs.compile(dialect=conn.dialect)
    plan = conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + compiled.string, compiled.params)
    expected = float(plan.scalar_one()[0]["Plan"]["Plan Rows"])
    total = conn.execute(
        sa.text("SELECT reltuples FROM pg_class WHERE oid = CAST('search_fts' AS regclass)")
    ).scalar_one()
    return bool(total <= 0 or expected <= FEW_MATCH * total)


_TEXTS = sa.select(
    search_docs.c.id,
    search_docs.c.notice_id,
    search_docs.c.number,
    search_docs.c.day,
    notices.c.url,
    notices.c.site_id,
    notices.c.status,
    notices.c.current_version,
    sites.c.name.label("site_name"),
    versions.c.title,
    versions.c.body,
    versions.c.meta,
    versions.c.attachments,
).select_from(
    search_docs.join(notices, notices.c.id == search_docs.c.notice_id)
    .join(sites, sites.c.id == notices.c.site_id)
    .join(versions, _same_version)
)


def _row_matches(query: Query, row: Any, files: dict[str, str]) -> bool:
    return query.exact or matches(query, _text(row, files))


def _hit(query: Query, row: Any, files: dict[str, str]) -> SearchHit:
    names = _names(row.attachments)
    parts = [row.body, row.title, *row.meta.values(), *names, *_file_texts(row, files)]
    return SearchHit(
        notice_id=row.notice_id,
        url=row.url,
        site_id=row.site_id,
        site_name=row.site_name,
        title=row.title,
        day=row.day,
        version=row.number,
        current_version=row.current_version,
        status=row.status,
        snippet=tuple(snippet(query, parts)),
    )


def _names(attachments: list[dict[str, str]]) -> list[str]:
    return [a.get("name", "") for a in attachments]
