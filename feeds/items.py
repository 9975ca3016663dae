"""One feed item per event: identifiers, links, dates and the HTML body, for every format.

Everything that comes from a site (title, body, metadata, attachment names and URLs) is
untrusted: it is stripped of characters XML cannot carry and escaped wherever it meets HTML,
and a link is only made of an http(s) URL, so a `javascript:` attachment stays inert text.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from urllib.parse import urlsplit

from govwatch.feeds.files import ItemFiles, changes_html
from govwatch.parsers.records import CHINA_TZ, META_KEYS, META_LABELS, Attachment
from govwatch.store.diff import diff_bodies, to_html
from govwatch.store.feed_identity import FeedIdentity
from govwatch.store.rows import EVENT_LABELS, FeedEventRow

FIELD_LABELS: dict[str, str] = {"title": "标题", "body": "正文", "attachments": "附件"} | {
    f"meta.{key}": label for key, label in META_LABELS.items()
}
CATEGORY_SCHEME = "urn:govwatch:category"
PUBLISHER_SCHEME = "urn:govwatch:publisher"
SITE_SCHEME = "urn:govwatch:site"
TAG_PREFIX = "tag:govwatch,2026:"
"""GUIDs are RFC 4151 tag URIs: `tag:govwatch,2026:<store instance>/notices/<id>/v<n>#<kind>`."""

# XML 1.0 allows tab, newline, carriage return and these ranges; lxml refuses anything else.
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@dataclass(frozen=True)
class Item:
    """What every format writes for one event; `title` is plain text, `html` is markup."""

    event_id: int
    guid: str
    title: str
    link: str | None
    notice_page: str
    diff_page: str | None
    at: datetime
    html: str
    categories: tuple[tuple[str, str], ...]
    """(scheme, term): the site's name, 主题分类 and 发布机构."""
    index_no: str | None
    issued: datetime | None
    """发文日期 at Asia/Shanghai midnight."""
    extension: dict[str, Any]
    """The JSON Feed `_govwatch` object."""


def item_guid(event: FeedEventRow, base_url: str, identity: FeedIdentity) -> str:
    """The GUID of an event's item: the store, notice, version and kind, so it never changes
    (whatever address serves it) and a revision never takes the GUID of the notice's first
    item. An event from before feed_identity keeps the address-based GUID it was served with."""
    if event.event_id < identity.legacy_before:
        prefix = f"{identity.legacy_base_url or base_url}/"
    else:
        prefix = f"{TAG_PREFIX}{identity.instance}/"
    guid = f"{prefix}notices/{event.notice_id}/v{event.version}#{event.kind}"
    if event.kind == "removed":
        # A notice can be removed, come back and be removed again with the same version.
        guid += f"-{event.event_id}"
    return guid


def build_item(
    event: FeedEventRow, base_url: str, identity: FeedIdentity, files: ItemFiles | None = None
) -> Item:
    """The item of one event; links lead to `base_url`, the GUID does not depend on it.
    `files`: what the store knows of the attachment files (feeds/files.py)."""
    meta = {k: xml_text(event.meta[k]) for k in META_KEYS if event.meta.get(k)}
    title = xml_text(event.title).strip() or "（无标题）"
    notice_page = f"{base_url}/notices/{event.notice_id}"
    revised = event.kind == "revised"
    diff_page = (
        f"{notice_page}/diff?from={event.version - 1}&to={event.version}" if revised else None
    )
    site_name = xml_text(event.site_name)
    categories = (
        (SITE_SCHEME, site_name),
        *(
            (scheme, meta[key])
            for scheme, key in ((CATEGORY_SCHEME, "category"), (PUBLISHER_SCHEME, "publisher"))
            if key in meta
        ),
    )
    extension: dict[str, Any] = {
        "notice_id": event.notice_id,
        "event_id": event.event_id,
        "version": event.version,
        "kind": event.kind,
        "changed_fields": list(event.changed_fields),
        "site": event.site,
        "site_name": site_name,
        "source_url": event.url,
        "notice_url": notice_page,
        "meta": meta,
    }
    if diff_page is not None:
        extension["diff_url"] = diff_page
    return Item(
        event_id=event.event_id,
        guid=item_guid(event, base_url, identity),
        title=f"[{EVENT_LABELS[event.kind]}] {title}",
        link=xml_text(event.url) if is_web_url(event.url) else None,
        notice_page=notice_page,
        diff_page=diff_page,
        at=event.at,
        html=_body_html(event, title, meta, notice_page, diff_page, files or ItemFiles({})),
        categories=categories,
        index_no=meta.get("index_no"),
        issued=shanghai_midnight(meta.get("issued_date")),
        extension=extension,
    )


