"""The tables, as SQLAlchemy Core: the store's queries and Alembic's autogenerate read them.

Migrations in store/migrations/versions/ are the authority on the database; a test checks
that they build exactly this schema.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect


class UTCDateTime(sa.TypeDecorator[datetime]):
    """Timezone-aware UTC in and out: timestamptz on PostgreSQL, naive UTC text on SQLite.

    SQLite has no time zones, so a value is stored as UTC without an offset (which also
    keeps string comparison chronological) and comes back with UTC attached.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: the store keeps aware UTC times only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


JSON: sa.types.TypeEngine[Any] = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

sites = sa.Table(
    "sites",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("parser", sa.Text, nullable=False),
    sa.Column("topics", JSON, nullable=False),
    # False while the last listing walk stopped at a failed page (see crawler/engine.py).
    sa.Column("listing_complete", sa.Boolean, nullable=False, server_default=sa.true()),
    # False until the site's first crawl that walked its whole listing: until then its
    # old notices are its history, not news (events.baseline).
    sa.Column("baselined", sa.Boolean, nullable=False, server_default=sa.true()),
)

crawl_runs = sa.Table(
    "crawl_runs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("started_at", UTCDateTime, nullable=False),
    sa.Column("finished_at", UTCDateTime),
    sa.Column("site_ids", JSON, nullable=False),
    sa.Column("stats", JSON),
)

notices = sa.Table(
    "notices",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("site_id", sa.Text, sa.ForeignKey("sites.id"), nullable=False, index=True),
    sa.Column("url", sa.Text, nullable=False, unique=True),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("first_seen_at", UTCDateTime, nullable=False),
    sa.Column("last_seen_at", UTCDateTime, nullable=False),
    sa.Column("last_checked_at", UTCDateTime),
    # As the listing printed it (YYYY-MM-DD from the parsers, not always a valid date).
    sa.Column("listed_date", sa.Text),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("gone_count", sa.Integer, nullable=False),
    sa.Column("current_version", sa.Integer),
    sa.Column("first_run_id", sa.Integer, sa.ForeignKey("crawl_runs.id")),
    sa.CheckConstraint("status IN ('active', 'removed')", name="status"),
)

