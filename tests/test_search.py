"""Full-text search (store/search.py): Chinese words of two characters, filters, snippets,
an index that follows every version written, and a rebuild that gives the same index. On
SQLite and (slow) on a real PostgreSQL."""

from __future__ import annotations

import gzip
import json
import random
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result

from govwatch.cli import main
from govwatch.crawler import attachments
from govwatch.crawler.sandbox import Sandbox
from govwatch.feeds.render import FeedBuilder
from govwatch.feeds.topics import search_topic
from govwatch.parsers.attachments.records import Extraction, Format
from govwatch.parsers.records import Attachment, Page
from govwatch.store import Store, search
from govwatch.store.filters import NoticeFilter, notice_day
from govwatch.store.search import EVERYTHING, SearchHit
from govwatch.store.search_text import normalize, parse_query, snippet, tokens
from tests import attachment_files as files
from tests.conftest import FIXTURES, LocalServer
from tests.test_attachment_crawl import Files, crawl, site

JJ, ZD = "jj", "zd"
BASE = "http://feeds.example"
QUERIES = ("双减", "招聘", "学位", "减", "教师", "课后服务", "双减 课后", "pm2.5", "附件", "人事")


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(minutes=1)
        return self.now


def url(n: int) -> str:
    return f"http://www.example.gov.cn/art/{n}.html"


def page(n: int, title: str, body: str, **meta: str) -> Page:
    return Page(
        kind="detail",
        parser="generic",
        url=url(n),
        title=title,
        body=body,
        meta=meta,
        attachments=(Attachment(f"附件{n}.docx", f"http://www.example.gov.cn/f/{n}.docx"),),
    )


NOTICES: tuple[tuple[int, str, Page], ...] = (
    (
        1,
        JJ,
        page(
            1,
            "关于落实双减工作的通知",
            "全面落实双减政策。\n做好课后服务。",
            publisher="靖江市教育局",
            category="教育",
            published_date="2024-05-01",
        ),
    ),
    (
        2,
        JJ,
        page(
            2,
            "教师招聘公告",
            "该大学位于市区，公开招聘教师。",
            publisher="靖江市人力资源局",
            category="人事",
            published_date="2024-06-10",
        ),
    ),
    (
        3,
        ZD,
        page(
            3,
            "学位证书发放通知",
            "学位证书于六月发放。PM2.5 超标时停止户外活动。",
            publisher="张店区教育和体育局",
            published_date="2024-07-01",
        ),
    ),
    (
        4,
        ZD,
        page(
            4,
            "春季植树活动",
            "各单位积极参加植树活动。",
            publisher="张店区人民政府办公室",
            published_date="2023-03-12",
        ),
    ),
)


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    with Store.open(store_url, clock=Clock()) as opened:
        opened.upsert_site(JJ, "靖江市教育局 通知公告", "generic", [])
        opened.upsert_site(ZD, "张店区 通知公告", "generic", [])
        run = opened.start_run([JJ, ZD])
        for _, site, notice in NOTICES:
            opened.record_page(site, notice.url, notice, b"<html></html>", run)
        yield opened


def titles(hits: list[SearchHit]) -> list[str]:
    return [h.title for h in hits]


def marked(hit: SearchHit) -> str:
    return "".join(f"[{text}]" if match else text for text, match in hit.snippet)


def test_tokens_are_bigrams_and_words() -> None:
    assert tokens("落实双减。PM2.5 Über") == ["落实", "实双", "双减", "减", "pm2", "5", "über"]
    assert tokens("ＡＢ１２ 减") == ["ab12", "减"]
    query = parse_query(" 课后服务  PM2.5 课后服务 ")
    assert query.words == ("课后服务", "pm2.5")
    assert [(t.text, t.prefix) for t in query.terms] == [
        ("课后", False),
        ("后服", False),
        ("服务", False),
        ("pm2", False),  # the text's run ends where the query's does
        ("5", True),
    ]
    # 号 last would be a prefix of nearly every document's tokens: the exact check has it.
    assert [(t.text, t.prefix) for t in parse_query("第4321号").terms] == [
        ("第", False),
        ("4321", False),
    ]
    assert not parse_query("第4321号").exact
    # One or two Han characters: the index alone decides; longer words are checked too.
    assert parse_query("双减 减").exact
    assert not parse_query("双减 课后服务").exact and not parse_query("stem").exact
    for bad, message in (("", "需要关键词"), ("，。！", "没有可搜索"), ("长" * 101, "不能超过")):
        with pytest.raises(ValueError, match=message):
            parse_query(bad)


