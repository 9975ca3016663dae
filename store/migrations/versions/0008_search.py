"""Full-text search: a document per version and the backend's own index of their tokens.

A store that already has versions gets them indexed here, during the upgrade, so search
works as soon as the upgraded store opens; `govwatch search --rebuild` does the same at
any time with the code of its release. What this revision indexes is written out below
(the bigram tokens, the notice's date, a PostgreSQL tsvector's size limit), not imported
from store/search.py: a migration never changes once written, and this one must keep
building the index of its time whatever later releases do to that code. It reads the
versions and notices tables of revision 0005, and attachment_texts where migration 0006a
made it (a version names files only there).

Revision ID: 0008s
Revises: 0005
Create Date: 2026-12-01
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection

revision = "0008s"
down_revision = "0005"
branch_labels = None
depends_on = None

BATCH = 500
MAX_WORD = 64
DATE_KEYS = ("published_date", "issued_date", "written_date")
CHINA_TZ = timezone(timedelta(hours=8))
# A tsvector holds under 1 MB of lexemes (array_to_tsvector stores a broken one beyond):
# the title's and metadata's tokens first, then what fits, 8 bytes of overhead each.
TSVECTOR_BUDGET = 900_000
LEXEME_OVERHEAD = 8

_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_RUNS = re.compile(rf"([{_HAN}]+)|((?:(?![{_HAN}])[^\W_])+)")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")

_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
_versions = sa.table(
    "versions",
    sa.column("notice_id", sa.Integer),
    sa.column("number", sa.Integer),
    sa.column("title", sa.Text),
    sa.column("body", sa.Text),
    sa.column("meta", _JSON),
    sa.column("attachments", _JSON),
    sa.column("fetched_at", sa.DateTime(timezone=True)),
)
_notices = sa.table("notices", sa.column("id", sa.Integer), sa.column("listed_date", sa.Text))
_texts = sa.table(
    "attachment_texts",
    sa.column("id", sa.Integer),
    sa.column("sha256", sa.Text),
    sa.column("text", sa.Text),
)
# A Table (not a lightweight table()): inserting many rows returns their ids in order.
_docs = sa.Table(
    "search_docs",
    sa.MetaData(),
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("notice_id", sa.Integer),
    sa.Column("number", sa.Integer),
    sa.Column("day", sa.Text),
)


def upgrade() -> None:
    op.create_table(
        "search_docs",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("notice_id", sa.Integer, nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("day", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_search_docs"),
        sa.ForeignKeyConstraint(
            ["notice_id", "number"],
            ["versions.notice_id", "versions.number"],
            name="fk_search_docs_notice_id_versions",
        ),
        sa.UniqueConstraint("notice_id", "number", name="uq_search_docs_notice_id_number"),
        sqlite_autoincrement=True,
    )
    conn = op.get_bind()
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql(
            "CREATE VIRTUAL TABLE search_fts USING fts5"
            "(tokens, content='', detail=none, tokenize='ascii')"
        )
    else:
        # A vector that needs TOAST at all (a row over 2 kB) goes out of line whole, not
        # compressed into the row: the rows a GIN match reads for their doc_id stay small.
        conn.exec_driver_sql(
            "CREATE TABLE search_fts (doc_id integer PRIMARY KEY"
            " REFERENCES search_docs (id) ON DELETE CASCADE, tokens tsvector NOT NULL)"
            " WITH (toast_tuple_target = 128)"
        )
        conn.exec_driver_sql("CREATE INDEX ix_search_fts_tokens ON search_fts USING gin (tokens)")
    _index_stored_versions(conn)


def downgrade() -> None:
    op.drop_table("search_fts")
    op.drop_table("search_docs")


def _index_stored_versions(conn: Connection) -> None:
    with_texts = sa.inspect(conn).has_table("attachment_texts")
    source = sa.select(
        _versions.c.notice_id,
        _versions.c.number,
        _versions.c.title,
        _versions.c.body,
        _versions.c.meta,
        _versions.c.attachments,
        _versions.c.fetched_at,
        _notices.c.listed_date,
    ).select_from(_versions.join(_notices, _notices.c.id == _versions.c.notice_id))
    key = sa.tuple_(_versions.c.notice_id, _versions.c.number)
    after = (-1, -1)
    while True:
        stmt = source.where(key > sa.tuple_(*after)).order_by(*key.clauses).limit(BATCH)
        rows = list(conn.execute(stmt))
        if not rows:
            break
        _insert(conn, rows, _file_texts(conn, rows) if with_texts else {})
        after = (rows[-1].notice_id, rows[-1].number)
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("INSERT INTO search_fts (search_fts) VALUES ('optimize')")


def _insert(conn: Connection, rows: Sequence[Any], files: Mapping[str, str]) -> None:
    docs = [{"notice_id": row.notice_id, "number": row.number, "day": _day(row)} for row in rows]
    stmt = sa.insert(_docs).returning(_docs.c.id, sort_by_parameter_order=True)
    ids = conn.execute(stmt, docs).scalars().all()
    found = []
    for row in rows:
        names = [a.get("name", "") for a in row.attachments]
        texts = [files[a["sha256"]] for a in row.attachments if a.get("sha256") in files]
        text = "\n".join([row.title, row.body, *row.meta.values(), *names, *texts])
        found.append(list(dict.fromkeys(_tokens(text))))
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql(
            "INSERT INTO search_fts (rowid, tokens) VALUES (?, ?)",
            [(doc_id, " ".join(words)) for doc_id, words in zip(ids, found, strict=True)],
        )
        return
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


def _file_texts(conn: Connection, rows: Sequence[Any]) -> dict[str, str]:
    """The newest text of each file the versions name, by sha256 (a later row: a newer
    extractor)."""
    wanted = {a["sha256"] for row in rows for a in row.attachments if a.get("sha256")}
    if not wanted:
        return {}
    stmt = sa.select(_texts.c.sha256, _texts.c.text).where(_texts.c.sha256.in_(wanted))
    return {sha: text for sha, text in conn.execute(stmt.order_by(_texts.c.id))}


def _tokens(text: str) -> list[str]:
    """Per run of Han characters every two-character window and its last character; per
    run of other letters and digits the word; after NFKC and lower case."""
    out: list[str] = []
    for han, word in _RUNS.findall(unicodedata.normalize("NFKC", text).lower()):
        if han:
            out.extend(han[k : k + 2] for k in range(len(han) - 1))
            out.append(han[-1])
        else:
            out.append(word[:MAX_WORD])
    return out


def _day(row: Any) -> str:
    """The notice's date: its own, else its listing's, else the day it was fetched in China."""
    for value in [*(row.meta.get(key) for key in DATE_KEYS), row.listed_date]:
        if isinstance(value, str) and _DAY.match(value):
            return value
    fetched: datetime = row.fetched_at
    if fetched.tzinfo is None:  # SQLite keeps UTC without an offset
        fetched = fetched.replace(tzinfo=UTC)
    return fetched.astimezone(CHINA_TZ).date().isoformat()


def _within_tsvector(row: Any, words: list[str]) -> list[str]:
    head = _tokens("\n".join([row.title, "", *row.meta.values()]))
    kept: list[str] = []
    size = 0
    for word in dict.fromkeys([*head, *words]):
        size += len(word.encode()) + LEXEME_OVERHEAD
        if size > TSVECTOR_BUDGET:
            break
        kept.append(word)
    return kept
