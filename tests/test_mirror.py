"""The local mirror, served over real HTTP and read back with the project's parsers.

Each flow is walked as a crawler walks it: listing → every further page the parser
names (POSTing where the parser's request says so) → every notice. The mirror's own
notices are the oracle: titles, bodies, metadata and attachments must come back as
they were put in.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from email.utils import formatdate
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx
import pytest
from click.testing import CliRunner

from govwatch.cli import main
from govwatch.crawler.seeds import load_seeds
from govwatch.demo.mirror import Mirror, MirrorNotice, MirrorSite, bench_mirror, demo_mirror
from govwatch.demo.mirror.flows.hanweb_jpaas import API
from govwatch.demo.mirror.texts import (
    SEED_TEXTS_ENV,
    generated_texts,
    load_seed_texts,
)
from govwatch.errors import ConfigError
from govwatch.parsers import Page, clean_bytes
from govwatch.parsers.registry import Request, get, names

FLOWS = ["generic", "trs_wcm", "hanweb_jcms", "hanweb_jpaas", "sd_gongkai"]

# Parser problems the mirror shows (see the module docstring), by test and flow.
SHORT_LAST_PAGE = "a last listing page with fewer than 5 rows is read as a detail page"
SHORT_BODY = "a body under 20 characters: the content falls back to a wrapper or to nothing"


@pytest.fixture(scope="module")
def mirror() -> Iterator[Mirror]:
    with demo_mirror() as m:
        yield m


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10, trust_env=False) as c:
        yield c


def parser_for(site: MirrorSite) -> str:
    return site.parser if site.parser in names() else "generic"


def fetch(client: httpx.Client, url: str, parser: str) -> httpx.Response:
    """As the crawler asks: GET, or POST of a form where the parser's request says so."""
    spec = get(parser)
    req = spec.request(url) if spec.request else Request("GET", url)
    if req.method == "POST":
        return client.post(req.url, data=dict(req.form))
    return client.get(req.url)


def read(resp: httpx.Response, parser: str) -> Page:
    return clean_bytes(
        resp.content,
        str(resp.url),
        parser=parser,
        content_type=resp.headers.get("content-type"),
    )


def walk(client: httpx.Client, site: MirrorSite) -> list[tuple[str, Page]]:
    """Every listing page from the entry URL on, following next_pages."""
    parser = parser_for(site)
    queue, seen, out = [site.entry_url], set(), []
    while queue and len(out) < 50:
        url = queue.pop(0)
        if url in seen:
            continue
        seen.add(url)
        resp = fetch(client, url, parser)
        assert resp.status_code == 200, (url, resp.status_code)
        page = read(resp, parser)
        out.append((url, page))
        queue += [u for u in page.next_pages if u not in seen]
    return out


# --- hosts ----------------------------------------------------------------


def test_demo_sites_are_distinct_loopback_hosts(mirror: Mirror, client: httpx.Client) -> None:
    assert [s.flow.name for s in mirror.sites] == FLOWS
    assert [s.host for s in mirror.sites] == [f"127.0.0.{i}" for i in range(2, 7)]
    for site in mirror.sites:
        assert client.get(site.entry_url).status_code == 200


def test_bench_mirror_binds_twenty_hosts(client: httpx.Client) -> None:
    with bench_mirror(hosts=20, notices=200) as bench:
        hosts = {urlsplit(s.base_url).hostname for s in bench.sites}
        assert len(hosts) == 20
        assert sum(len(s.notices) for s in bench.sites) == 200
        assert {s.flow.name for s in bench.sites} == set(FLOWS)
        for site in bench.sites:
            resp = client.get(site.entry_url)
            assert resp.status_code == 200 and resp.headers["etag"]
        assert bench.stats().requests == 20


# --- listings and notices, per flow -----------------------------------------


