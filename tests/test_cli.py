"""The `govwatch` command as a user runs it: a real process, real files, a real HTTP server."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import SEEDS, LocalServer

NOTICE = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>关于开展校园安全检查的通知_某某县教育局</title></head>
<body><div class="nav">首页 | 通知公告</div>
<div class="position">当前位置：首页 &gt; 通知公告</div>
<h1 class="title">关于开展校园安全检查的通知</h1>
<div class="info">发布时间：2024-03-08 10:00 来源：县教育局 浏览次数：<span id="c">77</span></div>
<div class="TRS_Editor"><p>各学校：</p>
<p>　　为做好春季开学<strong>校园安全</strong>工作，决定开展一次全面检查。请各校认真自查，于3月15日前报送自查报告。</p>
<p>附件：<a href="/files/checklist.xlsx">检查清单.xlsx</a></p>
<p style="text-align:right">某某县教育局</p><p style="text-align:right">2024年3月8日</p></div>
<div class="tools">【打印本页】【关闭窗口】</div>
<div class="footer">版权所有：某某县教育局 网站标识码：1234567890</div></body></html>"""


def run(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "govwatch", *args], input=stdin, capture_output=True, timeout=60
    )


@pytest.fixture
def notice_file(tmp_path: Path) -> Path:
    path = tmp_path / "notice.html"
    path.write_text(NOTICE, encoding="utf-8")
    return path


def test_clean_one_file_prints_one_object(notice_file: Path) -> None:
    out = run("clean", str(notice_file), "--url", "http://www.example.gov.cn/tzgg/1.html")
    assert out.returncode == 0, out.stderr
    page = json.loads(out.stdout)
    assert page["kind"] == "detail"
    assert page["title"] == "关于开展校园安全检查的通知"
    assert page["body"].splitlines() == [
        "各学校：",
        "为做好春季开学校园安全工作，决定开展一次全面检查。请各校认真自查，于3月15日前报送自查报告。",
        "附件：检查清单.xlsx",
        "某某县教育局",
        "2024年3月8日",
    ]
    assert page["meta"] == {"published_date": "2024-03-08", "source": "县教育局"}
    assert page["attachments"] == [
        {"name": "检查清单.xlsx", "url": "http://www.example.gov.cn/files/checklist.xlsx"}
    ]


def test_clean_jsonl_keeps_input_order_and_reports_bad_inputs(
    notice_file: Path, tmp_path: Path
) -> None:
    empty = tmp_path / "empty.html"
    empty.write_bytes(b"")
    seed = SEEDS / "004_b68956b91591803f.txt"
    inputs = [str(notice_file), str(empty), str(tmp_path / "missing.html")]
    if seed.exists():
        inputs.append(str(seed))
    out = run("clean", *inputs, "--format", "jsonl")
    assert out.returncode == 1
    rows = [json.loads(line) for line in out.stdout.decode().splitlines()]
    assert [r["input"] for r in rows] == inputs
    assert rows[0]["title"] == "关于开展校园安全检查的通知"
    assert "empty input" in rows[1]["error"]
    assert "no such file" in rows[2]["error"]
    if seed.exists():
        assert rows[3]["meta"]["index_no"] == "014437609/2023-00761"


def test_clean_reads_standard_input() -> None:
    out = run("clean", "-", "--format", "text", stdin=NOTICE.encode("gb18030"))
    assert out.returncode == 0, out.stderr
    assert out.stdout.decode().startswith("关于开展校园安全检查的通知\n")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["clean", "/nonexistent/page.html"], b"no such file"),
        (["clean", "/"], b"is a directory"),
        (["clean", "x.html", "--parser", "nosuch"], b"unknown parser 'nosuch'"),
        (["fetch", "not a url"], b"not a url"),
    ],
)
def test_bad_input_is_one_line_error(args: list[str], message: bytes) -> None:
    out = run(*args)
    assert out.returncode != 0
    assert message in out.stderr
    assert b"Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


