"""What a push says about one event, and a digest of many, in Markdown.

Apprise sends Markdown as Markdown where the service reads it (DingTalk, Feishu, Telegram,
Slack …) and converts it to plain text or HTML for the others (WeCom bots, mail), so the
message is written once. Site text is untrusted: Markdown's punctuation in it is escaped and
`<`, `>`, `&` become entities, so a title can neither make a link nor carry markup into an
HTML mail; a link is only made of an http(s) URL.
"""

from __future__ import annotations

import re

from govwatch.feeds.items import FIELD_LABELS, is_web_url, xml_text
from govwatch.feeds.topics import Topic
from govwatch.parsers.records import CHINA_TZ
from govwatch.store.deliveries import Message
from govwatch.store.rows import EVENT_LABELS, FeedEventRow

DATE_KEYS = ("published_date", "issued_date", "written_date")
DIGEST_LINES = 20
"""Events per digest message: chat services cut long messages (WeCom at 4 KB)."""

_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|~])")
_ENTITIES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})


def md(text: str) -> str:
    """Site text as Markdown that shows exactly that text."""
    return _MARKDOWN.sub(r"\\\1", xml_text(text).translate(_ENTITIES)).replace("\n", " ")


def link(label: str, url: str) -> str:
    """A Markdown link, or the label alone for what is no web address."""
    if not is_web_url(url):
        return md(label)
    target = url.replace(" ", "%20").replace("(", "%28").replace(")", "%29")
    return f"[{md(label)}]({target})"


def notice_date(event: FeedEventRow) -> str:
    """The notice's own date (发布日期, else 发文日期, 成文日期), else the day it was seen."""
    for key in DATE_KEYS:
        value = event.meta.get(key)
        if value:
            return value
    return event.at.astimezone(CHINA_TZ).date().isoformat()


def event_message(event: FeedEventRow, topic: Topic, base_url: str) -> Message:
    """The message of one event of `topic`: title, site, date, 文号, what a revision
    changed, and links to the notice, its govwatch page and, for a revision, the diff."""
    label = EVENT_LABELS[event.kind]
    title = xml_text(event.title).strip() or "（无标题）"
    notice_page = f"{base_url}/notices/{event.notice_id}"
    facts = [f"专题：{md(topic.title)}", f"站点：{md(event.site_name)}"]
    facts.append(f"日期：{md(notice_date(event))}")
    if event.meta.get("doc_no"):
        facts.append(f"文号：{md(event.meta['doc_no'])}")
    if event.kind == "revised":
        changed = "、".join(FIELD_LABELS.get(f, f) for f in event.changed_fields) or "无"
        facts.append(f"改动：{md(changed)}")
    if event.kind == "removed":
        facts.append("此公告已从原网站撤下")
    links = [link("原文", event.url), link("govwatch 页面", notice_page)]
    if event.kind == "revised":
        old, new = event.version - 1, event.version
        diff_page = f"{notice_page}/diff?from={old}&to={new}"
        links.append(link(f"第 {old} 版与第 {new} 版对比", diff_page))
    body = "\n".join(
        [f"**[{label}] {md(title)}**", "", *(f"- {fact}" for fact in facts), "", " · ".join(links)]
    )
    line = (
        f"- [{label}] {link(title, notice_page)} · {md(event.site_name)} · {md(notice_date(event))}"
    )
    return Message(event.event_id, topic.id, f"[{label}] {title}", body, line)


def digest(lines: list[str]) -> tuple[str, str]:
    """Title and Markdown body of one message standing for the events of `lines`."""
    title = f"govwatch：{len(lines)} 条公告动态"
    return title, "\n".join([f"**{title}**", "", *lines])


def trial_message(topic: Topic) -> tuple[str, str]:
    """What `govwatch notify test TOPIC` sends."""
    title = f"govwatch 测试消息：{topic.title}"
    body = (
        f"**{md(title)}**\n\n专题「{md(topic.title)}」的新公告、修订和撤下会推送到这里。"
        "这是一条测试消息。"
    )
    return title, body
