"""The versioned store, run against SQLite (a temp file) and a real PostgreSQL server."""

from __future__ import annotations

import multiprocessing
import socket
import sqlite3
import traceback
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from govwatch.errors import StoreError
from govwatch.parsers.records import Attachment, Page
from govwatch.store import Outcome, Store
from govwatch.store.hashing import canonical_json, cleaned_record, content_hash
from govwatch.store.schema import include_object, metadata
from tests.stored import known_urls

SITE = "zd"
URL = "http://www.zhangdian.gov.cn/art/2025/3/1/art_1.html"


class Clock:
    """A settable clock, so the tests decide what "now" the store writes."""

    def __init__(self) -> None:
        self.now = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


def page(
    body: str = "第一段。\n第二段。",
    doc_no: str = "张政办字〔2025〕1号",
    title: str = "关于开展春季植树活动的通知",
    **meta: str,
) -> Page:
    return Page(
        kind="detail",
        parser="hanweb_jcms",
        url=URL,
        title=title,
        body=body,
        meta={"doc_no": doc_no, "publisher": "张店区人民政府办公室", **meta},
        attachments=(Attachment("附件1.docx", "http://www.zhangdian.gov.cn/f/1.docx"),),
    )


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(store_url: str, clock: Clock) -> Iterator[Store]:
    with Store.open(store_url, clock=clock) as opened:
        opened.upsert_site(SITE, "张店区", "hanweb_jcms", ["教育"])
        yield opened


@pytest.fixture
def run(store: Store) -> int:
    return store.start_run([SITE])


def kinds(store: Store, **filters: Any) -> list[str]:
    return [e.kind for e in store.events(**filters)]


def test_first_page_is_version_1_and_new(store: Store, run: int) -> None:
    assert store.record_page(SITE, URL, page(), b"<html>1</html>", run) == Outcome("new", 1)
    [event] = store.events()
    assert (event.kind, event.version, event.url, event.site) == ("new", 1, URL, SITE)
    assert event.title == "关于开展春季植树活动的通知"
    notice = store.notice(URL)
    assert notice is not None
    assert (notice.status, notice.current_version, notice.gone_count) == ("active", 1, 0)


def test_same_page_again_is_unchanged_and_writes_nothing(
    store: Store, run: int, clock: Clock
) -> None:
    store.record_page(SITE, URL, page(), b"<html>1</html>", run)
    checked = clock.advance(hours=1)
    # Other raw bytes, same cleaned record: the hash ignores the HTML.
    outcome = store.record_page(SITE, URL, page(), b"<html>other markup</html>", run)
    assert outcome == Outcome("unchanged", 1)
    assert len(store.history(URL)) == 1
    assert kinds(store) == ["new"]
    assert store.version(URL, 1).raw_html() == b"<html>1</html>"
    notice = store.notice(URL)
    assert notice is not None
    assert notice.last_checked_at == checked


def test_changed_body_is_version_2_revised(store: Store, run: int) -> None:
    store.record_page(SITE, URL, page(), b"1", run)
    outcome = store.record_page(SITE, URL, page(body="第一段。\n第二段已修改。"), b"2", run)
    assert outcome == Outcome("revised", 2, ("body",))
    latest = store.events()[0]
    assert (latest.kind, latest.version, latest.changed_fields) == ("revised", 2, ("body",))


def test_changed_meta_key_is_reported_per_key(store: Store, run: int) -> None:
    store.record_page(SITE, URL, page(), b"1", run)
    outcome = store.record_page(SITE, URL, page(doc_no="张政办字〔2025〕2号"), b"2", run)
    assert outcome == Outcome("revised", 2, ("meta.doc_no",))
    added = store.record_page(
        SITE, URL, page(doc_no="张政办字〔2025〕2号", validity="有效"), b"", run
    )
    assert added.changed_fields == ("meta.validity",)


def test_going_back_to_an_old_text_is_a_new_version(store: Store, run: int) -> None:
    store.record_page(SITE, URL, page(), b"1", run)
    store.record_page(SITE, URL, page(body="改了"), b"2", run)
    assert store.record_page(SITE, URL, page(), b"3", run) == Outcome("revised", 3, ("body",))
    hashes = [v.content_hash for v in store.history(URL)]
    assert hashes[0] == hashes[2] != hashes[1]


