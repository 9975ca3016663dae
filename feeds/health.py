"""The operator feed, `/feeds/_health.<fmt>`: one item each time a site's health changes.

For whoever runs govwatch, not for analysts: a site whose template changed (its listing
yields nothing, its notices lost their body or metadata), a new empty column, a site
that cannot be read, and the crawl at which it came back. A site that stays broken for
days is one item, not one per crawl.
"""

from __future__ import annotations

import hashlib
import html
import json
from typing import cast

from feedgen.feed import FeedGenerator

from govwatch.feeds.render import EPOCH, JSON_FEED_VERSION, MEDIA_TYPES, Feed, Format
from govwatch.store.rows import HealthRow

HEALTH_ID = "_health"
STATUS_LABELS = {
    "ok": "恢复正常",
    "empty": "栏目暂无公告",
    "layout_change": "版面变化",
    "unreachable": "无法访问",
}


def _title(row: HealthRow, names: dict[str, str]) -> str:
    return f"【{STATUS_LABELS[row.status]}】{names.get(row.site_id, row.site_id)}"


def _text(row: HealthRow) -> str:
    y = row.yielded
    figures = (
        f"列表页 {y.listing_read} 页（失败 {y.listing_failed}），列出 {y.listing_items} 条；"
        f"读取公告 {y.notices_read} 篇，有正文 {y.with_body} 篇，有信息公开元数据 {y.with_meta} 篇"
    )
    return f"{row.message}\n{figures}" if row.message else figures


def health_feed(rows: list[HealthRow], names: dict[str, str], base_url: str, fmt: Format) -> Feed:
    """`rows` (newest first, as `Store.health_changes` gives them) as a feed; `names` maps
    site ids to the names people know them by."""
    base_url = base_url.rstrip("/")
    self_url = f"{base_url}/feeds/{HEALTH_ID}.{fmt}"
    updated = rows[0].at.replace(microsecond=0) if rows else EPOCH
    title = "govwatch · 站点健康"
    about = "站点版面变化、无法访问和恢复正常的记录，供运维人员订阅。"
    guid = "govwatch:health:{0.site_id}:{0.run_id}"
    if fmt == "json":
        feed = {
            "version": JSON_FEED_VERSION,
            "title": title,
            "home_page_url": f"{base_url}/healthz",
            "feed_url": self_url,
            "description": about,
            "language": "zh-CN",
            "items": [
                {
                    "id": guid.format(row),
                    "title": _title(row, names),
                    "content_text": _text(row),
                    "date_published": row.at.isoformat(),
                    "_govwatch": {"site": row.site_id, "status": row.status},
                }
                for row in rows
            ],
        }
        body = (json.dumps(feed, ensure_ascii=False, indent=1) + "\n").encode("utf-8")
    else:
        fg = FeedGenerator()
        fg.id(f"{base_url}/feeds/{HEALTH_ID}.atom")
        fg.title(title)
        fg.description(about)
        fg.link(href=self_url, rel="self")
        fg.link(href=f"{base_url}/healthz", rel="alternate")
        fg.language("zh-CN")
        fg.generator("govwatch")
        fg.updated(updated)
        for row in rows:
            fe = fg.add_entry(order="append")
            fe.guid(guid.format(row), permalink=False)
            fe.title(_title(row, names))
            fe.content(html.escape(_text(row)).replace("\n", "<br>"), type="html")
            fe.published(row.at)
            fe.updated(row.at)
        body = cast(bytes, fg.rss_str(pretty=True) if fmt == "rss" else fg.atom_str(pretty=True))
    etag = f'"{hashlib.sha256(body).hexdigest()[:32]}"'
    return Feed(body=body, media_type=MEDIA_TYPES[fmt], etag=etag, last_modified=updated)
