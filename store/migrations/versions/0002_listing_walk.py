"""Remember per site whether the last listing walk was complete.

A walk cut short by a failed listing page must not let the next crawl stop early at the
known pages before the failure: the notices on and after it were never listed.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # In place (see 0005): a batch copy of `sites` is refused by the notices' foreign keys.
    op.add_column(
        "sites",
        sa.Column("listing_complete", sa.Boolean, nullable=False, server_default=sa.true()),
    )


def downgrade() -> None:
    with op.batch_alter_table("sites") as batch:
        batch.drop_column("listing_complete")