def test_gone_twice_removes_once_and_keeps_everything(store: Store, run: int) -> None:
    store.record_page(SITE, URL, page(), b"1", run)
    assert store.record_gone(SITE, URL, 404, run) == Outcome("gone_pending", 1)
    assert store.record_gone(SITE, URL, 410, run) == Outcome("removed", 1)
    assert store.record_gone(SITE, URL, 404, run) == Outcome("gone_pending", 1)
    assert kinds(store) == ["removed", "new"]
    notice = store.notice(URL)
    assert notice is not None
    assert (notice.status, notice.gone_count, notice.current_version) == ("removed", 3, 1)
    assert [v.number for v in store.history(URL)] == [1]


def test_page_back_after_removal_is_restored(store: Store, run: int) -> None:
    store.record_page(SITE, URL, page(), b"1", run)
    store.record_gone(SITE, URL, 404, run)
    store.record_gone(SITE, URL, 404, run)
    assert store.record_page(SITE, URL, page(), b"1", run) == Outcome("restored", 1)
    notice = store.notice(URL)
    assert notice is not None
    assert (notice.status, notice.gone_count) == ("active", 0)
    # Removed and restored again, now with a new text: both events, one new version.
    store.record_gone(SITE, URL, 404, run)
    store.record_gone(SITE, URL, 404, run)
    outcome = store.record_page(SITE, URL, page(title="新标题"), b"2", run)
    assert outcome == Outcome("restored", 2, ("title",))
    assert kinds(store) == ["restored", "revised", "removed", "restored", "removed", "new"]


def test_one_gone_answer_between_good_ones_changes_nothing(store: Store, run: int) -> None:
    store.record_page(SITE, URL, page(), b"1", run)
    store.record_gone(SITE, URL, 404, run)
    assert store.record_page(SITE, URL, page(), b"1", run).kind == "unchanged"
    assert store.record_gone(SITE, URL, 404, run).kind == "gone_pending"
    assert kinds(store) == ["new"]


def test_gone_needs_a_known_notice_and_a_gone_status(store: Store, run: int) -> None:
    with pytest.raises(StoreError, match="unknown notice"):
        store.record_gone(SITE, URL, 404, run)
    store.mark_listed(SITE, URL, "标题", None, run)
    with pytest.raises(ValueError, match="HTTP 500"):
        store.record_gone(SITE, URL, 500, run)


def test_mark_listed_creates_a_notice_without_version(
    store: Store, run: int, clock: Clock, store_url: str
) -> None:
    assert store.mark_listed(SITE, URL, "列表里的标题", "2025-03-01", run) is True
    later = clock.advance(days=1)
    assert store.mark_listed(SITE, URL, "列表里的标题", None, run) is False
    notice = store.notice(URL)
    assert notice is not None
    assert notice.current_version is None
    assert (notice.title, notice.listed_date, notice.first_run_id) == (
        "列表里的标题",
        "2025-03-01",
        run,
    )
    assert notice.last_seen_at == later > notice.first_seen_at
    assert known_urls(store_url, SITE) == {URL}
    assert known_urls(store_url, "other") == set()
    assert store.history(URL) == []
    assert store.events() == []
    # The page fetched later is version 1, titled as the page says.
    assert store.record_page(SITE, URL, page(), b"", run).kind == "new"
    assert store.events()[0].title == "关于开展春季植树活动的通知"


def test_unknown_site_is_refused(store: Store, run: int) -> None:
    with pytest.raises(StoreError):
        store.mark_listed("nosuchsite", URL, "标题", None, run)
    assert store.notice(URL) is None


def test_events_filters_newest_first(store: Store, clock: Clock) -> None:
    store.upsert_site("jn", "济南", "trs_wcm", [])
    run = store.start_run([SITE, "jn"])
    other = "http://www.jinan.gov.cn/art/1.html"
    store.record_page(SITE, URL, page(), b"", run)
    start = clock.advance(days=1)
    store.record_page("jn", other, page(), b"", run)
    clock.advance(days=1)
    store.record_page(SITE, URL, page(body="新"), b"", run)
    assert [(e.kind, e.url) for e in store.events()] == [
        ("revised", URL),
        ("new", other),
        ("new", URL),
    ]
    assert [e.url for e in store.events(site="jn")] == [other]
    assert [e.url for e in store.events(kind="new")] == [other, URL]
    assert kinds(store, since=start) == ["revised", "new"]
    assert kinds(store, site=SITE, kind="new", since=start) == []
    assert kinds(store, limit=1) == ["revised"]
    assert all(e.at.tzinfo == UTC for e in store.events())


