"""`govwatch add` and `govwatch check` as a user runs them: real processes, real HTTP on
127.0.0.x (the local mirror and a LocalServer), real seed files, a real store."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from govwatch.crawler.seeds import Revisit, Seed, derive_id, load_seed, load_seeds, seed_toml
from govwatch.demo.mirror import Mirror, demo_mirror
from govwatch.parsers.columns import find_columns
from govwatch.store import Store
from tests.conftest import LocalServer

pytestmark = (
    pytest.mark.slow
)  # `govwatch add` and `check` at a real site's rate of one request a second


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "govwatch", *args],
        input=stdin,
        capture_output=True,
        encoding="utf-8",
        timeout=120,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
    )


def one_line_error(out: subprocess.CompletedProcess[str]) -> str:
    """The error of a failed command: one line on stderr, no traceback."""
    assert out.returncode != 0
    assert "Traceback" not in out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    return lines[0]


@pytest.fixture(scope="module")
def mirror() -> Iterator[Mirror]:
    with demo_mirror() as m:
        yield m


# --- a column of the mirror: add, check, crawl --------------------------------------


@pytest.mark.parametrize(
    ("name", "first", "second"),
    [("generic", 10, 10), ("trs-wcm", 10, 10), ("hanweb-jcms", 30, 10)],
)
def test_add_writes_a_seed_that_check_passes_and_crawl_crawls_whole(
    mirror: Mirror, tmp_path: Path, name: str, first: int, second: int
) -> None:
    site = mirror.site(name)
    seeds = tmp_path / "seeds"
    added = run("add", site.entry_url, "--yes", "--seeds", str(seeds))
    assert added.returncode == 0, added.stderr
    assert "result    works" in added.stdout
    (path,) = seeds.glob("*.toml")
    seed = load_seed(path)
    assert (seed.parser, seed.listing_urls, seed.enabled) == (site.parser, (site.entry_url,), True)
    assert seed.id == path.stem and seed.id.startswith(f"{site.host.replace('.', '-')}-")
    assert site.ident.agency in seed.name and "通知公告" in seed.name
    text = path.read_text(encoding="utf-8")
    assert text.startswith(f"# Written by `govwatch add {site.entry_url}`")
    assert f"# Run `govwatch check {seed.id}`" in text

    checked = run("check", seed.id, "--seeds", str(seeds))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"ok      {first} notices listed, {first} dated" in checked.stdout
    assert "notices   3 of 3 cleaned" in checked.stdout
    # The second page: a plain link, a createPageHTML pager, a jcms dataproxy POST.
    assert f"next page: {second} notices listed" in checked.stdout
    assert "result    works" in checked.stdout

    # The written rate, one request a second, is for real sites; loopback goes faster.
    assert "\nrate = 1.0\n" in text
    path.write_text(text.replace("\nrate = 1.0\n", "\nrate = 200.0\n"), encoding="utf-8")
    db = f"sqlite:///{tmp_path / 'g.db'}"
    crawled = run("crawl", "--seeds", str(seeds), "--db", db)
    assert crawled.returncode == 0, crawled.stderr
    label = f"{seed.name} ({seed.id})"
    row = next(line for line in crawled.stdout.splitlines() if line.startswith(label))
    counts = row.removeprefix(label).split()
    new, errors = int(counts[0]), int(counts[5])
    assert (new, errors) == (len(site.notices), 0)
    with Store.open(db) as store:
        listed = {e.url for e in store.events(kind="new")}
    assert listed == {site.notice_url(n.id) for n in site.notices}


def test_add_never_overwrites_a_seed(mirror: Mirror, tmp_path: Path) -> None:
    site = mirror.site("generic")
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    taken = seeds / "taken.toml"
    taken.write_text("# someone's seed\n", encoding="utf-8")
    out = run("add", site.entry_url, "--yes", "--id", "taken", "--seeds", str(seeds))
    assert "already exists" in one_line_error(out)
    assert taken.read_text(encoding="utf-8") == "# someone's seed\n"
    assert [p.name for p in seeds.iterdir()] == ["taken.toml"]


# --- a home page: the column is picked ----------------------------------------------

HOME = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>某某县教育局</title></head>
<body><div class="nav"><a href="/">首页</a> <a href="/jggk/index.html">机构概况</a>
<a href="/zcwj/index.html">政策文件</a> <a href="/hdjl/index.html">互动交流</a></div>
<div class="box"><div class="hd"><h3>通知公告</h3><a class="more" href="/tzgg/index.html">更多&gt;&gt;</a></div>
<ul><li><a href="/tzgg/3.html">关于做好寒假期间学生安全教育工作的通知</a><span>01-08</span></li>
<li><a href="/tzgg/2.html">关于公布2023年度优秀教研成果的通知</a><span>12-20</span></li></ul></div>
<div class="box"><div class="hd"><h3>图片新闻</h3></div><a href="/tpxw/1.html"><img src="/1.jpg"></a></div>
<div class="footer">版权所有：某某县教育局 网站标识码：1234567890</div></body></html>"""

