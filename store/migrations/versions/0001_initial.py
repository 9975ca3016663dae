"""Initial schema: sites, notices with their versions and events, crawl runs and their errors,
HTTP validators.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# Written out rather than imported from store.schema: a migration must keep meaning what it
# meant when it was written, whatever the schema module says later.
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "sites",
        sa.Column("id", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("parser", sa.Text, nullable=False),
        sa.Column("topics", JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_sites"),
    )
    op.create_table(
        "crawl_runs",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("started_at", TIMESTAMP, nullable=False),
        sa.Column("finished_at", TIMESTAMP),
        sa.Column("site_ids", JSON, nullable=False),
        sa.Column("stats", JSON),
        sa.PrimaryKeyConstraint("id", name="pk_crawl_runs"),
    )
    op.create_table(
        "notices",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("site_id", sa.Text, nullable=False),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("first_seen_at", TIMESTAMP, nullable=False),
        sa.Column("last_seen_at", TIMESTAMP, nullable=False),
        sa.Column("last_checked_at", TIMESTAMP),
        sa.Column("listed_date", sa.Text),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("gone_count", sa.Integer, nullable=False),
        sa.Column("current_version", sa.Integer),
        sa.Column("first_run_id", sa.Integer),
        sa.PrimaryKeyConstraint("id", name="pk_notices"),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name="fk_notices_site_id_sites"),
        sa.ForeignKeyConstraint(
            ["first_run_id"], ["crawl_runs.id"], name="fk_notices_first_run_id_crawl_runs"
        ),
        sa.UniqueConstraint("url", name="uq_notices_url"),
        sa.CheckConstraint("status IN ('active', 'removed')", name="ck_notices_status"),
    )
    op.create_index("ix_notices_site_id", "notices", ["site_id"])
    op.create_table(
        "versions",
        sa.Column("notice_id", sa.Integer, nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("fetched_at", TIMESTAMP, nullable=False),
        sa.Column("run_id", sa.Integer),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("meta", JSON, nullable=False),
        sa.Column("attachments", JSON, nullable=False),
        sa.Column("raw_html", sa.LargeBinary, nullable=False),
        sa.Column("changed_fields", JSON, nullable=False),
        sa.PrimaryKeyConstraint("notice_id", "number", name="pk_versions"),
        sa.ForeignKeyConstraint(
            ["notice_id"], ["notices.id"], name="fk_versions_notice_id_notices"
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["crawl_runs.id"], name="fk_versions_run_id_crawl_runs"
        ),
    )
    op.create_index("ix_versions_notice_id_content_hash", "versions", ["notice_id", "content_hash"])
    op.create_table(
        "events",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("notice_id", sa.Integer, nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("version", sa.Integer),
        sa.Column("changed_fields", JSON, nullable=False),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.Column("run_id", sa.Integer),
        sa.PrimaryKeyConstraint("id", name="pk_events"),
        sa.ForeignKeyConstraint(["notice_id"], ["notices.id"], name="fk_events_notice_id_notices"),
        sa.ForeignKeyConstraint(["run_id"], ["crawl_runs.id"], name="fk_events_run_id_crawl_runs"),
        sa.UniqueConstraint("notice_id", "seq", name="uq_events_notice_id_seq"),
        sa.CheckConstraint(
            "kind IN ('new', 'revised', 'removed', 'restored')", name="ck_events_kind"
        ),
    )
    op.create_index("ix_events_at", "events", ["at"])
    op.create_index(
        "uq_events_notice_id_kind_version",
        "events",
        ["notice_id", "kind", "version"],
        unique=True,
        sqlite_where=sa.text("kind IN ('new', 'revised')"),
        postgresql_where=sa.text("kind IN ('new', 'revised')"),
    )
    op.create_table(
        "fetch_errors",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("run_id", sa.Integer, nullable=False),
        sa.Column("site_id", sa.Text, nullable=False),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("status", sa.Integer),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_fetch_errors"),
        sa.ForeignKeyConstraint(
            ["run_id"], ["crawl_runs.id"], name="fk_fetch_errors_run_id_crawl_runs"
        ),
        sa.UniqueConstraint("run_id", "url", "kind", name="uq_fetch_errors_run_id_url_kind"),
    )
    op.create_table(
        "validators",
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("etag", sa.Text),
        sa.Column("last_modified", sa.Text),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("url", name="pk_validators"),
    )


def downgrade() -> None:
    # Children before the tables they point to.
    for table in (
        "validators",
        "fetch_errors",
        "events",
        "versions",
        "notices",
        "crawl_runs",
        "sites",
    ):
        op.drop_table(table)
