"""Record which parser produced each version, and keep records that re-extraction replaced.

A store written before this revision has no parser version: its versions read as
produced by an unknown (older) parser, so the first page cleaned by this release is
compared by re-cleaning the stored raw page, never by its old record alone.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# Written out, not imported from store.schema (see 0001).
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    # In place: a batch operation would copy every stored page of a big store.
    op.add_column("versions", sa.Column("parser_version", sa.Text))
    op.add_column("versions", sa.Column("content_type", sa.Text))
    op.create_table(
        "extractions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("notice_id", sa.Integer, nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("parser_version", sa.Text),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("meta", JSON, nullable=False),
        sa.Column("attachments", JSON, nullable=False),
        sa.Column("replaced_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["notice_id", "number"],
            ["versions.notice_id", "versions.number"],
            name="fk_extractions_notice_id_versions",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_extractions"),
    )
    op.create_index(
        "ix_extractions_notice_id_number", "extractions", ["notice_id", "number"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_extractions_notice_id_number", table_name="extractions")
    op.drop_table("extractions")
    with op.batch_alter_table("versions") as batch:
        batch.drop_column("content_type")
        batch.drop_column("parser_version")
