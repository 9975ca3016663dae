"""Attachments: their files once per sha256, and their texts per extractor generation.

Revision ID: 0006a
Revises: 0005
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006a"
down_revision = "0005"
branch_labels = None
depends_on = None

# Written out, not imported from store.schema (see 0001).
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "attachment_files",
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("format", sa.Text, nullable=False),
        sa.Column("media_type", sa.Text, nullable=False),
        sa.Column("served_type", sa.Text),
        sa.Column("content", sa.LargeBinary, nullable=False),
        sa.Column("first_seen_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("sha256", name="pk_attachment_files"),
    )
    op.create_table(
        "attachment_texts",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("generation", sa.Text, nullable=False),
        sa.Column("extractor", sa.Text),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("extracted_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["sha256"],
            ["attachment_files.sha256"],
            name="fk_attachment_texts_sha256_attachment_files",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_attachment_texts"),
        sa.UniqueConstraint("sha256", "generation", name="uq_attachment_texts_sha256_generation"),
        sa.CheckConstraint(
            "status IN ('ok', 'needs_ocr', 'unsupported', 'failed', 'timeout', 'encrypted')",
            name="ck_attachment_texts_status",
        ),
    )


def downgrade() -> None:
    op.drop_table("attachment_texts")
    op.drop_table("attachment_files")
