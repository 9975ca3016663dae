"""Full-text search: a document per version and the backend's own index of their tokens.

A store that already has versions gets them indexed here, during the upgrade (it reads
the versions and notices tables of revision 0005, and attachment_texts only for versions
that name files, which exist only where migration 0006a ran), so search works as soon as
the upgraded store opens; `govwatch search --rebuild` does the same at any time.

Revision ID: 0008s
Revises: 0005
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from govwatch.store import search

revision = "0008s"
down_revision = "0005"
branch_labels = None
depends_on = None


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
    search.create_index(conn)
    search.rebuild(conn)


def downgrade() -> None:
    op.drop_table("search_fts")
    op.drop_table("search_docs")
