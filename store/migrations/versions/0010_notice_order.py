"""An index of the search documents by date: the API's notices, newest first, a page at a
time without sorting every notice (and search's candidates in the same order).

Revision ID: 0010p
Revises: 0008s
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op

revision = "0010p"
down_revision = "0008s"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_search_docs_day_notice_id", "search_docs", ["day", "notice_id"])


def downgrade() -> None:
    op.drop_index("ix_search_docs_day_notice_id", table_name="search_docs")
