"""Feed GUIDs independent of the serving address: the store's own identity for them.

Events already in the store keep the address-based GUIDs readers have seen: the row
records where they end (`legacy_before`); the first server started after this upgrade
pins the address they were made of (`legacy_base_url`).

Revision ID: 0007g
Revises: 0005
Create Date: 2026-12-01
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from alembic import op

revision = "0007g"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table(
        "feed_identity",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("instance", sa.Text, nullable=False),
        sa.Column("legacy_before", sa.Integer, nullable=False),
        sa.Column("legacy_base_url", sa.Text),
        sa.PrimaryKeyConstraint("id", name="pk_feed_identity"),
    )
    newest = op.get_bind().execute(sa.text("SELECT coalesce(max(id), 0) FROM events")).scalar_one()
    op.bulk_insert(
        table,
        [{"id": 1, "instance": uuid.uuid4().hex[:16], "legacy_before": int(newest) + 1}],
    )


def downgrade() -> None:
    op.drop_table("feed_identity")
