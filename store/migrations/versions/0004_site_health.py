"""Site health: per crawl of a site, what its listing and notices yielded, and its status.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# Written out, not imported from store.schema (see 0001).
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "site_health",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("site_id", sa.Text, nullable=False),
        sa.Column("run_id", sa.Integer, nullable=False),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("changed", sa.Boolean, nullable=False),
        sa.Column("listing_read", sa.Integer, nullable=False),
        sa.Column("listing_unchanged", sa.Integer, nullable=False),
        sa.Column("listing_items", sa.Integer, nullable=False),
        sa.Column("listing_failed", sa.Integer, nullable=False),
        sa.Column("notices_read", sa.Integer, nullable=False),
        sa.Column("with_body", sa.Integer, nullable=False),
        sa.Column("with_meta", sa.Integer, nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["crawl_runs.id"], name="fk_site_health_run_id_crawl_runs"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_site_health"),
        sa.UniqueConstraint("run_id", "site_id", name="uq_site_health_run_id_site_id"),
        sa.CheckConstraint(
            "status IN ('ok', 'empty', 'layout_change', 'unreachable')",
            name="ck_site_health_status",
        ),
    )
    op.create_index("ix_site_health_site_id_id", "site_health", ["site_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_site_health_site_id_id", table_name="site_health")
    op.drop_table("site_health")
