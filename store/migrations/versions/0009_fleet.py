"""The fleet: a next-due time per site, and per-host request slots.

`site_schedule` and `host_slots` exist on both backends (`govwatch serve` schedules from
`site_schedule` on SQLite too; `host_slots` serves the workers on PostgreSQL).

Revision ID: 0009f
Revises: 0005
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009f"
down_revision = "0005"
branch_labels = None
depends_on = None

# Written out, not imported from store.schema (see 0001).
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "site_schedule",
        sa.Column("site_id", sa.Text, nullable=False),
        sa.Column("interval_seconds", sa.Float, nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("next_due", TIMESTAMP, nullable=False),
        sa.Column("claim", sa.Text),
        sa.Column("claimed_at", TIMESTAMP),
        sa.Column("started_at", TIMESTAMP),
        sa.Column("lease_until", TIMESTAMP),
        sa.Column("failures", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_finished", TIMESTAMP),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name="fk_site_schedule_site_id_sites"),
        sa.PrimaryKeyConstraint("site_id", name="pk_site_schedule"),
    )
    op.create_index("ix_site_schedule_next_due", "site_schedule", ["next_due"])
    op.create_table(
        "host_slots",
        sa.Column("host", sa.Text, nullable=False),
        sa.Column("next_slot", sa.Float, nullable=False),
        sa.Column("gap", sa.Float, nullable=False),
        sa.Column("slow_until", sa.Float, nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("host", name="pk_host_slots"),
    )


def downgrade() -> None:
    op.drop_table("host_slots")
    op.drop_index("ix_site_schedule_next_due", table_name="site_schedule")
    op.drop_table("site_schedule")