@pytest.mark.parametrize("flow", FLOWS)
def test_listing_pages_reach_every_notice(flow: str, mirror: Mirror, client: httpx.Client) -> None:
    site = mirror.by_flow(flow)
    pages = walk(client, site)
    for url, page in pages:
        assert page.kind == "listing", f"{url}: read as {page.kind}"
        if flow == "hanweb_jpaas" and url == site.entry_url:
            assert not page.items and len(page.next_pages) == 1  # rows come from the API
        else:
            assert page.items, f"{url}: no items"
    items = [item for _, page in pages for item in page.items]
    expected = [(n.title, site.notice_url(n.id), n.date) for n in site.notices]
    assert [(i.title, i.url, i.date) for i in items] == expected
    assert len(pages) == site.flow.listing_fetches(site)


@pytest.mark.parametrize("flow", FLOWS)
def test_notices_read_back(flow: str, mirror: Mirror, client: httpx.Client) -> None:
    site = mirror.by_flow(flow)
    parser = parser_for(site)
    problems = []
    for notice in site.notices:
        resp = client.get(site.notice_url(notice.id))
        assert resp.status_code == 200
        page = read(resp, parser)
        got = {
            "kind": page.kind,
            "title": page.title,
            "body": page.body,
            "meta": page.meta,
            "attachments": [(a.name, a.url) for a in page.attachments],
        }
        want = {
            "kind": "detail",
            "title": notice.title,
            "body": notice.body,
            "meta": site.flow.expected_meta(notice),
            "attachments": [
                (name, site.url(site.flow.attachment_path(site, notice, f)))
                for name, f in notice.attachments
            ],
        }
        wrong = [k for k in want if got[k] != want[k]]
        if wrong:
            problems.append((notice.id, {k: (want[k], got[k]) for k in wrong}))
    assert not problems, f"{len(problems)}/{len(site.notices)} notices misread: {problems[:2]}"


@pytest.mark.parametrize("flow", FLOWS)
def test_short_notice_with_attachment(flow: str, client: httpx.Client) -> None:
    """The common "详见附件。" notice: one short line, the substance in the attachment."""
    with demo_mirror() as fresh:
        site = fresh.by_flow(flow)
        notice = site.make_notice(
            "关于公布2024年学生资助名单的公告",
            ["详见附件。"],
            "2024-07-01",
            attachments=[("附件：资助名单.xlsx", "P020240701000101.xlsx")],
        )
        site.add(notice)
        page = read(client.get(site.notice_url(notice.id)), parser_for(site))
        assert (page.kind, page.title, page.body) == ("detail", notice.title, "详见附件。")
        assert [a.name for a in page.attachments] == ["附件：资助名单.xlsx"]


def test_attachments_are_served(mirror: Mirror, client: httpx.Client) -> None:
    for site in mirror.sites:
        notice = next(n for n in site.notices if n.attachments)
        for _, filename in notice.attachments:
            resp = client.get(site.url(site.flow.attachment_path(site, notice, filename)))
            assert resp.status_code == 200
            assert filename.encode() in resp.content


# --- the paging APIs ----------------------------------------------------------


def test_jcms_dataproxy_wants_a_post(mirror: Mirror, client: httpx.Client) -> None:
    site = mirror.by_flow("hanweb_jcms")
    column = read(client.get(site.entry_url), "hanweb_jcms")
    assert len(column.items) == 30  # groupSize 3 × perPage 10 on the column page
    (proxy,) = column.next_pages
    assert "startrecord=31&endrecord=40&perpage=10" in proxy
    # GET with everything in the query: refused, so a crawler that does not POST fails.
    refused = client.get(proxy)
    assert refused.status_code == 405 and refused.headers["allow"] == "POST"
    # POST without the unit's form fields: refused too.
    paging = urlsplit(proxy)._replace(query="startrecord=31&endrecord=60&perpage=10")
    assert client.post(paging.geturl()).status_code == 400
    # The parser's own request: POST, paging in the query, unit fields as a form.
    spec = get("hanweb_jcms").request
    assert spec is not None
    req = spec(proxy)
    assert req.method == "POST" and ("columnid", site.ident.column_id) in req.form
    resp = client.post(req.url, data=dict(req.form))
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/xml")
    assert b"<datastore>" in resp.content and b"<totalrecord>40</totalrecord>" in resp.content
    page = read(resp, "hanweb_jcms")
    assert [i.url for i in page.items] == [site.notice_url(n.id) for n in site.notices[30:]]
    assert page.next_pages == ()
    log = [e for e in site.log if e.path.startswith("/module/web/jpage/dataproxy.jsp")]
    assert [e.method for e in log[-3:]] == ["GET", "POST", "POST"]


