"""Push notifications: the targets topics push to, and one delivery per (event, target).

Revision ID: 0007p
Revises: 0005
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007p"
down_revision = "0005"
branch_labels = None
depends_on = None

# Written out, not imported from store.schema (see 0001).
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "push_targets",
        sa.Column("key", sa.Text, nullable=False),
        sa.Column("label", sa.Text, nullable=False),
        sa.Column("first_event", sa.Integer, nullable=False),
        sa.Column("scanned_to", sa.Integer, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_push_targets"),
    )
    op.create_table(
        "deliveries",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("event_id", sa.Integer, nullable=False),
        sa.Column("target", sa.Text, nullable=False),
        sa.Column("topic_id", sa.Text, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("line", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_at", TIMESTAMP, nullable=False),
        sa.Column("claimed_until", TIMESTAMP),
        sa.Column("last_error", sa.Text),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("sent_at", TIMESTAMP),
        sa.ForeignKeyConstraint(["event_id"], ["events.id"], name="fk_deliveries_event_id_events"),
        sa.ForeignKeyConstraint(
            ["target"], ["push_targets.key"], name="fk_deliveries_target_push_targets"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_deliveries"),
        sa.UniqueConstraint("event_id", "target", name="uq_deliveries_event_id_target"),
        sa.CheckConstraint("status IN ('pending', 'sent', 'failed')", name="ck_deliveries_status"),
    )
    op.create_index("ix_deliveries_status_next_at", "deliveries", ["status", "next_at"])


def downgrade() -> None:
    op.drop_index("ix_deliveries_status_next_at", table_name="deliveries")
    op.drop_table("deliveries")
    op.drop_table("push_targets")
