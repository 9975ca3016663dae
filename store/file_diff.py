"""What a revision did to a notice's attachment files: added, removed or replaced, and the
text of each replaced file diffed like a body (a spreadsheet row by row, per sheet)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from govwatch.parsers.attachments import Extraction
from govwatch.parsers.records import Attachment
from govwatch.store.diff import BodyDiff, diff_bodies, to_json, to_unified

Change = Literal["added", "removed", "replaced"]
SCANNED = "扫描件，未提取文字"
"""What a file without a text layer shows instead of its text."""


def shown_text(extraction: Extraction | None) -> str:
    """A file's text as a diff or a page shows it: a scan or a failure says so."""
    if extraction is None:
        return "（未提取文字）"
    if extraction.status == "needs_ocr":
        return SCANNED
    if extraction.status != "ok":
        return f"（未提取文字：{extraction.status}）"
    return extraction.text


@dataclass(frozen=True)
class FileChange:
    change: Change
    name: str
    url: str
    old_sha256: str | None
    new_sha256: str | None
    old: Extraction | None
    new: Extraction | None

    def diff(self) -> BodyDiff:
        old = shown_text(self.old) if self.old_sha256 else ""
        new = shown_text(self.new) if self.new_sha256 else ""
        return diff_bodies(old, new)

    def to_json(self) -> dict[str, object]:
        return {
            "change": self.change,
            "name": self.name,
            "url": self.url,
            "old_sha256": self.old_sha256,
            "new_sha256": self.new_sha256,
            "text": to_json(self.diff()),
        }

    def unified(self) -> str:
        head = f"附件 {self.change}: {self.name} <{self.url}>"
        body = to_unified(
            self.diff(),
            old_label=f"{self.name} {(self.old_sha256 or '-')[:12]}",
            new_label=f"{self.name} {(self.new_sha256 or '-')[:12]}",
        )
        return f"{head}\n{body}".rstrip("\n")


def file_changes(
    old: Sequence[Attachment], new: Sequence[Attachment], texts: Mapping[str, Extraction]
) -> list[FileChange]:
    """The attachment files that differ between two versions, matched by URL, in the new
    version's order, then the removed ones; `texts` maps sha256 to the file's text."""
    before = {a.url: a for a in old}
    after = {a.url: a for a in new}
    changes: list[FileChange] = []
    for url, now in after.items():
        was = before.get(url)
        if was is None:
            if now.sha256:
                changes.append(_change("added", now, None, now.sha256, texts))
        elif was.sha256 and now.sha256 and was.sha256 != now.sha256:
            changes.append(_change("replaced", now, was.sha256, now.sha256, texts))
    for url, was in before.items():
        if url not in after and was.sha256:
            changes.append(_change("removed", was, was.sha256, None, texts))
    return changes


def _change(
    change: Change,
    attachment: Attachment,
    old: str | None,
    new: str | None,
    texts: Mapping[str, Extraction],
) -> FileChange:
    return FileChange(
        change,
        attachment.name,
        attachment.url,
        old,
        new,
        texts.get(old) if old else None,
        texts.get(new) if new else None,
    )