def test_jpaas_pages_only_through_param_json(mirror: Mirror, client: httpx.Client) -> None:
    site = mirror.by_flow("hanweb_jpaas")
    column = read(client.get(site.entry_url), "hanweb_jpaas")
    (first,) = column.next_pages
    query = [(k, v) for k, v in parse_qsl(urlsplit(first).query) if k != "paramJson"]
    base = site.url(API)

    def rows(params: list[tuple[str, str]], encoding: str = "utf-8") -> list[str]:
        resp = client.get(base + "?" + urlencode(params, encoding=encoding))
        assert resp.status_code == 200
        assert resp.headers["content-type"].startswith("application/json")
        answer = resp.json()
        if not answer["success"]:
            return ["success:false"]
        return [i.url for i in read(resp, "hanweb_jpaas").items]

    page1 = [site.notice_url(n.id) for n in site.notices[:15]]
    page2 = [site.notice_url(n.id) for n in site.notices[15:30]]
    param2 = json.dumps({"pageNo": 2, "pageSize": "15"}, separators=(",", ":"))
    assert rows([*query, ("paramJson", param2)]) == page2
    assert rows([*query, ("pageNo", "2")]) == page1  # a bare pageNo is ignored
    assert rows([*query, ("paramJson", param2)], encoding="gbk") == ["success:false"]
    assert rows([(k, v) for k, v in query if k != "tagId"]) == ["success:false"]
    page = read(client.get(first), "hanweb_jpaas")
    assert page.next_pages and json.loads(
        dict(parse_qsl(urlsplit(page.next_pages[0]).query))["paramJson"]
    ) == {"pageNo": 2, "pageSize": "15"}


def test_trs_pages_are_gbk(mirror: Mirror, client: httpx.Client) -> None:
    site = mirror.by_flow("trs_wcm")
    notice = site.notices[0]
    resp = client.get(site.notice_url(notice.id))
    assert resp.headers["content-type"] == "text/html; charset=gbk"
    with pytest.raises(UnicodeDecodeError):
        resp.content.decode("utf-8")
    assert notice.title in resp.content.decode("gbk")
    assert b'charset=gbk"' in resp.content[:400]


# --- HTTP behaviour -----------------------------------------------------------


