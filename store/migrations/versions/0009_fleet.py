"""The fleet: a next-due time per site, per-host request slots, and procrastinate's queue.

`site_schedule` and `host_slots` exist on both backends (`govwatch serve` schedules from
`site_schedule` on SQLite too). On PostgreSQL this revision also creates procrastinate's
tables and functions, from the schema file of the pinned version kept beside the
migrations (procrastinate-3.10.0.sql, its `sql/schema.sql` unchanged), so that a database
is brought to the queue's schema like any other, under the store's migration lock, and a
revision never changes once written. Moving to a newer procrastinate is a new revision
that runs the migration files procrastinate ships for the versions in between.

Revision ID: 0009f
Revises: 0005
Create Date: 2026-12-01
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision = "0009f"
down_revision = "0005"
branch_labels = None
depends_on = None

# Written out, not imported from store.schema (see 0001).
TIMESTAMP = sa.DateTime(timezone=True)
PROCRASTINATE_SCHEMA = Path(__file__).parent.parent / "procrastinate-3.10.0.sql"
PROCRASTINATE_TABLES = (
    "procrastinate_events",
    "procrastinate_periodic_defers",
    "procrastinate_jobs",
    "procrastinate_workers",
)
PROCRASTINATE_TYPES = (
    "procrastinate_job_to_defer_v1",
    "procrastinate_job_event_type",
    "procrastinate_job_status",
)
DROP_PROCRASTINATE_FUNCTIONS = """
DO $$
DECLARE f regprocedure;
BEGIN
    FOR f IN SELECT oid::regprocedure FROM pg_proc WHERE proname LIKE 'procrastinate%' LOOP
        EXECUTE 'DROP FUNCTION ' || f || ' CASCADE';
    END LOOP;
END $$
"""


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
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        # At the driver's level, so its `:` are SQL; its `%` doubled, as procrastinate's own
        # schema manager does, since the driver reads placeholders in any statement.
        bind.exec_driver_sql(PROCRASTINATE_SCHEMA.read_text(encoding="utf-8").replace("%", "%%"))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name in PROCRASTINATE_TABLES:
            op.execute(f"DROP TABLE IF EXISTS {name} CASCADE")
        op.get_bind().exec_driver_sql(DROP_PROCRASTINATE_FUNCTIONS.replace("%", "%%"))
        for name in PROCRASTINATE_TYPES:
            op.execute(f"DROP TYPE IF EXISTS {name} CASCADE")
    op.drop_table("host_slots")
    op.drop_index("ix_site_schedule_next_due", table_name="site_schedule")
    op.drop_table("site_schedule")
