"""What the HTML pages show, prepared for the templates; the templates only lay it out.

Every piece of site text is untrusted: the environment escapes everything it prints
(autoescape) and strips control characters and bidirectional overrides first (`finalize`),
and links from pages (attachments, sources) are kept only when they are http(s), since an
escaped `javascript:` URL is still a script.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from govwatch.parsers.records import CHINA_TZ, META_KEYS, META_LABELS, Attachment
from govwatch.store.diff import BodyDiff, Segment
from govwatch.store.rows import EVENT_LABELS, VersionRow
from govwatch.text import printable

HERE = Path(__file__).resolve().parent

_FIELD_LABELS = {"title": "标题", "body": "正文", "attachments": "附件", "meta": "元数据"}


DIFF_CONTEXT = 1
"""Unchanged paragraphs shown around a change; longer unchanged runs are folded."""


def finalize(value: Any) -> Any:
    """Jinja's finalize: site text loses control characters before it is escaped."""
    if isinstance(value, str) and not isinstance(value, Markup):
        return printable(value, keep="\t\n")
    return value


def safe_href(url: str) -> str | None:
    """The URL when it is a web address a reader may follow, else None (no link)."""
    parts = urlsplit(url.strip())
    return url.strip() if parts.scheme in ("http", "https") and parts.netloc else None


def local_time(when: datetime | None) -> str:
    return when.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M") if when else ""


def field_label(name: str) -> str:
    """A changed field (`body`, `meta.doc_no` …) as a reader knows it."""
    if name.startswith("meta."):
        return META_LABELS.get(name[5:], name[5:])
    return _FIELD_LABELS.get(name, name)


def meta_rows(meta: dict[str, str]) -> list[tuple[str, str]]:
    """(label, value) in the canonical order, empty values left out."""
    keys = [*META_KEYS, *sorted(set(meta) - set(META_KEYS))]
    return [(META_LABELS.get(k, k), meta[k]) for k in keys if meta.get(k)]


@dataclass(frozen=True)
class DiffRow:
    """One aligned paragraph: the old side with deletions, the new side with insertions;
    None where the paragraph does not exist on that side."""

    op: str
    old: tuple[Segment, ...] | None
    new: tuple[Segment, ...] | None


@dataclass(frozen=True)
class DiffBlock:
    """A run of rows; an unchanged run far from any change is folded away."""

    folded: bool
    rows: tuple[DiffRow, ...]


@dataclass(frozen=True)
class FieldChange:
    label: str
    old: str
    new: str


def diff_rows(d: BodyDiff) -> list[DiffRow]:
    rows = []
    for p in d.paragraphs:
        segments = p.inline()
        old = tuple(s for s in segments if s.op != "insert") if p.old is not None else None
        new = tuple(s for s in segments if s.op != "delete") if p.new is not None else None
        rows.append(DiffRow(p.op, old, new))
    return rows


def diff_blocks(d: BodyDiff, context: int = DIFF_CONTEXT) -> list[DiffBlock]:
    """Rows grouped so changes show with `context` paragraphs around them."""
    rows = diff_rows(d)
    shown = [False] * len(rows)
    for k, row in enumerate(rows):
        if row.op != "equal":
            for j in range(max(0, k - context), min(len(rows), k + context + 1)):
                shown[j] = True
    blocks: list[DiffBlock] = []
    for keep, run in _runs(rows, shown):
        # Folding one or two paragraphs saves nothing and costs a click.
        blocks.append(DiffBlock(folded=not keep and len(run) > 2, rows=run))
    return blocks


def _runs(rows: list[DiffRow], shown: list[bool]) -> Iterator[tuple[bool, tuple[DiffRow, ...]]]:
    start = 0
    for k in range(1, len(rows) + 1):
        if k == len(rows) or shown[k] != shown[start]:
            yield shown[start], tuple(rows[start:k])
            start = k


def field_changes(old: VersionRow, new: VersionRow) -> list[FieldChange]:
    """Title and metadata that differ between two versions."""
    changes = []
    if old.title != new.title:
        changes.append(FieldChange("标题", old.title, new.title))
    keys = [*META_KEYS, *sorted((set(old.meta) | set(new.meta)) - set(META_KEYS))]
    for key in keys:
        before, after = old.meta.get(key, ""), new.meta.get(key, "")
        if before != after:
            changes.append(FieldChange(META_LABELS.get(key, key), before, after))
    return changes


def attachment_changes(
    old: VersionRow, new: VersionRow
) -> tuple[list[Attachment], list[Attachment]]:
    """(added, removed) attachments, in page order, by name and URL (a file replaced
    behind the same link is a change of its own: Store.file_changes)."""
    before = {(a.name, a.url) for a in old.attachments}
    after = {(a.name, a.url) for a in new.attachments}
    return [a for a in new.attachments if (a.name, a.url) not in before], [
        a for a in old.attachments if (a.name, a.url) not in after
    ]


def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=True,
        finalize=finalize,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.filters.update(
        safe_href=safe_href,
        local_time=local_time,
        field_label=field_label,
        meta_rows=meta_rows,
        event_label=lambda kind: EVENT_LABELS.get(kind, kind),
    )
    return env
