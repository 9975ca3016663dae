"""Records the parsers return: small, frozen, typed; one JSON shape for the CLI and the store."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta, timezone
from typing import Any, Literal

Kind = Literal["detail", "listing", "challenge"]
# What the caller knows a page to be: a crawler reaching a page from a seed's listing URLs
# expects a listing; None lets the parser classify the page itself.
Expect = Literal["detail", "listing"] | None

# Canonical metadata keys, in the order they are shown.
META_KEYS: tuple[str, ...] = (
    "index_no",
    "category",
    "publisher",
    "written_date",
    "issued_date",
    "published_date",
    "doc_no",
    "validity",
    "source",
)


# How the metadata keys are labelled where people read them (feeds, pages).
META_LABELS: dict[str, str] = {
    "index_no": "索引号",
    "category": "主题分类",
    "publisher": "发布机构",
    "written_date": "成文日期",
    "issued_date": "发文日期",
    "published_date": "发布日期",
    "doc_no": "文号",
    "validity": "有效性",
    "source": "来源",
}
# Notices' dates are China's (UTC+8, no daylight saving since 1991): a date printed
# without a time is read in this zone. A fixed offset needs no tz database.
CHINA_TZ = timezone(timedelta(hours=8), "CST")


@dataclass(frozen=True)
class Attachment:
    name: str
    url: str
    sha256: str | None = None
    """The file's content hash once the crawler fetched it (parsers leave it None)."""


@dataclass(frozen=True)
class ListingItem:
    title: str
    url: str
    date: str | None = None


@dataclass(frozen=True)
class Page:
    """What cleaning one page gives: a notice (detail), a listing, or an anti-bot challenge."""

    kind: Kind
    parser: str
    url: str | None = None
    title: str = ""
    body: str = ""
    meta: dict[str, str] = field(default_factory=dict)
    attachments: tuple[Attachment, ...] = ()
    items: tuple[ListingItem, ...] = ()
    next_pages: tuple[str, ...] = ()
    vendor: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "url": self.url, "parser": self.parser}
        if self.kind == "challenge":
            out["vendor"] = self.vendor
            return out
        if self.kind == "listing":
            if self.title:
                out["title"] = self.title
            out["items"] = [{"title": i.title, "url": i.url, "date": i.date} for i in self.items]
            out["next_pages"] = list(self.next_pages)
            return out
        out["title"] = self.title
        out["body"] = self.body
        out["meta"] = {k: self.meta[k] for k in META_KEYS if self.meta.get(k)}
        out["attachments"] = [{"name": a.name, "url": a.url} for a in self.attachments]
        return out

    def to_text(self) -> str:
        """Human-readable rendering for `--format text`."""
        if self.kind == "challenge":
            return f"[反爬虫验证页：{self.vendor}] {self.url or ''}".rstrip()
        if self.kind == "listing":
            lines = [f"{i.date or '          '}  {i.title}  {i.url}" for i in self.items]
            lines += [f"下一页：{u}" for u in self.next_pages]
            return "\n".join(lines)
        lines = [self.title, ""]
        lines += [f"{META_LABELS[k]}：{self.meta[k]}" for k in META_KEYS if self.meta.get(k)]
        if self.meta:
            lines.append("")
        lines.append(self.body)
        if self.attachments:
            lines.append("")
            lines += [f"附件：{a.name} <{a.url}>" for a in self.attachments]
        return "\n".join(lines)