def test_two_character_words_are_found(store: Store) -> None:
    assert titles(store.search("双减")) == ["关于落实双减工作的通知"]
    assert titles(store.search("招聘")) == ["教师招聘公告"]
    # Every occurrence, as Ctrl-F finds it: 大学位于 holds 学位 too.
    assert titles(store.search("学位")) == ["学位证书发放通知", "教师招聘公告"]
    assert titles(store.search("减")) == ["关于落实双减工作的通知"]
    assert titles(store.search("Pm2.5")) == ["学位证书发放通知"]
    assert titles(store.search("双减 课后")) == ["关于落实双减工作的通知"]
    assert titles(store.search("双减 招聘")) == []
    # The bigrams 服务 and 做好 are both in notice 1, but not as 服务做好.
    assert store.search("服务做好") == []
    assert store.search("作业") == []
    # Metadata and attachment names are text too.
    assert titles(store.search("人力资源局")) == ["教师招聘公告"]
    assert titles(store.search("附件4")) == ["春季植树活动"]
    # Words of several runs: each run but the last whole; one Han character last is
    # checked in the text only.
    assert titles(store.search("件4.DOCX")) == ["春季植树活动"]
    assert titles(store.search("发放。pm2.5")) == ["学位证书发放通知"]
    assert store.search("附件4附") == [] and store.search("件4.docx附") == []


def test_filters(store: Store) -> None:
    def found(**filters: object) -> list[str]:
        return titles(store.search("通知", NoticeFilter(**filters)))  # type: ignore[arg-type]

    assert found() == ["学位证书发放通知", "关于落实双减工作的通知"]
    assert found(sites=(JJ,)) == ["关于落实双减工作的通知"]
    assert found(publishers=("教育和体育局",)) == ["学位证书发放通知"]
    assert found(categories=("教育",)) == ["关于落实双减工作的通知"]
    assert found(since=date(2024, 6, 1)) == ["学位证书发放通知"]
    assert found(until=date(2024, 6, 30)) == ["关于落实双减工作的通知"]
    assert found(since=date(2024, 5, 1), until=date(2024, 5, 1)) == ["关于落实双减工作的通知"]
    assert found(kinds=("revised",)) == []
    assert found(kinds=("new",), sites=(ZD,)) == ["学位证书发放通知"]
    assert titles(store.search("公告", NoticeFilter(categories=("人事",)))) == ["教师招聘公告"]
    assert titles(store.search("教师", limit=1)) == ["教师招聘公告"]
    assert store.search("通知", offset=1, limit=5)[0].title == "关于落实双减工作的通知"


def test_snippets_highlight_every_word(store: Store) -> None:
    (hit,) = store.search("双减 课后")
    assert marked(hit) == "全面落实[双减]政策。 做好[课后]服务。"
    assert (hit.url, hit.site_id, hit.site_name, hit.day) == (
        url(1),
        JJ,
        "靖江市教育局 通知公告",
        "2024-05-01",
    )
    (hit,) = store.search("pm2.5")
    assert marked(hit) == "学位证书于六月发放。[PM2.5] 超标时停止户外活动。"
    (hit,) = store.search("人力资源局")  # not in the body: the metadata shows where
    assert marked(hit) == "靖江市[人力资源局]"
    long_text = "前" * 100 + "双减" + "后" * 100
    cut = snippet(parse_query("双减"), [long_text], context=5)
    assert cut == [("…", False), ("前" * 5, False), ("双减", True), ("后" * 5, False), ("…", False)]
    full_width = snippet(parse_query("pm2.5"), ["空气ＰＭ２．５指数"])
    assert full_width == [("空气", False), ("ＰＭ２．５", True), ("指数", False)]