LISTING = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>{column}_某某县教育局</title></head>
<body><div class="nav"><a href="/">首页</a> | <a href="/tzgg/index.html">通知公告</a> | <a href="/zcwj/index.html">政策文件</a></div>
<div class="position">当前位置：首页 &gt; {column}</div><ul class="list">{rows}</ul>
<div class="footer">版权所有：某某县教育局 网站标识码：1234567890</div></body></html>"""

NOTICE = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>{title}_某某县教育局</title></head>
<body><div class="nav">首页 | 通知公告</div><h1 class="title">{title}</h1>
<div class="info">发布时间：{date} 10:00 来源：县教育局</div>
<div class="content"><p>各学校：</p><p>　　现将有关事项通知如下，请各校认真组织实施，并于月底前报送工作总结。</p>
<p>　　联系人：张老师，电话：1234567。</p><p style="text-align:right">某某县教育局</p></div>
<div class="footer">版权所有：某某县教育局 网站标识码：1234567890</div></body></html>"""

COLUMNS = {
    "tzgg": (
        "通知公告",
        ["关于做好寒假期间学生安全教育工作的通知", "关于公布2023年度优秀教研成果的通知"],
    ),
    "zcwj": ("政策文件", ["某某县中小学课后服务管理办法", "某某县学前教育三年行动计划"]),
}


@pytest.fixture
def site(http_server: LocalServer) -> LocalServer:
    """A small site: a home page linking 通知公告 (under a 更多 link) and 政策文件 columns."""
    http_server.page("/", HOME.encode())
    for path, (column, titles) in COLUMNS.items():
        rows = []
        for n, title in enumerate(titles, 1):
            date = f"2024-01-{10 - n:02d}"
            rows.append(f'<li><a href="/{path}/{n}.html">{title}</a><span>{date}</span></li>')
            http_server.page(f"/{path}/{n}.html", NOTICE.format(title=title, date=date).encode())
        listing = LISTING.format(column=column, rows="".join(rows))
        http_server.page(f"/{path}/index.html", listing.encode())
    return http_server


