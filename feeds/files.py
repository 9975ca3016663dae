"""What a feed item says of a notice's attachment files: which have no text (a scan says
扫描件，未提取文字), and for a revision, each file added, removed or replaced with its first
changed lines; the whole diff is on the diff page, so a long table costs a reader nothing."""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass

from govwatch.store import Store
from govwatch.store.file_diff import SCANNED, FileChange
from govwatch.store.rows import FeedEventRow
from govwatch.text import printable

SHOWN_LINES = 5
"""Changed lines of a file shown in an item; the rest are counted."""
NOTES = {
    "needs_ocr": SCANNED,
    "encrypted": "加密，未提取文字",
    "unsupported": "格式不支持，未提取文字",
    "failed": "文字提取失败",
    "timeout": "文字提取超时",
}
CHANGE_LABELS = {"added": "新增", "removed": "删除", "replaced": "更换"}


@dataclass(frozen=True)
class ItemFiles:
    status: Mapping[str, str]
    """sha256 → extraction status of the event's attachment files."""
    changes: tuple[FileChange, ...] = ()

    def note(self, sha256: str | None) -> str | None:
        """What to say after an attachment's name: why it has no text, if it has none."""
        return NOTES.get(self.status.get(sha256 or "", ""))


def item_files(store: Store, event: FeedEventRow) -> ItemFiles:
    shas = [a.sha256 for a in event.attachments if a.sha256]
    status = {sha: t.extraction.status for sha, t in store.texts(shas).items()} if shas else {}
    changes: tuple[FileChange, ...] = ()
    if event.kind == "revised" and "attachments" in event.changed_fields and event.version > 1:
        old = store.version(event.url, event.version - 1)
        new = store.version(event.url, event.version)
        changes = tuple(store.file_changes(old, new))
    return ItemFiles(status, changes)


def changes_html(files: ItemFiles, diff_page: str | None) -> str:
    """Each changed file with its first changed lines, `+` added and `-` removed."""
    parts = ["<h3>附件变动</h3>"]
    for change in files.changes:
        name = html.escape(printable(f"{CHANGE_LABELS[change.change]}：{change.name}"))
        lines = [
            f"{mark} {text}"
            for p in change.diff().paragraphs
            if p.op != "equal"
            for mark, text in (("-", p.old), ("+", p.new))
            if text is not None
        ]
        shown = "".join(f"<li>{html.escape(printable(line))}</li>" for line in lines[:SHOWN_LINES])
        more = len(lines) - SHOWN_LINES
        rest = f"<li>……另有 {more} 行改动</li>" if more > 0 else ""
        parts.append(f"<p>{name}</p><ul>{shown}{rest}</ul>")
    if diff_page is not None:
        parts.append(f'<p><a href="{html.escape(diff_page)}">完整对比</a></p>')
    return "\n".join(parts)
