"""A quiet first crawl: `new` events of a site's first crawl are marked baseline.

Sites already in the store have had their first crawl: they start baselined.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ALTER TABLE ADD COLUMN, which SQLite does in place: a batch operation would
    # copy the table and drop the old one, which the notices' foreign keys forbid.
    op.add_column(
        "sites", sa.Column("baselined", sa.Boolean, nullable=False, server_default=sa.true())
    )
    op.add_column(
        "events", sa.Column("baseline", sa.Boolean, nullable=False, server_default=sa.false())
    )


def downgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.drop_column("baseline")
    with op.batch_alter_table("sites") as batch:
        batch.drop_column("baselined")