def test_conditional_get_answers_304(mirror: Mirror, client: httpx.Client) -> None:
    site = mirror.by_flow("trs_wcm")
    for url in (site.entry_url, site.notice_url(site.notices[3].id)):
        first = client.get(url)
        etag, modified = first.headers["etag"], first.headers["last-modified"]
        assert first.headers["content-length"] == str(len(first.content))
        again = client.get(url, headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.content == b""
        assert again.headers["etag"] == etag
        since = client.get(url, headers={"If-Modified-Since": modified})
        assert since.status_code == 304
        stale = client.get(url, headers={"If-None-Match": '"other"'})
        assert stale.status_code == 200 and stale.content == first.content
    assert site.stats().not_modified >= 4


def test_view_counter_changes_bytes_not_the_notice(mirror: Mirror, client: httpx.Client) -> None:
    site = mirror.by_flow("generic")
    assert site.view_counter
    notice = site.notices[0]
    url = site.notice_url(notice.id)
    first = client.get(url)
    second = client.get(url, headers={"If-None-Match": first.headers["etag"]})
    assert second.status_code == 200  # never 304: the page differs on every view
    assert first.content != second.content
    assert first.headers["etag"] != second.headers["etag"]
    assert "浏览次数：" in first.text
    a, b = read(first, "generic"), read(second, "generic")
    assert (a.title, a.body, a.meta) == (b.title, b.body, b.meta)
    assert a.body == notice.body and "浏览次数" not in a.body
    # Listings carry no counter: they still answer 304.
    listing = client.get(site.entry_url)
    repeat = client.get(site.entry_url, headers={"If-None-Match": listing.headers["etag"]})
    assert repeat.status_code == 304


def test_unknown_paths_and_methods(mirror: Mirror, client: httpx.Client) -> None:
    site = mirror.by_flow("generic")
    assert client.get(site.url("/no/such/page.html")).status_code == 404
    assert client.get(site.url("/tzgg/index_99.html")).status_code == 404
    assert client.get(site.url("/tzgg/index_1.html")).status_code == 404
    wrong_date = site.notice_url(site.notices[0].id).replace("/t2024", "/t2023")
    assert client.get(wrong_date).status_code == 404
    head = client.head(site.entry_url)
    assert head.status_code == 200 and head.content == b""
    assert int(head.headers["content-length"]) > 0
    before = site.stats()
    client.get(site.url("/missing"))
    after = site.stats()
    assert after.requests == before.requests + 1 and after.not_found == before.not_found + 1
    assert site.log[-1].path == "/missing" and site.log[-1].status == 404


# --- changes ------------------------------------------------------------------


@pytest.mark.parametrize("flow", FLOWS)
def test_edit_add_remove_show_over_http(flow: str, client: httpx.Client) -> None:
    with demo_mirror() as fresh:
        site = fresh.by_flow(flow)
        parser = parser_for(site)
        target = site.notices[2]
        url = site.notice_url(target.id)
        before = client.get(url)
        etag = before.headers["etag"]

        site.edit(
            target.id, [*target.paragraphs[:-1], "本通知自印发之日起施行，请各单位遵照执行。"]
        )
        after = client.get(url, headers={"If-None-Match": etag})
        assert after.status_code == 200 and after.headers["etag"] != etag
        assert read(after, parser).body.endswith("本通知自印发之日起施行，请各单位遵照执行。")

        added = site.make_notice(
            "关于开展2024年暑期校园安全检查的通知",
            ["各学校：", "为切实做好暑期校园安全工作，现就有关事项通知如下。"],
            "2024-07-01",
        )
        site.add(added)
        first = walk(client, site)
        top = next(p for _, p in first if p.items).items[0]
        assert (top.title, top.url) == (added.title, site.notice_url(added.id))
        assert read(client.get(top.url), parser).title == added.title

        gone = site.notices[5]
        gone_url = site.notice_url(gone.id)
        site.remove(gone.id)
        assert client.get(gone_url).status_code == 404
        listed = {i.url for _, p in walk(client, site) for i in p.items}
        assert gone_url not in listed and url in listed


def test_last_modified_moves_on_change(client: httpx.Client) -> None:
    with demo_mirror() as fresh:
        site = fresh.by_flow("hanweb_jpaas")
        notice = site.notices[0]
        url = site.notice_url(notice.id)
        first = client.get(url)
        modified = first.headers["last-modified"]
        nine_am_china = datetime.fromisoformat(notice.date).replace(
            hour=9, tzinfo=timezone(timedelta(hours=8))
        )
        assert modified == formatdate(nine_am_china.timestamp(), usegmt=True)
        notice.paragraphs.append("（此件公开发布）")  # an in-place change works too
        changed = client.get(url, headers={"If-Modified-Since": modified})
        assert changed.status_code == 200
        assert changed.headers["last-modified"] != modified
        assert (
            client.get(
                url, headers={"If-Modified-Since": changed.headers["last-modified"]}
            ).status_code
            == 304
        )


# --- seeds and text -----------------------------------------------------------


def test_seed_files_load(mirror: Mirror, tmp_path: Path) -> None:
    paths = mirror.seed_files(tmp_path)
    assert [p.name for p in paths] == [f"{s.name}.toml" for s in mirror.sites]
    seeds = load_seeds(tmp_path)
    by_id = {s.id: s for s in seeds}
    for site in mirror.sites:
        seed = by_id[site.name]
        assert seed.parser == parser_for(site)
        assert seed.listing_urls == (site.entry_url,)
        assert seed.allowed_hosts == (site.host,)
        assert seed.max_pages == site.flow.listing_fetches(site) + 1
        assert seed.interval.total_seconds() == 10
        assert seed.topics


def test_without_seed_texts_notices_are_generated(
    client: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No option, no GOVWATCH_SEED_TEXTS: generated notices, wherever govwatch lives (it
    never looks for ../shared on its own)."""
    monkeypatch.delenv(SEED_TEXTS_ENV, raising=False)
    with demo_mirror() as fresh:
        site = fresh.by_flow("hanweb_jpaas")
        notice = site.notices[0]
        assert notice.title == generated_texts()[0].title
        assert notice.title.startswith("关于") and len(notice.paragraphs) >= 5
        page = read(client.get(site.notice_url(notice.id)), "hanweb_jpaas")
        assert page.body == notice.body


SEED_DUMP = """某某县教育局
标题：关于开展春季校园安全大检查的通知
索引号：001/2024-0001 发布日期：2024-03-01
字号：大 中 小
各学校：
为切实做好春季校园安全工作，现就开展校园安全大检查有关事项通知如下。
一、各校要对校舍、食堂、消防设施开展一次全面排查。
二、排查中发现的隐患要建立台账，限期整改到位。
扫一扫在手机打开当前页
"""


def test_seed_texts_come_from_the_option_or_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "001_check.txt").write_text(SEED_DUMP, encoding="utf-8")
    monkeypatch.delenv(SEED_TEXTS_ENV, raising=False)
    (named,) = load_seed_texts(tmp_path)
    assert named.title == "关于开展春季校园安全大检查的通知"
    assert named.paragraphs[0] == "各学校："
    assert not any("扫一扫" in p or "字号" in p for p in named.paragraphs)
    monkeypatch.setenv(SEED_TEXTS_ENV, str(tmp_path))
    assert load_seed_texts() == [named]
    with demo_mirror() as by_env:
        notice = by_env.by_flow("generic").notices[0]
        assert (notice.title, tuple(notice.paragraphs)) == (named.title, named.paragraphs)


@pytest.mark.parametrize("content", [None, "", "短\n"], ids=["missing", "empty", "no notice"])
def test_a_named_directory_without_seed_notices_is_an_error(
    tmp_path: Path, content: str | None
) -> None:
    directory = tmp_path / "texts"
    if content is not None:
        directory.mkdir()
        (directory / "a.txt").write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError, match=str(directory)):
        load_seed_texts(directory)


def test_demo_names_a_bad_seed_texts_directory_in_one_line(tmp_path: Path) -> None:
    missing = tmp_path / "none"
    result = CliRunner().invoke(main, ["demo", "--seed-texts", str(missing)])
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        f"Error: seed texts: {missing} is not a directory"
    ]


def test_column_path_only_where_the_cms_allows_it() -> None:
    site = MirrorSite("xxgk", "hanweb_jpaas", column_path="/xxgk/fdzdgknr/tzgg/")
    assert site.flow.entry_path(site) == "/xxgk/fdzdgknr/tzgg/index.html"
    with pytest.raises(ValueError, match="fixes the path"):
        MirrorSite("trs", "trs_wcm", column_path="/xxgk/tzgg")
    with pytest.raises(ValueError, match="a path like"):
        MirrorSite("rel", "hanweb_jpaas", column_path="xxgk/tzgg")


def test_notice_validation() -> None:
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        MirrorNotice("1", "标题", "2024/01/01", ["正文"])
    with pytest.raises(ValueError, match="unknown meta"):
        MirrorNotice("1", "标题", "2024-01-01", ["正文"], meta={"author": "x"})
    site = MirrorSite("solo", "generic", [MirrorNotice("1", "标题", "2024-01-01", ["正文"])])
    with pytest.raises(ValueError, match="already"):
        site.add(MirrorNotice("1", "标题", "2024-01-02", ["正文"]))
    with pytest.raises(KeyError):
        site.remove("2")
    with pytest.raises(RuntimeError, match="not started"):
        _ = site.base_url
