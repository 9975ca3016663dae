"""Attachments in a crawl, through real sockets: fetched once, kept once per sha256, their
text extracted; a file replaced behind the same URL is one revision, an unchanged
re-crawl none and no file fetched in full again; hostile files cost only their status."""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from govwatch.cli import main
from govwatch.crawler import attachments, sandbox
from govwatch.crawler.attachments import generation
from govwatch.crawler.engine import Crawler, RunSummary
from govwatch.crawler.seeds import load_seeds
from govwatch.feeds.render import FeedBuilder
from govwatch.feeds.topics import ALL
from govwatch.settings import Settings
from govwatch.store import Store
from tests import attachment_files as files
from tests.conftest import LocalServer
from tests.test_server import live_server

FAST = Settings(retry_base=0.05, concurrency=8, host_concurrency=4)

LISTING = """<html><head><meta charset="utf-8"><title>通知公告</title></head><body>
<div class="list"><ul>{items}</ul></div></body></html>"""
ITEM = '<li><a href="/tzgg/{n}.html">{title}</a><span>2024-06-0{n}</span></li>'
NOTICE = """<html><head><meta charset="utf-8"><title>{title}</title></head><body>
<div class="article"><h1>{title}</h1>
<table class="meta"><tr><td>发布机构：</td><td>青山市教育局</td><td>发布日期：</td><td>2024-06-0{n}</td></tr></table>
<div class="content"><p>各有关学校：</p>
<p>现将有关事项通知如下，详见附件。请各校认真组织，按时报送材料，确保工作顺利开展。</p>
<p>青山市教育局</p><p>2024年6月{n}日</p>
<div class="fujian"><p>附件：</p>{links}</div></div></div></body></html>"""


class Files:
    """Attachment routes that answer with an ETag, and 304 to a request that has it."""

    def __init__(self, server: LocalServer) -> None:
        self.server = server
        self.bodies: dict[str, bytes] = {}
        self.sent: list[str] = []
        """The paths answered in full (200), in order."""

    def put(self, path: str, body: bytes, content_type: str = "application/octet-stream") -> None:
        self.bodies[path] = body

        def route(handler: BaseHTTPRequestHandler) -> tuple[int, dict[str, str], bytes]:
            data = self.bodies[path]
            etag = '"' + hashlib.sha256(data).hexdigest()[:16] + '"'
            if handler.headers.get("If-None-Match") == etag:
                return 304, {"ETag": etag}, b""
            self.sent.append(path)
            return 200, {"ETag": etag, "Content-Type": content_type}, data

        self.server.routes[path] = route

    def mark(self) -> int:
        return len(self.sent)

    def full_fetches(self, since: int) -> list[str]:
        """Attachment paths answered in full since `mark()` said `since`."""
        return self.sent[since:]


def site(
    server: LocalServer,
    notices: dict[int, list[tuple[str, str]]],
    tmp_path: Path,
    *,
    attachments: bool = True,
) -> Path:
    titles = {n: f"关于做好2024年第{n}批教师招聘工作的通知" for n in notices}
    items = "".join(ITEM.format(n=n, title=titles[n]) for n in notices)
    server.page("/tzgg/index.html", LISTING.format(items=items).encode())
    for n, links in notices.items():
        anchors = "".join(f'<p><a href="{path}">{name}</a></p>' for name, path in links)
        server.page(f"/tzgg/{n}.html", NOTICE.format(n=n, title=titles[n], links=anchors).encode())
    seeds = tmp_path / "seeds"
    seeds.mkdir(exist_ok=True)
    (seeds / "qs.toml").write_text(
        f'id = "qs"\nname = "青山市教育局 通知公告"\nparser = "generic"\n'
        f'listing_urls = ["{server.base}/tzgg/index.html"]\nrate = 500.0\n'
        f'interval = "1h"\ntopics = []\nbaseline = false\nattachments = {str(attachments).lower()}\n',
        encoding="utf-8",
    )
    return seeds


def crawl(store: Store, seeds: Path, settings: Settings = FAST) -> RunSummary:
    return asyncio.run(Crawler(store, settings).run(load_seeds(seeds)))


def texts_of(store: Store, url: str) -> dict[str, tuple[str, str, str]]:
    """Attachment name → (format, status, text) of the notice's current version."""
    listed = store.current_attachments(url)
    found = store.texts([a["sha256"] for a in listed if "sha256" in a])
    return {
        a["name"]: (text.format, text.status, text.text)
        for a in listed
        if "sha256" in a
        for text in [found[a["sha256"]].extraction]
    }