def test_add_on_a_home_page_picks_the_best_column(site: LocalServer, tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    out = run("add", site.base + "/", "--yes", "--seeds", str(seeds))
    assert out.returncode == 0, out.stderr
    assert f"picked 通知公告 (the best-ranked column): {site.base}/tzgg/index.html" in out.stdout
    (seed,) = load_seeds(seeds)
    assert seed.listing_urls == (site.base + "/tzgg/index.html",)
    assert (seed.id, seed.name, seed.parser) == (
        "127-0-0-1-tzgg",
        "某某县教育局 通知公告",
        "generic",
    )
    text = (seeds / f"{seed.id}.toml").read_text(encoding="utf-8")
    assert f"# Column 通知公告 picked on {site.base}/." in text


def test_add_asks_which_column_and_whether_to_write(site: LocalServer, tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    out = run("add", site.base + "/", "--seeds", str(seeds), stdin="2\nn\n")
    assert out.returncode == 1
    assert f"  2. 政策文件  {site.base}/zcwj/index.html" in out.stdout
    assert f"column    {site.base}/zcwj/index.html  (某某县教育局 政策文件)" in out.stdout
    assert "某某县中小学课后服务管理办法" in out.stdout
    assert not seeds.exists()


# --- pages that are not columns ------------------------------------------------------

RUISHU = (
    b'<html><head><meta content="abc" r="m"><script r="m">$_ts=window["$_ts"];</script>'
    b"</head><body></body></html>"
)


@pytest.mark.parametrize(
    ("page", "says"),
    [
        ("notice", "it is a notice (关于做好寒假期间学生安全教育工作的通知)"),
        ("empty", "the page is empty"),
        ("challenge", "an anti-bot challenge (ruishu)"),
        ("missing", "HTTP 404"),
    ],
)
def test_add_on_a_page_that_is_not_a_column_writes_nothing(
    site: LocalServer, tmp_path: Path, page: str, says: str
) -> None:
    site.page("/empty.html", b"")
    site.page("/ruishu.html", RUISHU, status=412)
    url = {
        "notice": "/tzgg/1.html",
        "empty": "/empty.html",
        "challenge": "/ruishu.html",
        "missing": "/gone/index.html",
    }[page]
    seeds = tmp_path / "seeds"
    out = run("add", site.base + url, "--yes", "--seeds", str(seeds))
    error = one_line_error(out)
    assert f"{site.base}{url}: not a column page: {says}" in error
    assert out.stdout == ""
    assert not seeds.exists()


def test_add_on_a_notice_of_the_mirror(mirror: Mirror, tmp_path: Path) -> None:
    site = mirror.site("hanweb-jcms")
    out = run("add", site.notice_url(site.notices[0].id), "--yes", "--seeds", str(tmp_path))
    assert "not a column page: it is a notice" in one_line_error(out)
    assert list(tmp_path.iterdir()) == []


# --- check: what breaks a seed, said plainly ----------------------------------------


def seed_file(tmp_path: Path, url: str) -> Path:
    path = tmp_path / "seeds" / "broken.toml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(
        f'id = "broken"\nname = "broken"\nparser = "generic"\nlisting_urls = ["{url}"]\n'
        'interval = "1h"\nrate = 100.0\nenabled = false\n',
        encoding="utf-8",
    )
    return path


def test_check_a_listing_that_is_gone(http_server: LocalServer, tmp_path: Path) -> None:
    path = seed_file(tmp_path, http_server.base + "/tzgg/index.html")
    for target in ("broken", str(path)):
        out = run("check", target, "--seeds", str(path.parent))
        assert one_line_error(out) == "Error: broken does not work: listing: HTTP 404"
        assert "  FAILED  HTTP 404" in out.stdout
        assert "  fix     the column has moved" in out.stdout


def test_check_a_listing_behind_a_ruishu_wall(http_server: LocalServer, tmp_path: Path) -> None:
    http_server.page("/tzgg/index.html", RUISHU, status=412)
    path = seed_file(tmp_path, http_server.base + "/tzgg/index.html")
    out = run("check", str(path))
    assert one_line_error(out) == (
        "Error: broken does not work: listing: anti-bot challenge (ruishu)"
    )
    assert "  fix     the site answers with an anti-bot JavaScript wall" in out.stdout
    assert [p for _, p, _ in http_server.requests] == ["/tzgg/index.html"]  # no retries


def test_check_a_bare_url_and_a_disabled_seed(site: LocalServer, tmp_path: Path) -> None:
    out = run("check", site.base + "/tzgg/index.html")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "(a bare URL, checked as a generic seed)" in out.stdout
    assert "ok      2 notices listed, 2 dated, newest 2024-01-09" in out.stdout
    assert "notices   2 of 2 cleaned" in out.stdout
    assert "pages     no further listing page found" in out.stdout
    path = seed_file(tmp_path, site.base + "/zcwj/index.html")
    out = run("check", "broken", "--seeds", str(path.parent))
    assert out.returncode == 0, out.stdout + out.stderr
    assert f"note      enabled = false in {path}" in out.stdout


def test_check_an_unknown_id(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    assert "unknown seed id 'nosuch'" in one_line_error(
        run("check", "nosuch", "--seeds", str(seeds))
    )
    missing = one_line_error(run("check", str(tmp_path / "nosuch.toml")))
    assert "nosuch.toml" in missing


# --- the pure parts -------------------------------------------------------------------


def test_seed_toml_round_trips(tmp_path: Path) -> None:
    seed = Seed(
        id="x-tzgg",
        name='某"局"\\ 通知\x7f公告\t',
        parser="hanweb_jcms",
        listing_urls=("http://www.x.gov.cn/col/col1/index.html", "https://x.gov.cn/a?b=1&c=2"),
        max_pages=3,
        interval=timedelta(minutes=90),
        topics=("教育", "通知"),
        encoding="gb18030",
        rate=0.5,
        allowed_hosts=("www.x.gov.cn", "x.gov.cn"),
        revisit=Revisit(recent_days=10, old_every=timedelta(days=2)),
        enabled=False,
    )
    path = tmp_path / "x.toml"
    path.write_text(seed_toml(seed, ["made by a test\n# and not = a key"]), encoding="utf-8")
    assert replace(load_seed(path), path=None) == seed
    plain = replace(seed, encoding=None, allowed_hosts=(), revisit=Revisit(), enabled=True)
    path.write_text(seed_toml(plain), encoding="utf-8")
    assert replace(load_seed(path), path=None) == plain


def test_ids_from_host_and_column() -> None:
    used = {"jingjiang-col6121"}
    assert derive_id("http://www.jingjiang.gov.cn/col/col6121/index.html", used) == (
        "jingjiang-col6121-2"
    )
    assert derive_id("http://jyj.hbqj.gov.cn/zwgk/fdzdgknr/ghjh/index.shtml", used) == (
        "jyj-hbqj-ghjh"
    )
    assert derive_id("https://www.example.gov.cn/", used) == "example"


def test_columns_ranked_by_name_then_host() -> None:
    page = HOME.replace(
        "</body>",
        '<a href="http://xxgk.example.gov.cn/">政府信息公开</a><a href="/">通知</a></body>',
    )
    found = find_columns(page, "http://www.example.gov.cn/")
    assert [(c.name, c.text, c.url) for c in found] == [
        ("通知公告", "通知公告", "http://www.example.gov.cn/tzgg/index.html"),
        ("信息公开", "政府信息公开", "http://xxgk.example.gov.cn/"),
        ("政策文件", "政策文件", "http://www.example.gov.cn/zcwj/index.html"),
    ]