def test_history_and_version_round_trip(store: Store, run: int, clock: Clock) -> None:
    raw1 = "<html><body>第一版</body></html>".encode("gb18030")
    raw2 = b"<html>" + bytes(range(256)) * 100 + b"</html>"
    store.record_page(SITE, URL, page(), raw1, run)
    fetched = clock.advance(minutes=5)
    store.record_page(SITE, URL, page(body="第二版", doc_no="2号"), raw2, run)
    first, second = store.history(URL)
    assert (first.number, first.changed_fields) == (1, ())
    assert (second.number, second.changed_fields) == (2, ("body", "meta.doc_no"))
    assert second.fetched_at == fetched
    assert len(second.content_hash) == 64
    full = store.version(URL, 2)
    assert full == second
    assert (full.title, full.body) == ("关于开展春季植树活动的通知", "第二版")
    assert full.meta == {"doc_no": "2号", "publisher": "张店区人民政府办公室"}
    assert full.attachments == (Attachment("附件1.docx", "http://www.zhangdian.gov.cn/f/1.docx"),)
    assert store.version(URL, 1).raw_html() == raw1
    assert full.raw_html() == raw2
    with pytest.raises(StoreError, match="no version 3"):
        store.version(URL, 3)
    with pytest.raises(StoreError, match="unknown notice"):
        store.history("http://nowhere/")
    with pytest.raises(StoreError, match="unknown notice"):
        store.version("http://nowhere/", 1)


def test_revisit_due(store: Store, run: int, clock: Clock) -> None:
    def url(name: str) -> str:
        return f"http://www.zhangdian.gov.cn/{name}.html"

    store.record_page(SITE, url("old-checked"), page(), b"", run)
    store.record_page(SITE, url("old-stale"), page(), b"", run)
    store.record_page(SITE, url("old-gone"), page(), b"", run)
    store.mark_listed(SITE, url("never-fetched"), "标题", None, run)
    now = clock.advance(days=40)
    store.record_page(SITE, url("old-checked"), page(), b"", run)
    store.record_gone(SITE, url("old-gone"), 404, run)
    store.record_page(SITE, url("recent"), page(), b"", run)
    later = now + timedelta(hours=1)
    # Never checked first, then least recently checked.
    due = [url("never-fetched"), url("old-stale"), url("old-gone"), url("recent")]
    assert store.revisit_due(SITE, later) == due
    assert store.revisit_due(SITE, later, recent_days=0) == [
        url("never-fetched"),
        url("old-stale"),
        url("old-gone"),
    ]
    soon = store.revisit_due(SITE, now + timedelta(days=8), old_every=timedelta(days=7))
    assert url("old-checked") in soon
    assert store.revisit_due("other", now) == []


def test_runs_errors_and_validators(store: Store, clock: Clock) -> None:
    run = store.start_run([SITE])
    assert store.start_run([SITE]) == run + 1
    store.record_error(run, SITE, URL, "timeout", "read timed out")
    store.record_error(run, SITE, URL, "http_status", "HTTP 503", status=503)
    clock.advance(seconds=1)
    store.record_error(run, SITE, URL, "timeout", "read timed out again")
    errors = store.errors(run)
    assert [(e.kind, e.status, e.message) for e in errors] == [
        ("http_status", 503, "HTTP 503"),
        ("timeout", None, "read timed out again"),
    ]
    assert errors[0].at.tzinfo == UTC
    assert store.errors(run + 1) == []
    store.finish_run(run, {"fetched": 3, "errors": 2})
    with pytest.raises(StoreError, match="unknown crawl run"):
        store.finish_run(999, {})

    assert store.get_validators(URL) == (None, None)
    store.save_validators(URL, '"abc"', "Sat, 01 Mar 2025 08:00:00 GMT")
    assert store.get_validators(URL) == ('"abc"', "Sat, 01 Mar 2025 08:00:00 GMT")
    store.save_validators(URL, None, "Sun, 02 Mar 2025 08:00:00 GMT")
    assert store.get_validators(URL) == (None, "Sun, 02 Mar 2025 08:00:00 GMT")


def test_upsert_site_updates(store: Store, run: int) -> None:
    store.upsert_site(SITE, "淄博市张店区", "trs_wcm", ["教育", "卫生"])
    store.record_page(SITE, URL, page(), b"", run)
    assert store.events(site=SITE)[0].site == SITE