def test_the_index_follows_every_version(store: Store) -> None:
    revised = page(
        2,
        "教师招聘公告（更正）",
        "公开招聘教师。报名截止日期延后。",
        publisher="靖江市人力资源局",
        category="人事",
        published_date="2024-06-10",
    )
    store.record_page(JJ, revised.url, revised, b"<html>2</html>", store.start_run([JJ]))
    (hit,) = store.search("延后")
    assert (hit.version, hit.current_version, hit.title) == (2, 2, "教师招聘公告（更正）")
    # The first version said 大学位于; the search still finds it, as version 1.
    hits = [h for h in store.search("学位") if h.url == url(2)]
    assert [(h.version, h.current_version) for h in hits] == [(1, 2)]
    assert titles(store.search("延后", NoticeFilter(kinds=("revised",)))) == [
        "教师招聘公告（更正）"
    ]
    added = page(5, "学位申请须知", "申请学位须提交材料。", published_date="2024-08-01")
    store.record_page(ZD, added.url, added, b"", store.start_run([ZD]))
    assert titles(store.search("学位"))[0] == "学位申请须知"


def test_a_reextracted_version_is_indexed_again(store: Store) -> None:
    notice = NOTICES[3][2]
    better = page(4, notice.title, "各单位积极参加植树活动。请于三月底前完成。", **notice.meta)
    store.record_page(
        ZD,
        notice.url,
        better,
        b"<html></html>",
        store.start_run([ZD]),
        parser_version="generic@new",
        reclean=lambda raw, content_type: better,
    )
    assert [v.number for v in store.history(notice.url)] == [1]  # re-extracted, no version
    assert titles(store.search("三月底")) == ["春季植树活动"]
    rebuilt = store.rebuild_search_index()
    assert rebuilt == len(NOTICES)
    assert titles(store.search("三月底")) == ["春季植树活动"]


def test_rebuild_equals_incremental(store: Store) -> None:
    revised = page(
        1,
        "关于落实双减工作的通知",
        "全面落实双减政策。\n课后服务延长至18点。",
        publisher="靖江市教育局",
        published_date="2024-05-01",
    )
    store.record_page(JJ, revised.url, revised, b"", store.start_run([JJ]))
    store.record_gone(ZD, url(4), 404, None, threshold=1)
    before = {q: store.search(q, limit=50) for q in QUERIES}
    docs_before = _docs(store)
    seen: list[tuple[int, int]] = []
    assert store.rebuild_search_index(lambda n, total: seen.append((n, total))) == 5
    assert seen[-1] == (5, 5)
    assert {q: store.search(q, limit=50) for q in QUERIES} == before
    assert _docs(store) == docs_before
    assert any(before.values())


def test_a_listing_date_noted_later_dates_the_indexed_versions(store: Store) -> None:
    """A notice without a date of its own is dated by its fetch until a listing shows its
    date: then its documents move to that day, as a rebuild would put them."""
    undated = page(6, "关于开展读书月活动的通知", "读书月活动安排如下。")
    run = store.start_run([ZD])
    store.record_page(ZD, undated.url, undated, b"", run)
    store.record_page(ZD, undated.url, replace(undated, body="读书月活动延期。"), b"", run)
    (hit,) = store.search("读书月")
    assert hit.day == "2025-03-01"  # the fetch's day: no date yet
    assert not store.mark_listed(ZD, undated.url, undated.title, "2024-04-23", run)
    listed = NoticeFilter(since=date(2024, 4, 23), until=date(2024, 4, 23))
    (hit,) = store.search("读书月", listed)
    assert (hit.day, hit.version) == ("2024-04-23", 2)
    assert store.search("读书月", NoticeFilter(since=date(2025, 1, 1))) == []
    assert {d for d in _docs(store) if d[0] == hit.notice_id} == {
        (hit.notice_id, 1, "2024-04-23"),
        (hit.notice_id, 2, "2024-04-23"),
    }
    # A later listing's date does not move it again (the first one a listing showed stays).
    store.mark_listed(ZD, undated.url, undated.title, "2024-05-01", run)
    indexed = _docs(store)
    store.rebuild_search_index()
    assert _docs(store) == indexed