versions = sa.Table(
    "versions",
    metadata,
    sa.Column("notice_id", sa.Integer, sa.ForeignKey("notices.id"), primary_key=True),
    sa.Column("number", sa.Integer, primary_key=True),
    sa.Column("fetched_at", UTCDateTime, nullable=False),
    sa.Column("run_id", sa.Integer, sa.ForeignKey("crawl_runs.id")),
    sa.Column("content_hash", sa.String(64), nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("meta", JSON, nullable=False),
    sa.Column("attachments", JSON, nullable=False),
    sa.Column("raw_html", sa.LargeBinary, nullable=False),
    sa.Column("changed_fields", JSON, nullable=False),
    # `<parser>@<code digest>` that made the record from raw_html; NULL before revision 0003.
    sa.Column("parser_version", sa.Text),
    # The HTTP Content-Type raw_html came with: re-cleaning decodes it as the crawl did.
    sa.Column("content_type", sa.Text),
    # Not unique: a page that goes back to an earlier text is a new version with an old hash.
    sa.Index("ix_versions_notice_id_content_hash", "notice_id", "content_hash"),
)

# A notice joined to its current version: `notices.join(versions, CURRENT_VERSION)`.
CURRENT_VERSION = sa.and_(
    versions.c.notice_id == notices.c.id, versions.c.number == notices.c.current_version
)

# Records a re-extraction replaced in `versions`: what an older parser made of the same raw
# page. Kept, never shown as a change of the notice.
extractions = sa.Table(
    "extractions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("notice_id", sa.Integer, nullable=False),
    sa.Column("number", sa.Integer, nullable=False),
    sa.Column("parser_version", sa.Text),
    sa.Column("content_hash", sa.String(64), nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("meta", JSON, nullable=False),
    sa.Column("attachments", JSON, nullable=False),
    sa.Column("replaced_at", UTCDateTime, nullable=False),
    sa.ForeignKeyConstraint(
        ["notice_id", "number"],
        ["versions.notice_id", "versions.number"],
        name="fk_extractions_notice_id_versions",
    ),
    sa.Index("ix_extractions_notice_id_number", "notice_id", "number"),
)

events = sa.Table(
    "events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("notice_id", sa.Integer, sa.ForeignKey("notices.id"), nullable=False),
    # Per-notice event number: a second writer of the same transition collides here.
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("version", sa.Integer),
    sa.Column("changed_fields", JSON, nullable=False),
    sa.Column("at", UTCDateTime, nullable=False, index=True),
    sa.Column("run_id", sa.Integer, sa.ForeignKey("crawl_runs.id")),
    # A `new` event of a site's first crawl for a notice older than the seed's
    # baseline_days: stored and listed, but no feed item and no push.
    sa.Column("baseline", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.UniqueConstraint("notice_id", "seq"),
    sa.CheckConstraint("kind IN ('new', 'revised', 'removed', 'restored')", name="kind"),
    # A version is announced once; removed/restored may repeat over time, so only these two.
    sa.Index(
        "uq_events_notice_id_kind_version",
        "notice_id",
        "kind",
        "version",
        unique=True,
        sqlite_where=sa.text("kind IN ('new', 'revised')"),
        postgresql_where=sa.text("kind IN ('new', 'revised')"),
    ),
)

fetch_errors = sa.Table(
    "fetch_errors",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("run_id", sa.Integer, sa.ForeignKey("crawl_runs.id"), nullable=False),
    sa.Column("site_id", sa.Text, nullable=False),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("status", sa.Integer),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("at", UTCDateTime, nullable=False),
    # One row per failure kind per URL per run, so a retried write updates instead of adding.
    sa.UniqueConstraint("run_id", "url", "kind"),
)

# One row per crawl of a site: what a healthy crawl of it looks like, and whether this one
# looked like that (see crawler/health.py). `changed`: the status differs from the site's
# previous row, which is what the operator feed announces.
site_health = sa.Table(
    "site_health",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("site_id", sa.Text, nullable=False),
    sa.Column("run_id", sa.Integer, sa.ForeignKey("crawl_runs.id"), nullable=False),
    sa.Column("at", UTCDateTime, nullable=False),
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
    sa.UniqueConstraint("run_id", "site_id"),
    sa.CheckConstraint("status IN ('ok', 'empty', 'layout_change', 'unreachable')", name="status"),
    sa.Index("ix_site_health_site_id_id", "site_id", "id"),
)

validators = sa.Table(
    "validators",
    metadata,
    sa.Column("url", sa.Text, primary_key=True),
    sa.Column("etag", sa.Text),
    sa.Column("last_modified", sa.Text),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

# One row: what names this store's feed items whatever address serves them (see
# store/feed_identity.py). Events before `legacy_before` keep the GUIDs they were served
# with, made of `legacy_base_url`, pinned by the first server after the upgrade.
feed_identity = sa.Table(
    "feed_identity",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("instance", sa.Text, nullable=False),
    sa.Column("legacy_before", sa.Integer, nullable=False),
    sa.Column("legacy_base_url", sa.Text),
)

# When each site is next due for a crawl and which crawl holds it now (store/schedule.py):
# one scheduling model for `govwatch serve` and the fleet of `govwatch worker`s.
site_schedule = sa.Table(
    "site_schedule",
    metadata,
    sa.Column("site_id", sa.Text, sa.ForeignKey("sites.id"), primary_key=True),
    sa.Column("interval_seconds", sa.Float, nullable=False),
    sa.Column("enabled", sa.Boolean, nullable=False),
    sa.Column("next_due", UTCDateTime, nullable=False, index=True),
    # The token of the crawl that holds the site, NULL when none does; a crawl finishes
    # only a claim that is still its own, so a reaped crawl cannot overwrite its successor.
    sa.Column("claim", sa.Text),
    sa.Column("claimed_at", UTCDateTime),
    # When the claimed crawl started (a worker took its job); NULL while it waits.
    sa.Column("started_at", UTCDateTime),
    # In-process claims are renewed while they run and free once this passes; NULL: the
    # claim is a queued job's, freed by the reaper when its worker stops beating.
    sa.Column("lease_until", UTCDateTime),
    # Crawls in a row that raised: the next one is put off longer each time.
    sa.Column("failures", sa.Integer, nullable=False, server_default="0"),
    sa.Column("last_finished", UTCDateTime),
)

# The next free request slot per host across every process on one PostgreSQL: a request
# books the slot and waits for it without holding any lock (crawler/politeness.py). Times
# are seconds on the database's clock, so the workers' clocks play no part.
host_slots = sa.Table(
    "host_slots",
    metadata,
    sa.Column("host", sa.Text, primary_key=True),
    sa.Column("next_slot", sa.Float, nullable=False),
    # The gap the last booking took (the rate, slowed after a 429).
    sa.Column("gap", sa.Float, nullable=False),
    # After a 429 or Retry-After: until then every booking takes SLOW_FACTOR times the gap.
    sa.Column("slow_until", sa.Float, nullable=False, server_default="0"),
)

# One row per indexed version (store/search.py): what full-text search filters and sorts
# on. The tokens live in the backend's own index, `search_fts` (an FTS5 table on SQLite, a
# tsvector with a GIN index on PostgreSQL), keyed by `id`; migrations create it, and
# NATIVE_SEARCH_TABLES keeps it out of the comparison with this metadata.
search_docs = sa.Table(
    "search_docs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("notice_id", sa.Integer, nullable=False),
    sa.Column("number", sa.Integer, nullable=False),
    # The notice's date (store/filters.notice_day), YYYY-MM-DD: range filters and order.
    sa.Column("day", sa.Text, nullable=False),
    sa.ForeignKeyConstraint(
        ["notice_id", "number"],
        ["versions.notice_id", "versions.number"],
        name="fk_search_docs_notice_id_versions",
    ),
    sa.UniqueConstraint("notice_id", "number"),
    # Newest first by date, a page at a time (the API's notices; migration 0010p).
    sa.Index("ix_search_docs_day_notice_id", "day", "notice_id"),
    # Ids are never reused on SQLite: a replaced document's tokens stay in FTS5 under its
    # old id until the next rebuild, and must not become another document's.
    sqlite_autoincrement=True,
)

NATIVE_SEARCH_TABLES = re.compile(r"^search_fts(_\w+)?$")
"""The search index's own tables (FTS5 makes search_fts_data, _idx …): not in metadata."""
QUEUE_TABLES = re.compile(r"^procrastinate_\w+$")
"""The fleet's job queue (procrastinate's schema, migration 0009f): not in metadata."""


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """Alembic's filter: the native search tables and the job queue's are the migrations'
    alone."""
    theirs = (NATIVE_SEARCH_TABLES, QUEUE_TABLES)
    return not (type_ == "table" and name is not None and any(t.match(name) for t in theirs))


# Push notifications (store/deliveries.py): each place a topic pushes to, keyed by a digest
# of its URL as written (secrets stay in the environment), and what is announced to it:
# events after `first_event`, scanned up to `scanned_to`.
push_targets = sa.Table(
    "push_targets",
    metadata,
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("label", sa.Text, nullable=False),
    sa.Column("first_event", sa.Integer, nullable=False),
    sa.Column("scanned_to", sa.Integer, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

# One row per (event, target): the message, made when the event was found, and its fate.
# The unique pair is what keeps a message from being sent twice.
deliveries = sa.Table(
    "deliveries",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("event_id", sa.Integer, sa.ForeignKey("events.id"), nullable=False),
    sa.Column("target", sa.Text, sa.ForeignKey("push_targets.key"), nullable=False),
    sa.Column("topic_id", sa.Text, nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    # The event's line in a digest message.
    sa.Column("line", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("next_at", UTCDateTime, nullable=False),
    # A sender holds the row until then; past it, another may take it (the sender died).
    sa.Column("claimed_until", UTCDateTime),
    sa.Column("last_error", sa.Text),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("sent_at", UTCDateTime),
    sa.UniqueConstraint("event_id", "target"),
    sa.CheckConstraint("status IN ('pending', 'sent', 'failed')", name="status"),
    sa.Index("ix_deliveries_status_next_at", "status", "next_at"),
)

# Attachment files (附件), once per content, whatever notices or URLs link them: the bytes
# as fetched. A version's record names each of its attachments' sha256.
attachment_files = sa.Table(
    "attachment_files",
    metadata,
    sa.Column("sha256", sa.String(64), primary_key=True),
    sa.Column("size", sa.Integer, nullable=False),
    # By content (parsers/attachments/identify.py), not by name or Content-Type.
    sa.Column("format", sa.Text, nullable=False),
    sa.Column("media_type", sa.Text, nullable=False),
    # The Content-Type the site sent with it, often wrong, kept for what it says.
    sa.Column("served_type", sa.Text),
    sa.Column("content", sa.LargeBinary, nullable=False),
    sa.Column("first_seen_at", UTCDateTime, nullable=False),
)

# A file's text, one row per generation of the extractors (their code and libraries): a
# newer release adds a row and shows it; the notices' versions are untouched.
attachment_texts = sa.Table(
    "attachment_texts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("sha256", sa.String(64), sa.ForeignKey("attachment_files.sha256"), nullable=False),
    sa.Column("generation", sa.Text, nullable=False),
    sa.Column("extractor", sa.Text),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("extracted_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("sha256", "generation"),
    sa.CheckConstraint(
        "status IN ('ok', 'needs_ocr', 'unsupported', 'failed', 'timeout', 'encrypted')",
        name="status",
    ),
)