def test_every_format_extracted_one_revision_per_replaced_file_none_when_unchanged(
    http_server: LocalServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shelf = Files(http_server)
    pdf = files.pdf()  # reportlab stamps each PDF it writes with the time
    shelf.put("/files/gw.pdf", pdf, "application/pdf")
    shelf.put("/files/gwb.doc", files.docx_notice(), "application/msword")  # a DOCX named .doc
    shelf.put("/files/old.doc", files.doc(), "application/msword")
    # WPS Writer's files are Word documents (a WordDocument stream): a DOC named .wps.
    shelf.put("/files/tz.wps", files.doc(), "application/kswps")
    shelf.put("/files/xx.et", files.wps_xls({"学校名单": (("学校", "学段"), ("青山一中", "初中"))}))
    shelf.put("/files/old.xls", files.xls(), "application/vnd.ms-excel")
    shelf.put("/files/gwb.xlsx", files.xlsx())
    shelf.put("/files/jd.ofd", files.ofd())
    shelf.put("/files/scan.pdf", files.scanned_pdf())
    # Without the ocr extra (test_attachment_ocr.py reads scans with it).
    monkeypatch.setattr(sandbox, "ocr_installed", lambda: False)
    seeds = site(
        http_server,
        {
            1: [
                ("附件1：岗位表.pdf", "/files/gw.pdf"),
                ("附件2：岗位表.doc", "/files/gwb.doc"),
                ("附件3：报名表.pdf", "/files/scan.pdf"),
            ],
            2: [
                ("附件：学校名单.et", "/files/xx.et"),
                ("附件：岗位表.xlsx", "/files/gwb.xlsx"),
                ("附件：旧岗位表.xls", "/files/old.xls"),
            ],
            3: [
                ("决定.ofd", "/files/jd.ofd"),
                ("旧表.doc", "/files/old.doc"),
                ("通知.wps", "/files/tz.wps"),
                ("附件1：岗位表.pdf", "/files/gw.pdf"),
            ],
        },
        tmp_path,
    )
    with Store.open(f"sqlite:///{tmp_path / 'db.sqlite'}") as store:
        first = crawl(store, seeds).sites["qs"]
        assert (first.new, first.revised, first.errors) == (3, 0, 0)
        one = texts_of(store, f"{http_server.base}/tzgg/1.html")
        assert one["附件1：岗位表.pdf"] == (
            "pdf",
            "ok",
            "\n".join((files.TITLE, *files.PARAGRAPHS)),
        )
        assert one["附件2：岗位表.doc"][:2] == ("docx", "ok")
        two = texts_of(store, f"{http_server.base}/tzgg/2.html")
        assert two["附件：学校名单.et"] == (
            "xls",
            "ok",
            "工作表：学校名单\n学校 | 学段\n青山一中 | 初中",
        )
        assert "001 | 初中语文教师 | 2 | 本科及以上" in two["附件：岗位表.xlsx"][2]
        assert "002 | 小学数学教师 | 3 | 本科及以上" in two["附件：旧岗位表.xls"][2]
        three = texts_of(store, f"{http_server.base}/tzgg/3.html")
        assert {name: t[:2] for name, t in three.items()} == {
            "决定.ofd": ("ofd", "ok"),
            "旧表.doc": ("doc", "ok"),
            "通知.wps": ("doc", "ok"),
            "附件1：岗位表.pdf": ("pdf", "ok"),
        }
        assert "各有关学校" in three["决定.ofd"][2] and "联系人：王老师" in three["通知.wps"][2]
        pdf_fetches = [p for _, p, _ in http_server.requests if p == "/files/gw.pdf"]
        assert len(pdf_fetches) == 2  # linked twice; kept once:
        assert store.has_file(hashlib.sha256(pdf).hexdigest())

        # The 岗位表 of notice 2 revised behind the same URL: one revision, its text new.
        posts = (*files.POSTS, ("003", "初中英语教师", "1", "研究生"))
        shelf.put("/files/gwb.xlsx", files.xlsx(posts))
        asked = shelf.mark()
        second = crawl(store, seeds).sites["qs"]
        assert (second.new, second.revised, second.unchanged, second.errors) == (0, 1, 2, 0)
        assert shelf.full_fetches(asked) == ["/files/gwb.xlsx"]
        events = store.events(kind="revised")
        assert [(e.url, e.changed_fields) for e in events] == [
            (f"{http_server.base}/tzgg/2.html", ("attachments",))
        ]
        two = texts_of(store, f"{http_server.base}/tzgg/2.html")
        assert "003 | 初中英语教师 | 1 | 研究生" in two["附件：岗位表.xlsx"][2]

        # Unchanged: no revision, and every file answered 304 to its ETag.
        asked = shelf.mark()
        again = crawl(store, seeds).sites["qs"]
        assert (again.new, again.revised, again.unchanged, again.errors) == (0, 0, 3, 0)
        assert shelf.full_fetches(asked) == []
        assert len(store.events()) == 4

        _cli_shows_and_diffs(tmp_path, f"{http_server.base}/tzgg/2.html")
        feed = json.loads(FeedBuilder(store, "http://govwatch.test").render(ALL, "json").body)
        html_of = {item["title"]: item["content_html"] for item in feed["items"]}
        revised = next(h for t, h in html_of.items() if t.startswith("[修订]"))
        assert "<p>更换：附件：岗位表.xlsx</p>" in revised
        assert "<li>+ 003 | 初中英语教师 | 1 | 研究生</li>" in revised
        assert '/diff?from=1&amp;to=2">完整对比</a>' in revised
        scanned = next(h for h in html_of.values() if "附件3：报名表.pdf" in h)
        assert "附件3：报名表.pdf</a>（扫描件，未提取文字）" in scanned
        notice = store.notice(f"{http_server.base}/tzgg/2.html")
        assert notice is not None
        sheet_sha = store.current_files(f"{http_server.base}/tzgg/2.html")[
            f"{http_server.base}/files/gwb.xlsx"
        ]
        with live_server(store, load_seeds(seeds), [], scheduler=False) as base:
            page = httpx.get(f"{base}/notices/{notice.id}/diff").text
            shown = httpx.get(f"{base}/notices/{notice.id}").text
            stored = httpx.get(f"{base}/notices/{notice.id}/files/{sheet_sha}")
            elsewhere = httpx.get(f"{base}/notices/{notice.id}/files/{'0' * 64}")
        assert f'<a href="/notices/{notice.id}/files/{sheet_sha}">存档副本</a>' in shown
        assert "XLSX · " in shown and "已提取文字" in shown
        assert (stored.status_code, stored.content) == (200, shelf.bodies["/files/gwb.xlsx"])
        assert stored.headers["content-type"] == files.XLSX_TYPE
        assert stored.headers["content-disposition"].startswith("attachment; filename*=UTF-8''")
        assert elsewhere.status_code == 404
        assert "<h2>附件更换：附件：岗位表.xlsx</h2>" in page
        assert "<h2>附件</h2>" not in page  # the same link: no attachment added or removed
        assert "<ins>003 | 初中英语教师 | 1 | 研究生</ins>" in page

        # A release whose extractors differ: every file read again, from the store.
        monkeypatch.setattr(attachments, "generation", lambda: "next-release")
        asked = shelf.mark()
        third = crawl(store, seeds).sites["qs"]
        assert (third.new, third.revised, third.unchanged, third.errors) == (0, 0, 3, 0)
        assert shelf.full_fetches(asked) == []
        assert len(store.events()) == 4  # 3 new, 1 revised: re-extraction makes no event
        sheet = store.current_files(f"{http_server.base}/tzgg/2.html")[
            f"{http_server.base}/files/gwb.xlsx"
        ]
        assert store.has_text(sheet, "next-release") and store.has_text(sheet, generation())


def _cli_shows_and_diffs(tmp_path: Path, url: str) -> None:
    db = f"sqlite:///{tmp_path / 'db.sqlite'}"
    shown = CliRunner().invoke(main, ["show", url, "--db", db, "--format", "json"])
    assert shown.exit_code == 0, shown.output
    record = json.loads(shown.stdout)
    assert record["version"] == 2
    by_name = {a["name"]: a for a in record["attachments"]}
    sheet = by_name["附件：岗位表.xlsx"]
    assert (sheet["media_type"], sheet["status"]) == (files.XLSX_TYPE, "ok")
    assert sheet["extractor"].startswith("python-calamine@")
    assert "003 | 初中英语教师 | 1 | 研究生" in sheet["text"]
    assert len(sheet["sha256"]) == 64
    first = CliRunner().invoke(main, ["show", url, "--db", db, "--version", "1"])
    assert "003 | 初中英语教师" not in first.stdout and "002 | 小学数学教师" in first.stdout
    diffed = CliRunner().invoke(main, ["diff", url, "--db", db])
    assert diffed.exit_code == 0, diffed.output
    assert "附件 replaced: 附件：岗位表.xlsx" in diffed.stdout
    assert "\n+003 | 初中英语教师 | 1 | 研究生\n" in diffed.stdout + "\n"
    as_json = json.loads(
        CliRunner().invoke(main, ["diff", url, "--db", db, "--format", "json"]).stdout
    )
    assert [(f["change"], f["name"]) for f in as_json["files"]] == [
        ("replaced", "附件：岗位表.xlsx")
    ]


def test_files_fetched_the_first_time_complete_the_version_without_an_event(
    http_server: LocalServer, tmp_path: Path
) -> None:
    shelf = Files(http_server)
    shelf.put("/files/gwb.xlsx", files.xlsx())
    links = {1: [("附件：岗位表.xlsx", "/files/gwb.xlsx")]}
    url = f"{http_server.base}/tzgg/1.html"
    with Store.open(f"sqlite:///{tmp_path / 'db.sqlite'}") as store:
        before = crawl(store, site(http_server, links, tmp_path, attachments=False))
        assert (before.sites["qs"].new, shelf.mark()) == (1, 0)
        assert store.current_attachments(url) == [
            {"name": "附件：岗位表.xlsx", "url": f"{http_server.base}/files/gwb.xlsx"}
        ]
        after = crawl(store, site(http_server, links, tmp_path)).sites["qs"]
        assert (after.new, after.revised, after.unchanged, after.errors) == (0, 0, 1, 0)
        assert [e.kind for e in store.events()] == ["new"]
        assert len(store.history(url)) == 1
        assert texts_of(store, url)["附件：岗位表.xlsx"][:2] == ("xlsx", "ok")


@pytest.mark.slow
@pytest.mark.serial
def test_hostile_attachments_each_get_their_status_and_the_crawl_goes_on(
    http_server: LocalServer, tmp_path: Path
) -> None:
    shelf = Files(http_server)
    shelf.put("/files/cut.pdf", files.pdf()[:1500])
    shelf.put("/files/locked.pdf", files.pdf(password="secret"))
    shelf.put("/files/locked.docx", files.encrypted_ooxml(files.docx_notice()))
    shelf.put("/files/bomb.docx", files.zip_bomb(300))
    shelf.put("/files/named.pdf", files.xlsx(), "application/pdf")  # a spreadsheet
    shelf.put("/files/huge.pdf", bytes(200 * 1024 * 1024))
    shelf.put("/files/good.pdf", files.pdf())
    links = [
        ("截断.pdf", "/files/cut.pdf"),
        ("加密.pdf", "/files/locked.pdf"),
        ("加密.docx", "/files/locked.docx"),
        ("炸弹.docx", "/files/bomb.docx"),
        ("名不副实.pdf", "/files/named.pdf"),
        ("超大.pdf", "/files/huge.pdf"),
        ("正常.pdf", "/files/good.pdf"),
        ("不存在.pdf", "/files/gone.pdf"),
    ]
    seeds = site(http_server, {1: links}, tmp_path)
    settings = Settings(retry_base=0.05, extract_memory=256, extract_timeout=30)
    with Store.open(f"sqlite:///{tmp_path / 'db.sqlite'}") as store:
        started = time.monotonic()
        summary = crawl(store, seeds, settings)
        assert time.monotonic() - started < 60
        stats = summary.sites["qs"]
        assert (stats.new, stats.errors) == (1, 2)
        assert sorted((f.url, f.kind) for f in summary.failures) == [
            (f"{http_server.base}/files/gone.pdf", "http_status"),
            (f"{http_server.base}/files/huge.pdf", "too_large"),
        ]
        got = texts_of(store, f"{http_server.base}/tzgg/1.html")
        assert {name: t[:2] for name, t in got.items()} == {
            "截断.pdf": ("pdf", "failed"),
            "加密.pdf": ("pdf", "encrypted"),
            "加密.docx": ("encrypted-ooxml", "encrypted"),
            "炸弹.docx": ("docx", "failed"),
            "名不副实.pdf": ("xlsx", "ok"),
            "正常.pdf": ("pdf", "ok"),
        }