def xml_text(text: str) -> str:
    """`text` without the control characters a site may carry and XML cannot."""
    return _NOT_XML.sub("", text)


def is_web_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def shanghai_midnight(text: str | None) -> datetime | None:
    """A YYYY-MM-DD date as the start of that day in China; None if it is no such date."""
    try:
        day = date.fromisoformat(text or "")
    except ValueError:
        return None
    return datetime(day.year, day.month, day.day, tzinfo=CHINA_TZ)


def _body_html(
    event: FeedEventRow,
    title: str,
    meta: dict[str, str],
    notice_page: str,
    diff_page: str | None,
    files: ItemFiles,
) -> str:
    seen = event.at.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M")
    links = [_link(xml_text(event.url), "原文"), _link(notice_page, "govwatch 页面")]
    if diff_page is not None:
        links.append(_link(diff_page, f"第 {event.version - 1} 版与第 {event.version} 版对比"))
    site = _esc(xml_text(event.site_name))
    parts = [
        f"<p>{site} · {' · '.join(links)}<br>第 {event.version} 版，{seen}（北京时间）记录</p>"
    ]
    if event.kind == "removed":
        parts.append(
            f"<p><strong>此公告已从原网站撤下。</strong>以下是最后记录的第 {event.version} 版。</p>"
        )
    if meta:
        rows = "".join(
            f"<tr><th>{META_LABELS[key]}</th><td>{_esc(value)}</td></tr>"
            for key, value in meta.items()
        )
        parts.append(f"<table>{rows}</table>")
    if event.kind == "revised":
        parts.append(_changes_html(event, title, meta))
        if files.changes:
            parts.append(changes_html(files, diff_page))
    parts.append("<h3>正文</h3>" + _paragraphs(xml_text(event.body)))
    if event.attachments:
        parts.append("<h3>附件</h3>" + _attachments(event.attachments, files))
    return "\n".join(parts)


def _changes_html(event: FeedEventRow, title: str, meta: dict[str, str]) -> str:
    """What the revision changed: the fields, the old and new title and metadata, the diff."""
    fields = "、".join(FIELD_LABELS.get(f, f) for f in event.changed_fields) or "无"
    parts = [f"<h3>本次修订</h3><p>改动：{_esc(fields)}</p>"]
    if "title" in event.changed_fields and event.previous_title is not None:
        parts.append(
            f"<p>标题：<del>{_esc(xml_text(event.previous_title))}</del> → "
            f"<ins>{_esc(title)}</ins></p>"
        )
    old_meta = event.previous_meta or {}
    changed = [k for k in META_KEYS if f"meta.{k}" in event.changed_fields]
    if changed:
        rows = "".join(
            f"<tr><th>{META_LABELS[key]}</th><td>"
            f"{_marked('del', xml_text(old_meta.get(key, '')))} → "
            f"{_marked('ins', meta.get(key, ''))}</td></tr>"
            for key in changed
        )
        parts.append(f"<table>{rows}</table>")
    if "body" in event.changed_fields and event.previous_body is not None:
        diff = diff_bodies(xml_text(event.previous_body), xml_text(event.body))
        parts.append(f'<div class="diff">\n{to_html(diff)}\n</div>')
    return "\n".join(parts)


def _marked(tag: str, value: str) -> str:
    """A changed metadata value in <del>/<ins>; an absent one as （无）, which was not deleted."""
    return f"<{tag}>{_esc(value)}</{tag}>" if value else "（无）"


def _paragraphs(body: str) -> str:
    return "\n".join(f"<p>{_esc(line)}</p>" for line in body.split("\n") if line.strip())


def _attachments(attachments: tuple[Attachment, ...], files: ItemFiles) -> str:
    entries = []
    for a in attachments:
        name, url = xml_text(a.name) or xml_text(a.url), xml_text(a.url)
        note = files.note(a.sha256)
        said = f"（{_esc(note)}）" if note else ""
        entries.append(
            f"<li>{_link(url, name)}{said}</li>"
            if is_web_url(url)
            else f"<li>{_esc(name)}{said}</li>"
        )
    return f"<ul>{''.join(entries)}</ul>"


def _link(url: str, text: str) -> str:
    if not is_web_url(url):
        return _esc(text)
    return f'<a href="{_esc(url)}">{_esc(text)}</a>'


def _esc(text: str) -> str:
    return html.escape(text, quote=True)