def test_both_ways_to_the_candidates_find_the_same(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL reads a rare word's matches from the GIN index first and walks the
    documents by date for a common one: the same hits either way."""
    if store._engine.dialect.name == "postgresql":
        with store._engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")
    found = {}
    for share in (0.0, 1.0):
        monkeypatch.setattr(search, "FEW_MATCH", share)
        found[share] = {
            q: store.search(q, filters, limit=50)
            for q in QUERIES
            for filters in (EVERYTHING, NoticeFilter(sites=(JJ,), since=date(2024, 6, 1)))
        }
    assert found[0.0] == found[1.0] and any(found[0.0].values())


def test_removed_notices_are_found_and_filtered_by_kind(store: Store) -> None:
    store.record_gone(ZD, url(4), 404, None, threshold=1)
    (hit,) = store.search("植树")
    assert hit.status == "removed"
    assert titles(store.search("植树", NoticeFilter(kinds=("removed",)))) == ["春季植树活动"]
    assert store.search("双减", NoticeFilter(kinds=("removed",))) == []


def test_search_feed_answers_from_the_index(store: Store) -> None:
    builder = FeedBuilder(store, BASE)
    feed = builder.render(search_topic("双减 课后"), "json").body.decode()
    assert "关于落实双减工作的通知" in feed and "招聘" not in feed
    # Found through the index only: a notice the index does not hold is not in the feed.
    with store._engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM search_docs WHERE notice_id = 2"))
    feed = FeedBuilder(store, BASE).render(search_topic("教师"), "json").body.decode()
    assert "教师招聘公告" not in feed
    one_site = FeedBuilder(store, BASE).render(search_topic("学位", site=ZD), "json")
    assert "学位证书发放通知" in one_site.body.decode()
    with pytest.raises(ValueError, match="没有可搜索"):
        search_topic("？！")


def test_notice_day() -> None:
    fetched = datetime(2025, 1, 1, 20, 0, tzinfo=UTC)  # 2025-01-02 in China
    assert notice_day({"issued_date": "2024-02-03"}, "2024-01-01", fetched) == "2024-02-03"
    assert notice_day({"published_date": "2024年"}, "2024-01-01", fetched) == "2024-01-01"
    assert notice_day({}, None, fetched) == "2025-01-02"


def test_a_store_of_an_earlier_release_is_indexed_on_upgrade(tmp_path: Path) -> None:
    db = tmp_path / "release.db"
    db.write_bytes(gzip.decompress((FIXTURES / "stores" / "release-2026-11.db.gz").read_bytes()))
    with Store.open(f"sqlite:///{db}") as store:
        with store._engine.connect() as conn:
            stored = conn.execute(sa.text("SELECT count(*) FROM versions")).scalar_one()
            body = conn.execute(sa.text("SELECT body FROM versions LIMIT 1")).scalar_one()
        assert len(_docs(store)) == stored > 0
        word = next(t for t in tokens(body) if len(t) == 2 and "\u4e00" <= t[0] <= "\u9fff")
        hits = store.search(word, limit=500)
        assert hits and all(word in normalize(h.title + marked(h)) for h in hits)
        before = [(h.url, h.version) for h in hits]
        store.rebuild_search_index()
        assert [(h.url, h.version) for h in store.search(word, limit=500)] == before


def test_an_upgrade_indexes_stored_versions_as_a_rebuild_does(store: Store, store_url: str) -> None:
    """Migration 0008s builds the index with its own copy of the code of its time: on a
    store whose search tables are not there yet, it gives every version the document and
    tokens that the store's own code writes and rebuilds, attachment text included."""
    sha = "b" * 64
    store.save_file(sha, b"%PDF-1.7", Format("pdf", "application/pdf"), "application/pdf")
    text = "附表：课后托管服务收费标准。ＰＭ２．５"
    store.save_text(sha, "g1", Extraction("pdf", "application/pdf", "ok", "pdfium@1", text))
    notice = page(7, "关于公布收费项目的通知", "详见附件。")
    with_file = replace(notice, attachments=(replace(notice.attachments[0], sha256=sha),))
    run = store.start_run([ZD])
    store.record_page(ZD, notice.url, with_file, b"", run)
    store.record_page(ZD, url(8), page(8, "读书月活动", "读书月活动安排。"), b"", run)
    store.mark_listed(ZD, url(9), "未取回的通知", "2024-04-01", run)  # no version yet
    store.record_page(ZD, url(9), page(9, "未取回的通知", "正文。"), b"", run)
    written = _index(store)
    with store._engine.begin() as conn:  # back to a store of the release before search
        conn.exec_driver_sql("DROP TABLE search_fts")
        conn.exec_driver_sql("DROP TABLE search_docs")
        conn.exec_driver_sql("DELETE FROM alembic_version WHERE version_num = '0010p'")
    with Store.open(store_url) as upgraded:
        assert _index(upgraded) == written
        assert len(written) == len(NOTICES) + 3
        assert titles(upgraded.search("托管")) == ["关于公布收费项目的通知"]
        assert [h.day for h in upgraded.search("未取回")] == ["2024-04-01"]  # the listing's
        upgraded.rebuild_search_index()
        assert _index(upgraded) == written


def _index(store: Store) -> set[tuple[int, int, str, frozenset[str]]]:
    """Each document and the tokens the backend's index holds for it."""
    with store._engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql(
                "CREATE VIRTUAL TABLE IF NOT EXISTS temp.search_vocab"
                " USING fts5vocab(main, search_fts, 'instance')"
            )
            rows = conn.exec_driver_sql(
                "SELECT d.notice_id, d.number, d.day, v.term FROM search_docs d"
                " JOIN temp.search_vocab v ON v.doc = d.id"
            )
        else:
            rows = conn.exec_driver_sql(
                "SELECT d.notice_id, d.number, d.day, unnest(tsvector_to_array(f.tokens))"
                " FROM search_docs d JOIN search_fts f ON f.doc_id = d.id"
            )
        found: dict[tuple[int, int, str], set[str]] = {}
        for notice_id, number, day, term in rows:
            found.setdefault((notice_id, number, day), set()).add(term)
    return {(*doc, frozenset(terms)) for doc, terms in found.items()}


def _docs(store: Store) -> set[tuple[int, int, str]]:
    with store._engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT notice_id, number, day FROM search_docs"))
        return {(r.notice_id, r.number, r.day) for r in rows}


def test_search_command(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'govwatch.db'}"
    with Store.open(db, clock=Clock()) as store:
        store.upsert_site(JJ, "靖江市教育局 通知公告", "generic", [])
        store.upsert_site(ZD, "张店区 通知公告", "generic", [])
        run = store.start_run([JJ, ZD])
        for _, site, notice in NOTICES:
            store.record_page(site, notice.url, notice, b"", run)
    runner = CliRunner()

    def search(*args: str) -> Result:
        return runner.invoke(main, ["search", *args, "--db", db])

    found = search("学位", "--format", "json")
    assert found.exit_code == 0, found.output
    rows = json.loads(found.stdout)
    assert [(r["title"], r["site"], r["date"]) for r in rows] == [
        ("学位证书发放通知", ZD, "2024-07-01"),
        ("教师招聘公告", JJ, "2024-06-10"),
    ]
    start, end = rows[1]["highlights"][0]
    assert rows[1]["snippet"][start:end] == "学位" and rows[1]["url"] == url(2)
    one = json.loads(
        search("学位", "--site", JJ, "--since", "2024-06-01", "--format", "json").stdout
    )
    assert [r["title"] for r in one] == ["教师招聘公告"]
    text = search("双减").stdout
    assert text.splitlines() == [
        "2024-05-01  靖江市教育局 通知公告  关于落实双减工作的通知",
        "    全面落实双减政策。 做好课后服务。",
        f"    {url(1)}",
    ]
    rebuilt = search("--rebuild")
    assert rebuilt.exit_code == 0 and rebuilt.stdout.startswith("indexed 4 stored versions in ")
    nothing = search("作业")
    assert (nothing.exit_code, nothing.stdout) == (0, "")
    assert "no notice holds '作业'" in nothing.stderr
    for args, message in (
        (("，",), "QUERY: 关键词里没有可搜索的字词"),
        (("学位", "--site", "nope"), "--site: no site 'nope'"),
        (("学位", "--since", "June"), "--since: not an ISO date"),
        (("学位", "--rebuild"), "--rebuild takes no QUERY"),
    ):
        failed = search(*args)
        assert failed.exit_code == 2 and message in failed.stderr, failed.stderr


def test_attachment_text_is_searched(store: Store) -> None:
    """A file's text, stored before the version that names it, is in that version's text."""
    sha = "a" * 64
    store.save_file(sha, b"%PDF-1.7", Format("pdf", "application/pdf"), "application/pdf")
    text = "附表：课后托管服务收费标准，每生每学期不超过三百元。"
    store.save_text(sha, "g1", Extraction("pdf", "application/pdf", "ok", "pdfium@1", text))
    notice = page(7, "关于公布收费项目的通知", "详见附件。")
    with_file = replace(notice, attachments=(replace(notice.attachments[0], sha256=sha),))
    store.record_page(ZD, notice.url, with_file, b"", store.start_run([ZD]))
    for query in ("托管", "收费标准 三百元"):  # the index alone, and the exact check
        (hit,) = store.search(query)
        assert hit.title == "关于公布收费项目的通知", query
    (hit,) = store.search("收费标准 三百元")
    assert marked(hit) == "附表：课后托管服务[收费标准]，每生每学期不超过[三百元]。"
    feed = FeedBuilder(store, BASE).render(search_topic("收费标准 三百元"), "json")
    assert "关于公布收费项目的通知" in feed.body.decode()
    assert store.rebuild_search_index() == len(NOTICES) + 1
    assert titles(store.search("三百元")) == ["关于公布收费项目的通知"]


def test_a_crawled_attachment_is_found_by_its_text(
    store_url: str, http_server: LocalServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Files fetched by a crawl are read into the index with the version that names them:
    words only a PDF or a DOCX holds find the notice; so does a text a newer extractor
    reads from a file already stored, and a rebuild indexes the same."""
    shelf = Files(http_server)
    shelf.put("/files/sf.pdf", files.pdf(("附表：课后托管服务收费标准", "每生每学期不超过三百元")))
    shelf.put("/files/gw.docx", files.docx_notice())
    seeds = site(
        http_server,
        {
            1: [("附件1：附表.pdf", "/files/sf.pdf")],
            2: [("附件：岗位表.docx", "/files/gw.docx")],
        },
        tmp_path,
    )
    first, second = (f"关于做好2024年第{n}批教师招聘工作的通知" for n in (1, 2))
    with Store.open(store_url) as store:
        assert crawl(store, seeds).sites["qs"].new == 2
        assert titles(store.search("托管")) == [first]  # the index alone decides
        (hit,) = store.search("收费标准 三百元")  # the exact check reads the file's text
        assert (hit.title, marked(hit)) == (
            first,
            "附表：课后托管服务[收费标准] 每生每学期不超过[三百元]",
        )
        assert titles(store.search("初中语文教师")) == [second]
        assert store.search("三百元 语文") == []

        # A release whose extractor reads one more line from the stored PDF.
        extract = Sandbox.extract

        async def newer(sandbox: Sandbox, data: bytes) -> Extraction:
            found = await extract(sandbox, data)
            return (
                replace(found, text=found.text + "\n扫码缴费") if found.format == "pdf" else found
            )

        monkeypatch.setattr(attachments, "generation", lambda: "next-release")
        monkeypatch.setattr(Sandbox, "extract", newer)
        assert crawl(store, seeds).sites["qs"].unchanged == 2
        assert titles(store.search("扫码缴费")) == [first]
        indexed = _index(store)
        store.rebuild_search_index()
        assert _index(store) == indexed


def test_a_huge_notice_is_found(store: Store) -> None:
    """300,000 distinct-looking characters: more bigrams than a PostgreSQL tsvector holds.
    Its title and metadata are still found; what overflows is left out, not the notice."""
    rng = random.Random(7)
    body = "".join(chr(rng.randrange(0x4E00, 0x9FA5)) for _ in range(300_000))
    huge = page(9, "巨型招聘公告", body, publisher="靖江市档案馆")
    run = store.start_run([JJ])
    store.record_page(JJ, huge.url, huge, b"<html></html>", run)
    assert titles(store.search("巨型招聘")) == ["巨型招聘公告"]
    assert titles(store.search("档案馆")) == ["巨型招聘公告"]
    assert titles(store.search(body[:4])) == ["巨型招聘公告"]