def test_reopening_keeps_data_and_schema_matches_models(store_url: str, clock: Clock) -> None:
    with Store.open(store_url, clock=clock) as first:
        first.upsert_site(SITE, "张店区", "hanweb_jcms", [])
        first.record_page(SITE, URL, page(), b"", first.start_run([SITE]))
    with Store.open(store_url, clock=clock) as again:
        assert [v.number for v in again.history(URL)] == [1]
    engine = sa.create_engine(store_url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"include_object": include_object})
            diff = compare_metadata(context, metadata)
    finally:
        engine.dispose()
    assert diff == []


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: Any) -> None:
    path = tmp_path / "govwatch.db"
    with Store.open(f"sqlite:///{path}") as store:
        run = store.start_run([])
        with pytest.raises(StoreError, match="FOREIGN KEY"):
            store.mark_listed("nosuchsite", URL, "标题", None, run)
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    finally:
        conn.close()


def test_unreachable_postgres_is_a_store_error_without_password() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound but not listening: the connection is refused
        with pytest.raises(StoreError) as caught:
            Store.open(f"postgresql+psycopg://govwatch:s3cret-pw@127.0.0.1:{port}/govwatch")
    message = str(caught.value)
    assert "s3cret-pw" not in message
    assert "govwatch:***@127.0.0.1" in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("not a url :// s3cret-pw", "not a usable database URL"),
        ("mysql://root:s3cret-pw@localhost/db", "unsupported database 'mysql'"),
        ("sqlite:////nonexistent/dir/govwatch.db", "cannot open database"),
    ],
    ids=["garbage", "mysql", "sqlite-no-dir"],
)
def test_bad_urls_are_store_errors(url: str, says: str) -> None:
    with pytest.raises(StoreError, match=says) as caught:
        Store.open(url)
    assert "s3cret-pw" not in str(caught.value)


def hammer(url: str, start: Any, results: Any, rounds: int, notices: int) -> None:
    """One of several processes recording the same pages at the same time."""
    try:
        store = Store.open(url)
        try:
            start.wait()
            store.upsert_site(SITE, "张店区", "hanweb_jcms", ["教育"])
            run = store.start_run([SITE])
            seen: list[str] = []
            for _ in range(rounds):
                for n in range(notices):
                    notice_url = f"{URL}?n={n}"
                    store.mark_listed(SITE, notice_url, "标题", "2025-03-01", run)
                    seen.append(store.record_page(SITE, notice_url, page(), b"<html>", run).kind)
                    store.record_error(run, SITE, notice_url, "timeout", "slow")
            results.put(("ok", seen))
        finally:
            store.close()
    except BaseException:
        results.put(("error", traceback.format_exc()))


def test_concurrent_writers_make_one_version_per_notice(store_url: str) -> None:
    workers, rounds, notices = 2, 20, 5
    Store.open(store_url).close()  # migrate once, so the workers race on the data only
    ctx = multiprocessing.get_context("spawn")
    start, results = ctx.Barrier(workers), ctx.Queue()
    processes = [
        ctx.Process(target=hammer, args=(store_url, start, results, rounds, notices))
        for _ in range(workers)
    ]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=300) for _ in processes]
    for process in processes:
        process.join(timeout=60)
    errors = [detail for status, detail in outcomes if status == "error"]
    assert errors == []
    kinds_seen = [kind for _, seen in outcomes for kind in seen]
    assert kinds_seen.count("new") == notices
    assert kinds_seen.count("unchanged") == notices * (rounds * workers - 1)
    assert len(known_urls(store_url, SITE)) == notices
    with Store.open(store_url) as store:
        for n in range(notices):
            assert [v.number for v in store.history(f"{URL}?n={n}")] == [1]
        assert kinds(store) == ["new"] * notices


def test_the_versioned_record_and_its_hash_are_pinned() -> None:
    """The record a version is hashed from has its own canonical form: a change to it (or to
    the CLI's JSON leaking into it) would make every stored notice look revised."""
    record = cleaned_record(page(doc_no="张政办字〔2025〕1号", issued_date="", source="区政府"))
    assert canonical_json(record) == (
        '{"attachments":[{"name":"附件1.docx","url":"http://www.zhangdian.gov.cn/f/1.docx"}],'
        '"body":"第一段。\\n第二段。","meta":{"doc_no":"张政办字〔2025〕1号",'
        '"publisher":"张店区人民政府办公室","source":"区政府"},"title":"关于开展春季植树活动的通知"}'
    )
    assert content_hash(record) == (
        "b4727cb569afef8f3686cb340e48a3f91a6a2c49805f3dceec1c9fe4fd3040e9"
    )
