"""Attachment files and their texts, and the versions their changes make.

A file is kept once per sha256, whatever notices link it; a version's record names each
attachment's sha256, so a changed file is a changed record (a revision) and the same
bytes never are. A record gaining the sha256 of an attachment it listed without one (the
file fetched for the first time: a store of an earlier release, a fetch that failed) is
no change of the notice: the version is completed in place. Texts are kept per extractor
generation: a newer release adds a text and never a version.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from govwatch.parsers.attachments import Extraction, Format
from govwatch.store.core import record_of
from govwatch.store.file_diff import FileChange, file_changes
from govwatch.store.hashing import content_hash, only_gained_files
from govwatch.store.reextract import replace_record
from govwatch.store.rows import Outcome, VersionRow
from govwatch.store.schema import (
    CURRENT_VERSION,
    attachment_files,
    attachment_texts,
    notices,
    versions,
)
from govwatch.store.search import file_text, index_file_versions
from govwatch.store.writes import NoticeWrites


@dataclass(frozen=True)
class StoredText:
    sha256: str
    generation: str
    extraction: Extraction
    size: int


class Attachments(NoticeWrites):
    """The files notices link, their texts, and versions made by their changes."""

    def has_file(self, sha256: str) -> bool:
        stmt = sa.select(attachment_files.c.sha256).where(attachment_files.c.sha256 == sha256)
        return self._read(lambda conn: conn.execute(stmt).first() is not None)

    def save_file(self, sha256: str, data: bytes, fmt: Format, served_type: str | None) -> None:
        """Keep a file's bytes, once: the same sha256 again writes nothing."""
        stmt = (
            self._insert(attachment_files)
            .values(
                sha256=sha256,
                size=len(data),
                format=fmt.name,
                media_type=fmt.media_type,
                served_type=served_type,
                content=data,
                first_seen_at=self._clock(),
            )
            .on_conflict_do_nothing(index_elements=[attachment_files.c.sha256])
        )
        self._execute(stmt)

    def file_content(self, sha256: str) -> tuple[bytes, str] | None:
        """A kept file's bytes and media type (by content)."""
        stmt = sa.select(attachment_files.c.content, attachment_files.c.media_type).where(
            attachment_files.c.sha256 == sha256
        )
        row = self._read(lambda conn: conn.execute(stmt).first())
        return (row.content, row.media_type) if row else None

    def has_text(self, sha256: str, generation: str) -> bool:
        stmt = sa.select(attachment_texts.c.id).where(
            attachment_texts.c.sha256 == sha256, attachment_texts.c.generation == generation
        )
        return self._read(lambda conn: conn.execute(stmt).first() is not None)

    def save_text(self, sha256: str, generation: str, extraction: Extraction) -> None:
        values = {
            "extractor": extraction.extractor,
            "status": extraction.status,
            "text": extraction.text,
            "message": extraction.message,
            "extracted_at": self._clock(),
        }
        stmt = self._insert(attachment_texts).values(sha256=sha256, generation=generation, **values)
        stmt = stmt.on_conflict_do_update(
            index_elements=[attachment_texts.c.sha256, attachment_texts.c.generation],
            set_=values,
        )

        def work(conn: Connection) -> None:
            indexed = file_text(conn, sha256)
            conn.execute(stmt)
            # A file's first text comes before any version names it (that version's write
            # indexes it); a newer text replaces what the versions naming it were indexed by.
            if indexed is not None and file_text(conn, sha256) != indexed:
                index_file_versions(conn, sha256)

        self._run(work)

    def texts(self, sha256s: list[str]) -> dict[str, StoredText]:
        """The newest text of each file (of the latest generation that extracted it)."""
        stmt = (
            sa.select(
                attachment_texts,
                attachment_files.c.format,
                attachment_files.c.media_type,
                attachment_files.c.size,
            )
            .join(attachment_files)
            .where(attachment_texts.c.sha256.in_(sha256s))
            .order_by(attachment_texts.c.id)
        )
        found: dict[str, StoredText] = {}
        for row in self._read(lambda conn: list(conn.execute(stmt))):
            extraction = Extraction(
                row.format, row.media_type, row.status, row.extractor, row.text, row.message
            )
            found[row.sha256] = StoredText(row.sha256, row.generation, extraction, row.size)
        return found

    def file_changes(self, old: VersionRow, new: VersionRow) -> list[FileChange]:
        """The attachment files added, removed or replaced from `old` to `new`, with texts."""
        shas = [a.sha256 for a in (*old.attachments, *new.attachments) if a.sha256]
        texts = {sha: stored.extraction for sha, stored in self.texts(shas).items()}
        return file_changes(old.attachments, new.attachments, texts)

    def current_files(self, url: str) -> dict[str, str]:
        """Attachment URL → sha256 in the notice's current version (those fetched)."""
        return {a["url"]: a["sha256"] for a in self.current_attachments(url) if a.get("sha256")}

    def current_attachment_urls(self, url: str) -> list[str]:
        """The attachment URLs the notice's current version lists."""
        return [a["url"] for a in self.current_attachments(url)]

    def current_attachments(self, url: str) -> list[dict[str, str]]:
        """The attachments of the notice's current version: name, url, sha256 if fetched."""
        stmt = (
            sa.select(versions.c.attachments)
            .select_from(notices.join(versions, CURRENT_VERSION))
            .where(notices.c.url == url)
        )
        found = self._read(lambda conn: conn.execute(stmt).scalar_one_or_none())
        return list(found or [])

    def record_files(self, url: str, files: dict[str, str], run_id: int | None) -> Outcome:
        """The notice's page is unchanged (HTTP 304) but its attachments were fetched:
        a file that changed makes a revision of the current record with the new sha256s
        (its raw page is the current version's); a file fetched the first time completes
        the version in place; else nothing changes ('unchanged')."""

        def work(conn: Connection) -> Outcome:
            now = self._clock()
            notice = conn.execute(
                sa.select(notices).where(notices.c.url == url).with_for_update()
            ).one()
            current = conn.execute(
                sa.select(versions).where(
                    versions.c.notice_id == notice.id,
                    versions.c.number == notice.current_version,
                )
            ).one()
            old = record_of(current)
            new = {
                **old,
                "attachments": [
                    {**a, "sha256": files[a["url"]]} if a["url"] in files else a
                    for a in old["attachments"]
                ],
            }
            digest = content_hash(new)
            changes: dict[str, Any] = {"last_seen_at": now, "last_checked_at": now, "gone_count": 0}
            if digest == current.content_hash:
                outcome = Outcome("unchanged", current.number)
            elif only_gained_files(old, new):
                replace_record(conn, current, new, digest, current.parser_version, now)
                outcome = Outcome("unchanged", current.number)
            else:
                outcome = self._add_version(
                    conn,
                    notice.id,
                    current,
                    new,
                    digest,
                    current.raw_html,
                    now,
                    run_id,
                    parser_version=current.parser_version,
                    content_type=current.content_type,
                    baseline=False,
                )
                changes["current_version"] = outcome.version
            conn.execute(sa.update(notices).where(notices.c.id == notice.id).values(changes))
            return outcome

        return self._run(work)