def test_fetch_cleans_a_served_page(http_server: LocalServer) -> None:
    url = http_server.page(
        "/tzgg/1.html", NOTICE.encode("gbk"), content_type="text/html; charset=gbk"
    )
    out = run("fetch", url)
    assert out.returncode == 0, out.stderr
    page = json.loads(out.stdout)
    assert page["title"] == "关于开展校园安全检查的通知"
    assert page["attachments"][0]["url"] == http_server.base + "/files/checklist.xlsx"
    user_agent = http_server.requests[0][2]["User-Agent"]
    assert user_agent.startswith("govwatch/")


def test_fetch_reports_http_errors(http_server: LocalServer) -> None:
    out = run("fetch", http_server.base + "/gone.html")
    assert out.returncode == 1
    assert b"HTTP 404" in out.stderr


def test_fetch_reports_a_challenge(http_server: LocalServer) -> None:
    body = b'<html><head><meta content="abc" r="m"><script r="m">$_ts=window["$_ts"];</script></head><body></body></html>'
    url = http_server.page("/ruishu.html", body, status=412)
    out = run("fetch", url)
    assert out.returncode == 1
    assert b"challenge" in out.stderr and b"ruishu" in out.stderr


def test_fetch_reports_a_timeout(http_server: LocalServer) -> None:
    import time

    def slow(_handler: object) -> tuple[int, dict[str, str], bytes]:
        time.sleep(3)
        return 200, {}, b"late"

    http_server.routes["/slow.html"] = slow
    proc = subprocess.run(
        [sys.executable, "-m", "govwatch", "fetch", http_server.base + "/slow.html"],
        capture_output=True,
        timeout=60,
        env={**__import__("os").environ, "GOVWATCH_TIMEOUT": "1"},
    )
    assert proc.returncode == 1
    assert b"timed out" in proc.stderr


LAST_PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>通知公告_某某县教育局</title></head>
<body><div class="nav">首页 | 通知公告 | 政策文件</div>
<div class="position">当前位置：首页 &gt; 通知公告</div>
<ul class="list">
<li><a href="/tzgg/202401/t20240108_3.html">关于做好寒假期间学生安全教育工作的通知</a><span>2024-01-08</span></li>
<li><a href="/tzgg/202312/t20231220_2.html">关于公布2023年度优秀教研成果的通知</a><span>2023-12-20</span></li>
</ul>
<div class="page"><a href="index.html">首页</a><a href="index_1.html">上一页</a><span>3/3</span></div>
<div class="footer">版权所有：某某县教育局 网站标识码：1234567890</div></body></html>"""


def test_clean_kind_listing_reads_a_short_last_page(tmp_path: Path) -> None:
    """Two rows on the last page of a column: a listing when the caller says so, as the
    crawler does for pages it reached from a seed's listing URLs."""
    path = tmp_path / "index_2.html"
    path.write_text(LAST_PAGE, encoding="utf-8")
    url = "http://www.example.gov.cn/tzgg/index_2.html"
    out = run("clean", str(path), "--url", url, "--kind", "listing")
    assert out.returncode == 0, out.stderr
    page = json.loads(out.stdout)
    assert page["kind"] == "listing"
    assert [(i["url"], i["date"]) for i in page["items"]] == [
        ("http://www.example.gov.cn/tzgg/202401/t20240108_3.html", "2024-01-08"),
        ("http://www.example.gov.cn/tzgg/202312/t20231220_2.html", "2023-12-20"),
    ]
    assert page["next_pages"] == []


def test_clean_kind_detail_never_gives_a_listing(notice_file: Path) -> None:
    out = run("clean", str(notice_file), "--kind", "detail")
    assert json.loads(out.stdout)["kind"] == "detail"
    out = run("clean", str(notice_file), "--kind", "listing")
    page = json.loads(out.stdout)
    assert (page["kind"], page["items"]) == ("listing", [])
